#!/bin/sh
# SPDX-License-Identifier: ISC
# 110-idle: idle_timeout closes a connection that sends nothing at all
# (no byte, not even half a header), on the query and on the admin
# socket, while a connection that keeps asking survives the same span;
# IdleTimeouts counts them.  (A half-sent header is request_timeout's
# business: tests/regress/005-slow.sh.)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
plan 6
write_config "idle_timeout = 2" "request_timeout = 30" \
    "slow_client_timeout = 30"
start_daemon
ok $? "daemon started (idle_timeout 2 s, request_timeout 30 s)"

# silent SOCKET: connect, send nothing, report when the daemon closed it.
silent() {
	python3 - "$1" <<'EOF2'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(8.0)
t0 = time.monotonic()
try:
    d = s.recv(1)
    print("CLOSED %.1f %d" % (time.monotonic() - t0, len(d)))
except socket.timeout:
    print("OPEN")
EOF2
}
silent "$tmp/q.sock" >"$tmp/idle.q" &
p1=$!
silent "$tmp/a.sock" >"$tmp/idle.a" &
p2=$!
"$KZCLIENT" hold "$tmp/q.sock" 5 >"$tmp/hold.out"
st=$?
wait $p1 $p2
read -r w t n <"$tmp/idle.q"
[ "$w" = CLOSED ] && [ "$n" = 0 ] &&
awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t <= 4.5) }'
ok $? "a query connection that sends nothing: closed after idle_timeout ($(cat "$tmp/idle.q"))"
read -r w t n <"$tmp/idle.a"
[ "$w" = CLOSED ] && [ "$n" = 0 ] &&
awk -v t="$t" 'BEGIN { exit !(t >= 1.5 && t <= 4.5) }'
ok $? "an admin connection that sends nothing: the same ($(cat "$tmp/idle.a"))"
[ $st -eq 0 ] && grep '^50 pings on one connection' "$tmp/hold.out" >/dev/null
ok $? "a connection asking every 100 ms for 5 s survives: $(cat "$tmp/hold.out")"
"$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' |
    grep '"IdleTimeouts":[2-9]' >/dev/null
ok $? "IdleTimeouts counts them"
finish
