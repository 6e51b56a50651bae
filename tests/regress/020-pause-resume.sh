#!/bin/sh
# SPDX-License-Identifier: ISC
# Pause and resume under a full answer queue (issue #5 audit): with
# max_queued_replies = 1 on one worker, clients pipelining PINGs while
# reading in a tight loop make the daemon pause reading many times and
# find the socket drained by the time it writes again.  Every PONG must
# arrive (no connection left with no event armed), and once the clients
# are gone their connections are freed (STATUS counts only itself).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 5

write_config "max_queued_replies = 1" "threads = 1" \
    "slow_client_timeout = 30" "idle_timeout = 60"
start_daemon
ok $? "daemon starts (max_queued_replies 1, 1 thread)"

# Several rounds: the stall depends on timing, each round is a chance.
bad=0
for round in 1 2 3; do
	out=$("$KZCLIENT" flood "$tmp/q.sock" 3 100000)
	r=$?
	diag "round $round: $out"
	[ $r -eq 0 ] || bad=1
done
ok $bad "3 rounds of 3 clients x 100,000 pipelined PINGs: every PONG back"

conns=
for i in 1 2 3 4 5 6 7 8 9 10 20 30 40; do
	conns=$("$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^connections=//p')
	[ "$conns" = 1 ] && break
	sleep 0.1
done
diag "connections after the clients left: $conns"
[ "$conns" = 1 ]
ok $? "the flood clients' connections are freed once they close"

pauses=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' |
    tr ',' '\n' | sed -n 's/.*"QueueFullPauses": *\([0-9]*\).*/\1/p')
diag "queue-full pauses: ${pauses:-unknown}"
[ -n "$pauses" ] && [ "$pauses" -gt 0 ]
ok $? "the queue-full pause path was exercised"
finish
