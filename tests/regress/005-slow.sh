#!/bin/sh
# SPDX-License-Identifier: ISC
# A client that never reads its answers: the daemon stops reading it at
# max_queued_replies, serves another client promptly meanwhile, and
# closes it after slow_client_timeout.  An idle client is closed after
# idle_timeout; a frame trickled byte by byte after request_timeout, even
# though each byte resets the idle timer.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 6

write_config "max_queued_replies = 8" "slow_client_timeout = 2" \
    "idle_timeout = 2" "request_timeout = 2" "threads = 1"
start_daemon
ok $? "daemon starts (1 thread: both clients share one worker)"

"$KZCLIENT" slow "$tmp/q.sock" 2 | sed 's/^/# /'
ok $? "slow reader paused and closed, other client served within 1 s"

# Idle: a connection that sends nothing is closed after idle_timeout.
out=$("$KZCLIENT" send "$tmp/q.sock" "4b5a0100" )
case $out in
CLOSED) ok 0 "a half-sent header then silence: closed (idle_timeout)" ;;
*) diag "$out"; ok 1 "a half-sent header then silence: closed" ;;
esac

# Slowloris: a byte every 600 ms never lets idle_timeout (2 s) fire, but
# the frame is not whole 2 s after its first byte: closed then.
out=$("$KZCLIENT" trickle "$tmp/q.sock" 600)
diag "$out"
case $out in
"CLOSED after "*) ms=${out##*, }; ms=${ms% ms}
	[ "$ms" -ge 1800 ] && [ "$ms" -le 4500 ]
	ok $? "a frame trickled a byte per 600 ms: closed at request_timeout" ;;
*) ok 1 "a frame trickled a byte per 600 ms: closed at request_timeout" ;;
esac
# A frame trickled fast enough to be whole within request_timeout is
# answered: the deadline is per frame, not per byte.
out=$("$KZCLIENT" trickle "$tmp/q.sock" 20)
diag "$out"
case $out in
"PONG "*) ok 0 "a frame trickled a byte per 20 ms (whole in 0.3 s, request_timeout 2 s): answered" ;;
*) ok 1 "a frame trickled a byte per 20 ms (whole in 0.3 s, request_timeout 2 s): answered" ;;
esac
finish
