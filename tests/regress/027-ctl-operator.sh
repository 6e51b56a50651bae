#!/bin/sh
# SPDX-License-Identifier: ISC
# What a new operator meets: --help, -h and --version everywhere; a
# full admin socket, a stopped daemon and a socket the caller may not use
# each reported in words with exit 2 (never a silent SIGPIPE death);
# KMSAUTHZ_SOCKET for the query commands; status showing both sockets;
# --Name=VALUE and a repeated parameter; check of a bare KeyId; a missing
# default configuration file; the daemon quiet on its terminal once it
# has detached.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
KZLOAD="python3 $top_srcdir/tests/regress/kzload.py"
plan 19

# 1-3: help and version, on every command.
bad=
for a in --help -h --version; do
	"$KMSAUTHZD" $a >"$tmp/o" 2>&1 || bad="$bad kmsauthzd$a"
	"$KMSAUTHZCTL" $a >"$tmp/o" 2>&1 || bad="$bad kmsauthzctl$a"
done
[ -z "$bad" ]
ok $? "kmsauthzd and kmsauthzctl answer --help, -h, --version (exit 0)${bad:+: failed$bad}"
cmds=$("$KMSAUTHZCTL" help | sed -n 's/^  kmsauthzctl \([A-Za-z-]*\).*/\1/p')
n=0 bad=
for c in $cmds; do
	for a in --help -h; do
		n=$((n + 1))
		"$KMSAUTHZCTL" "$c" $a >"$tmp/o" 2>&1 &&
		    grep -q "usage: kmsauthzctl $c" "$tmp/o" ||
		    bad="$bad $c$a"
	done
done
[ -z "$bad" ] && [ $n -ge 100 ]
ok $? "every kmsauthzctl command answers --help and -h with its usage ($n)${bad:+: failed$bad}"
"$KMSAUTHZD" --version | grep -q "^kmsauthzd [0-9]" &&
    "$KMSAUTHZCTL" --version | grep -q "^kmsauthzctl [0-9]"
ok $? "--version prints the name and the version"

# 4: no daemon there.
"$KMSAUTHZCTL" ping --socket "$tmp/none.sock" >"$tmp/o" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "no daemon is listening" "$tmp/o"
ok $? "no daemon: exit $rc, $(head -1 "$tmp/o")"

write_config "max_admin_connections = 1"
start_daemon
ok $? "daemon started (max_admin_connections 1)"

# 6-7: the admin socket full: Status 20 times, each exit 2 in words.
$KZLOAD hold "$tmp/a.sock" 1 60 >"$tmp/hold.out" 2>&1 &
hold=$!
wait_until 10 grep -q '^served 1' "$tmp/hold.out"
codes=
for i in $(seq 20); do
	"$KMSAUTHZCTL" Status --socket "$tmp/a.sock" >"$tmp/o" 2>&1
	codes="$codes $?"
done
kill $hold 2>/dev/null
wait $hold 2>/dev/null
[ "$(echo $codes | tr ' ' '\n' | sort -u)" = 2 ]
ok $? "a full admin socket: Status exits 2 every time (exit codes:$codes)"
grep -q "too many admin connections" "$tmp/o"
ok $? "and says why: $(head -1 "$tmp/o")"

# 8: KMSAUTHZ_SOCKET.
out=$(KMSAUTHZ_SOCKET="$tmp/q.sock" "$KMSAUTHZCTL" ping 2>&1)
[ "$out" = pong ]
ok $? "KMSAUTHZ_SOCKET names the query socket: $out"

# 9-10: status shows both sockets; query-status the query socket.
KMSAUTHZ_ADMIN_SOCKET="$tmp/a.sock" "$KMSAUTHZCTL" status \
    --socket "$tmp/q.sock" >"$tmp/st" 2>&1
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert "Generation" in o["Query"] and "Caller" in o["Admin"], o' "$tmp/st" 2>&1
ok $? "status: Query and Admin ($(cut -c1-60 "$tmp/st")...)"
"$KMSAUTHZCTL" query-status --socket "$tmp/q.sock" >"$tmp/st" 2>&1 &&
    python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert "Generation" in o and "Query" not in o' "$tmp/st"
ok $? "query-status: the query socket's STATUS alone"

# 11-12: --Name=VALUE; a repeated parameter.
"$KMSAUTHZCTL" CreateInstance --socket="$tmp/a.sock" \
    --InstanceId=kst-ops0000001 --ShareQuota=3 >"$tmp/o" 2>&1 &&
    "$KMSAUTHZCTL" Status --socket "$tmp/a.sock" | grep -q '"Instances":1'
ok $? "--Name=VALUE is --Name VALUE"
"$KMSAUTHZCTL" CreateInstance --socket "$tmp/a.sock" \
    --InstanceId kst-ops0000002 --InstanceId kst-ops0000003 >"$tmp/o" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "given twice" "$tmp/o" &&
    "$KMSAUTHZCTL" Status --socket "$tmp/a.sock" | grep -q '"Instances":1'
ok $? "a repeated parameter: exit $rc, $(head -1 "$tmp/o"), nothing sent"

# 13: check of a bare KeyId: invalid-request, in words, exit 2.
"$KMSAUTHZCTL" check --socket "$tmp/q.sock" \
    --principal acs:ram::1000000000000000:root --action kms:Encrypt \
    --resource key-hzz6304944631ejqjx0002 >"$tmp/o" 2>"$tmp/e"
rc=$?
[ $rc -eq 2 ] && grep -q invalid-request "$tmp/o" &&
    grep -q "not an ARN" "$tmp/e"
ok $? "check --resource key-...: exit $rc, $(cat "$tmp/o"), $(cut -c1-60 "$tmp/e")..."

# 14: permission denied, told apart from "not running".
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$tmp"
	chmod 600 "$tmp/q.sock"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$KMSAUTHZCTL" ping --socket "$tmp/q.sock" >"$tmp/o" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q "permission denied" "$tmp/o"
	ok $? "another uid without access: exit $rc, $(head -1 "$tmp/o")"
else
	ok 0 "permission denied # SKIP not root"
fi
stop_daemon

# 15-16: no configuration file at the default path: the defaults.  The
# compiled default is under the install prefix; -n with no -c reads it.
def=$("$KMSAUTHZD" --help | sed -n 's/.*configuration file (default \(.*\);$/\1/p')
if [ -n "$def" ] && [ ! -e "$def" ]; then
	"$KMSAUTHZD" -n >"$tmp/o" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q "not found; using the built-in defaults" \
	    "$tmp/o"
	ok $? "no $def: exit $rc, $(head -1 "$tmp/o")"
else
	ok 0 "no default configuration file # SKIP $def exists"
fi
"$KMSAUTHZD" -n -c "$tmp/missing.conf" >"$tmp/o" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "missing.conf: No such file" "$tmp/o"
ok $? "a missing file named with -c is an error: exit $rc"

# 17-18: detached: the terminal gets nothing after the start.
"$KMSAUTHZD" -c "$tmp/kmsauthzd.conf" -v >"$tmp/detached.out" 2>&1
rc=$?
ok $rc "the daemon detaches once ready (exit $rc)"
pid=$(pgrep -f "kmsauthzd -c $tmp/kmsauthzd.conf" | head -1)
before=$(wc -c <"$tmp/detached.out")
"$KMSAUTHZCTL" ping --socket "$tmp/q.sock" >/dev/null 2>&1
"$KZCLIENT" send "$tmp/q.sock" "4b5a0100 0063 0000 00000001 00000000" \
    >/dev/null 2>&1	# a bad frame: a log line (debug)
kill -TERM "$pid" 2>/dev/null
wait_until 10 pid_gone "$pid"
after=$(wc -c <"$tmp/detached.out")
[ -n "$pid" ] && [ "$before" = "$after" ]
ok $? "nothing written to its old terminal after detaching ($before -> $after bytes)"
finish
