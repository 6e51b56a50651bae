#!/bin/sh
# SPDX-License-Identifier: ISC
# decision_log: every decision of a known run is in the log exactly once
# with its fields (context values, explained statements); sampling with
# decision_log_denies = all and decision_log_context = keys applied by
# SIGHUP, which also reopens the file (rotation); a stalled reader (a
# FIFO nobody reads) behind a tiny ring: decisions go on at full speed
# and the drops are counted, written + dropped = decisions; a file that
# cannot be opened is reported and retried; bad values are file:line
# errors.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/libobs.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
plan 17
BUNDLE=$top_srcdir/etc/example-bundle.json

# 1: bad values.
bad=0
for kv in "decision_log_sample = 1.5" "decision_log_sample = 0.1234567" \
    "decision_log_sample = abc" "decision_log_sample = -0" \
    "decision_log_denies = some" "decision_log_context = full" \
    "decision_log_ring = 1K" "decision_log_ring = 1T"; do
	write_config "$kv"
	if "$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" >"$tmp/o" 2>&1 ||
	    ! grep -q "kmsauthzd.conf:6: ${kv%% *}: " "$tmp/o"; then
		diag "$kv: $(cat "$tmp/o")"
		bad=1
	fi
done
write_config "decision_log = $tmp/x.jsonl" "decision_log_sample = 0.25" \
    "decision_log_denies = all" "decision_log_context = values" \
    "decision_log_ring = 64K"
"$KMSAUTHZD" -n -v -c "$tmp/kmsauthzd.conf" >"$tmp/o" 2>&1 &&
    grep -qx "decision_log_sample = 0.25" "$tmp/o" &&
    grep -qx "decision_log_ring = 65536" "$tmp/o" &&
    grep -qx "decision_log_denies = all" "$tmp/o" || bad=1
[ $bad -eq 0 ]
ok $? "bad decision_log_* values are errors at kmsauthzd.conf:6; -n -v prints them"

# 2-5: every decision, exactly once, with its fields.
conf_run1() {
	write_config "metrics_listen = 127.0.0.1:0" "seed_bundle = $BUNDLE" \
	    "decision_log = $tmp/dec.jsonl" "$@"
}
conf_run1 "decision_log_context = values"
start_daemon && wait_serving 10 metrics_logged
ok $? "daemon starts with decision_log"
N=3000
$KZOBS run "$tmp/q.sock" "$BUNDLE" $N 4 "$tmp/expected" >"$tmp/run" 2>&1
ok $? "$N checks answered"
written() {
	scrape "$tmp/m" &&
	    [ "$(metric "$tmp/m" kmsauthz_decision_log_records_total)" = "$1" ]
}
wait_serving 10 written $N &&
    [ "$(metric "$tmp/m" kmsauthz_decision_log_dropped_total)" = 0 ]
ok $? "records_total reaches $N, nothing dropped"
$KZOBS compare "$tmp/expected" "$tmp/dec.jsonl" "$(id -u)" >"$tmp/cmp" 2>&1
ok $? "each decision logged once with the right fields: $(tail -1 "$tmp/cmp")"
[ $? -eq 0 ] || head -20 "$tmp/cmp"
st=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}')
printf '%s' "$st" | grep -q "\"DecisionLogWritten\":$N" &&
    printf '%s' "$st" | grep -q '"DecisionLogDropped":0'
ok $? "admin Status: DecisionLogWritten $N, DecisionLogDropped 0"

# 7-9: SIGHUP: rotation, sample 0 with every deny, keys only.
mv "$tmp/dec.jsonl" "$tmp/dec.jsonl.1"
conf_run1 "decision_log_sample = 0" "decision_log_denies = all" \
    "decision_log_context = keys"
kill -HUP "$daemon_pid"
wait_serving 10 grep -q "reload done" "$tmp/daemon.err" &&
    wait_serving 10 test -f "$tmp/dec.jsonl"
ok $? "SIGHUP reopens decision_log (the rotated file left alone)"
$KZOBS run "$tmp/q.sock" "$BUNDLE" 700 2 "$tmp/expected2" >"$tmp/run2" 2>&1
denies=$(awk '$1 != "allow" && $1 != "frames" && $1 != "rate" { s += $3 } END { print s }' "$tmp/run2")
wait_serving 10 written $((N + denies))
ok $? "sample 0, denies all: only the $denies denies of 700 are logged"
[ "$(wc -l <"$tmp/dec.jsonl.1")" -eq $N ] &&
    [ "$(wc -l <"$tmp/dec.jsonl")" -eq "$denies" ] &&
    ! grep -q '"decision":"ALLOW"' "$tmp/dec.jsonl" &&
    ! grep -q '"context":' "$tmp/dec.jsonl" &&
    grep -q '"context_keys":\["test:seq","acs:SecureTransport"\]' "$tmp/dec.jsonl"
ok $? "the new file: denies only, context keys without values"
stop_daemon

# 10-13: a FIFO nobody reads behind a 16 KiB ring.
mkfifo "$tmp/fifo"
write_config "metrics_listen = 127.0.0.1:0" "seed_bundle = $BUNDLE" \
    "decision_log = $tmp/fifo" "decision_log_ring = 16K"
: >"$tmp/daemon.err"
start_daemon && wait_serving 10 metrics_logged
exec 3<>"$tmp/fifo"	# a reader that does not read
fifo_open() {
	ls -l "/proc/$daemon_pid/fd" 2>/dev/null | grep -q "$tmp/fifo"
}
wait_serving 10 fifo_open
ok $? "the daemon opens the FIFO once it has a reader (retried until then)"
M=20000
$KZOBS run "$tmp/q.sock" "$BUNDLE" $M 4 "$tmp/expected3" >"$tmp/run3" 2>&1
rc=$?
rate1=$(sed -n 's/^rate //p' "$tmp/run3")
scrape "$tmp/m"
dropped=$(metric "$tmp/m" kmsauthz_decision_log_dropped_total)
[ $rc -eq 0 ] && [ "$dropped" -gt 0 ]
ok $? "stalled log: $M decisions answered ($rate1/s), $dropped records dropped"
# A read-only open of its own (fd 3, read-write, is no reader's EOF).
cat "$tmp/fifo" 3>&- >"$tmp/fifo.out" &
cpid=$!
sum_is() {
	scrape "$tmp/m" &&
	    [ $(($(metric "$tmp/m" kmsauthz_decision_log_records_total) +
	    $(metric "$tmp/m" kmsauthz_decision_log_dropped_total))) -eq "$1" ]
}
wait_serving 10 sum_is $M
ok $? "once read: written + dropped = $M decisions"
# The same load with nothing logged, for comparison.
sed -i 's/^decision_log_ring.*/&\ndecision_log_sample = 0/' "$tmp/kmsauthzd.conf"
kill -HUP "$daemon_pid"
wait_serving 10 grep -q "reload done" "$tmp/daemon.err"
$KZOBS run "$tmp/q.sock" "$BUNDLE" $M 4 "$tmp/expected4" >"$tmp/run4" 2>&1
rate2=$(sed -n 's/^rate //p' "$tmp/run4")
[ "${rate1:-0}" -ge $((${rate2:-0} / 3)) ]
ok $? "decisions went on at full speed: $rate1/s with the log stalled, $rate2/s with nothing logged"
w=$(metric "$tmp/m" kmsauthz_decision_log_records_total)
stop_daemon
exec 3>&-
wait $cpid
[ "$(wc -l <"$tmp/fifo.out")" -eq "$w" ]
ok $? "the reader got exactly the $w records counted as written"

# 15-16: a file that cannot be opened yet.
write_config "seed_bundle = $BUNDLE" "decision_log = $tmp/later/dec.jsonl"
: >"$tmp/daemon.err"
start_daemon &&
    "$KZCLIENT" check "$tmp/q.sock" acs:ram::1:user/a kms:Decrypt \
    acs:kms:cn-hangzhou:1:key/k 10.0.0.1 >/dev/null &&
    grep -q "decision_log $tmp/later/dec.jsonl: cannot open" "$tmp/daemon.err"
ok $? "an unopenable decision_log is reported; decisions go on"
mkdir "$tmp/later"
wait_serving 10 test -s "$tmp/later/dec.jsonl" &&
    grep -q '"principal":"acs:ram::1:user/a"' "$tmp/later/dec.jsonl"
ok $? "retried: the record waiting in the ring is written once it can be"

finish
