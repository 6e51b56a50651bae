#!/bin/sh
# A client that never reads its answers: the daemon stops reading it at
# max_queued_replies, serves another client promptly meanwhile, and
# closes it after slow_client_timeout.  An idle client is closed after
# idle_timeout.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 4

write_config "max_queued_replies = 8" "slow_client_timeout = 2" \
    "idle_timeout = 2" "threads = 1"
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
finish
