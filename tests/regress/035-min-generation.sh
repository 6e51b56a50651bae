#!/bin/sh
# SPDX-License-Identifier: ISC
# Consistency tokens (docs/protocol.md, "CHECK extension"): a check that
# asks for generation N or later.  At the served generation it is
# answered at once; one above it is answered ERROR STALE (a deny) after
# min_generation_wait_ms, by kmsauthzctl, libkmsauthz and a raw client;
# pipelined requests keep their order around it; the bounds answer STALE
# at once.  With a long wait (SIGHUP): checks parked until an admin change
# publishes their generation are answered then, with it, while the
# worker's other connections (one worker) are served meanwhile and the
# parked connection's later answers wait behind it.  A malformed
# extension is ERROR PROTO naming the fault, the daemon still serving;
# a parked check at shutdown is answered SHUTDOWN.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 27

C=$KMSAUTHZCTL
ACCT=1192853035118888
KID=key-hzz6304944631ejqjx0002
KEY=acs:kms:cn-hangzhou:$ACCT:key/$KID
P=acs:ram::$ACCT:user/alice
E2E=$top_builddir/tests/regress/libe2e

generation() {
	"$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^generation=//p'
}
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
# expect DESCRIPTION FILE TEXT: FILE is exactly TEXT.
expect() {
	if [ "$(cat "$2")" = "$3" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		diag "expected: $(echo "$3" | tr '\n' '|')"
		diag "got:      $(tr '\n' '|' <"$2")"
	fi
}
pipe() {
	"$KZCLIENT" pipe "$tmp/q.sock" "$P" kms:Decrypt "$KEY" "$@"
}
reloaded() {	# reloaded N: N reloads finished, says the log
	[ "$(grep -c 'reload done' "$tmp/daemon.err")" -ge "$1" ]
}
tag() {
	# shellcheck disable=SC2086
	"$C" TagResource --KeyId $KID --Tags \
	    "[{\"TagKey\":\"t\",\"TagValue\":\"$1\"}]" \
	    --socket "$tmp/a.sock" >/dev/null
}

write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "threads = 1" "min_generation_wait_ms = 200" \
    "max_parked_checks = 3" "max_parked_checks_per_connection = 2"
start_daemon
ok $? "daemon starts (one worker, min_generation_wait_ms 200)"
g=$(generation)
G=$((g + 1))

# 1. At the served generation: answered at once, as without it.
out=$("$C" check --socket "$tmp/q.sock" --principal "$P" \
    --action kms:Decrypt --resource "$KEY" --min-generation "$g" 2>&1)
[ "$out" = "{\"Decision\":\"ALLOW\",\"Reason\":\"allowed-by-key-policy\",\"Generation\":$g}" ]
ok $? "kmsauthzctl check --min-generation $g (served): ALLOW at generation $g ($out)"

# 2. One above, nothing changes: STALE after the wait, a deny.
t0=$(now_ms)
"$C" check --socket "$tmp/q.sock" --principal "$P" --action kms:Decrypt \
    --resource "$KEY" --min-generation "$G" >"$tmp/out" 2>"$tmp/err"
rc=$?
t1=$(now_ms)
[ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q "generation $G not reached" "$tmp/err" &&
    [ $((t1 - t0)) -ge 190 ]
ok $? "--min-generation $G (not served): STALE after $((t1 - t0)) ms, exit $rc, no answer ($(tr '\n' ' ' <"$tmp/err"))"
"$E2E" mingen "$tmp/q.sock" "$G" >"$tmp/out" 2>&1
ok $? "libkmsauthz: the handle stays usable after KMSAUTHZ_ESTALE"
grep -q "^check ESTALE .* reads IMPLICIT_DENY: generation $G not reached" "$tmp/out" &&
    grep -q "^batch ESTALE .* reads IMPLICIT_DENY" "$tmp/out"
ok $? "libkmsauthz: check and batch are KMSAUTHZ_ESTALE, denied ($(tr '\n' '|' <"$tmp/out"))"
"$E2E" mingen "$tmp/q.sock" "$g" >"$tmp/out" 2>&1
grep -q "^check ALLOW $g\$" "$tmp/out" && grep -q "^batch IMPLICIT_DENY $g\$" "$tmp/out"
ok $? "libkmsauthz: at the served generation, answered ($(tr '\n' '|' <"$tmp/out"))"

# 3. Pipelined: the answers after a parked check wait for it, in order.
pipe check ping "check@$G" ping check "batch@$G" check >"$tmp/out"
expect "pipelined around a parked check: answers in request order" \
    "$tmp/out" "1 ANSWER ALLOW $g
2 PONG
3 ERROR 9 generation $G not reached within min_generation_wait_ms (serving $g)
4 PONG
5 ANSWER ALLOW $g
6 ERROR 9 generation $G not reached within min_generation_wait_ms (serving $g)
7 ANSWER ALLOW $g"

# 4. The bound per connection: the third waits for nothing.
pipe "check@$G" "check@$G" "check@$G" ping >"$tmp/out"
expect "max_parked_checks_per_connection 2: the third is STALE at once, in its turn" \
    "$tmp/out" "1 ERROR 9 generation $G not reached within min_generation_wait_ms (serving $g)
2 ERROR 9 generation $G not reached within min_generation_wait_ms (serving $g)
3 ERROR 9 generation $G not reached (serving $g): max_parked_checks_per_connection waiting
4 PONG"
ge "$(astat ParkedRefused)" 1 && ge "$(astat ParkedTimedOut)" 6
ok $? "the admin Status counts them (ParkedTimedOut $(astat ParkedTimedOut), ParkedRefused $(astat ParkedRefused))"

# 5. A malformed extension: ERROR PROTO naming it, then closed.
pipe check "ext:020000000000000000000001" >"$tmp/out"
expect "extension version 2: PROTO, closed" "$tmp/out" "1 ANSWER ALLOW $g
2 ERROR 1 minimum generation extension: unknown version
CLOSED"
pipe "ext:010000000000000000000000" >"$tmp/out"
expect "generation 0: PROTO, closed" "$tmp/out" \
    "1 ERROR 1 minimum generation extension: generation 0
CLOSED"
pipe "ext:01000000" >"$tmp/out"
expect "cut short: PROTO, closed" "$tmp/out" \
    "1 ERROR 1 minimum generation extension cut short
CLOSED"
pipe "ext:010100000000000000000005" >"$tmp/out"
expect "non-zero extension flags: PROTO, closed" "$tmp/out" \
    "1 ERROR 1 minimum generation extension: non-zero flags or reserved bytes
CLOSED"
"$KZCLIENT" check "$tmp/q.sock" "$P" kms:Decrypt "$KEY" >/dev/null
ok $? "the daemon keeps serving after the malformed extensions"

# 6. A long wait: parked checks are answered when the generation comes.
sed 's/^min_generation_wait_ms = 200$/min_generation_wait_ms = 30000/' \
    "$tmp/kmsauthzd.conf" >"$tmp/conf.new" && mv "$tmp/conf.new" "$tmp/kmsauthzd.conf"
kill -HUP "$daemon_pid"
wait_until 10 reloaded 1
ok $? "SIGHUP: min_generation_wait_ms 30000"

"$C" check --socket "$tmp/q.sock" --timeout 60000 --principal "$P" \
    --action kms:Decrypt --resource "$KEY" --min-generation "$G" \
    >"$tmp/ctl.out" 2>&1 &
ctl=$!
KZ_TIMEOUT_MS=60000 "$KZCLIENT" pipe "$tmp/q.sock" "$P" kms:Decrypt "$KEY" \
    "check@$G" ping check >"$tmp/pipe.out" 2>&1 &
pip=$!
KZ_TIMEOUT_MS=60000 "$KZCLIENT" pipe "$tmp/q.sock" "$P" kms:Decrypt "$KEY" \
    "batch@$G" >"$tmp/batch.out" 2>&1 &
bat=$!
parked() { [ "$(astat ParkedChecks)" = "$1" ]; }
wait_until 20 parked 3
ok $? "three requests on three connections parked (ParkedChecks $(astat ParkedChecks))"

out=$("$KZCLIENT" check "$tmp/q.sock" "$P" kms:Decrypt "$KEY")
[ "$out" = "ALLOW 2 $g" ] && "$KZCLIENT" ping "$tmp/q.sock" && parked 3
ok $? "the worker's other connections are answered meanwhile ($out), the three still parked"
[ ! -s "$tmp/pipe.out" ] && [ ! -s "$tmp/ctl.out" ]
ok $? "the parked connection's later PING and CHECK wait behind its parked check"
pipe "check@$G" >"$tmp/out"
expect "max_parked_checks 3 (all connections): the fourth is STALE at once" \
    "$tmp/out" "1 ERROR 9 generation $G not reached (serving $g): max_parked_checks waiting"

tag one
ok $? "an admin change (TagResource) publishes generation $G"
wait_until 20 pid_gone "$ctl" && wait_until 20 pid_gone "$pip" &&
    wait_until 20 pid_gone "$bat"
ok $? "the parked clients are answered"
wait "$ctl"
rc=$?
grep -q "\"Decision\":\"ALLOW\".*\"Generation\":$G}" "$tmp/ctl.out" && [ $rc -eq 0 ]
ok $? "kmsauthzctl: ALLOW at generation $G, exit $rc ($(cat "$tmp/ctl.out"))"
expect "raw client: the parked check at $G, then its PING and CHECK in order" \
    "$tmp/pipe.out" "1 ANSWER ALLOW $G
2 PONG
3 ANSWER ALLOW $g"
expect "a parked CHECK_BATCH is decided whole at $G" "$tmp/batch.out" \
    "1 BATCH 2 $G"
[ "$(astat ParkedChecks)" = 0 ] && ge "$(astat ParkedAnswered)" 3
ok $? "nothing parked any more; ParkedAnswered $(astat ParkedAnswered)"

# 7. Shutdown: a parked check is answered SHUTDOWN, its PING after it.
KZ_TIMEOUT_MS=60000 "$KZCLIENT" pipe "$tmp/q.sock" "$P" kms:Decrypt "$KEY" \
    "check@$((G + 5))" ping >"$tmp/out" 2>&1 &
pip=$!
wait_until 20 parked 1
stop_daemon
wait_until 20 pid_gone "$pip"
expect "at shutdown a parked check is answered SHUTDOWN, in order" \
    "$tmp/out" "1 ERROR 8 daemon stopping
2 PONG
CLOSED"
finish
