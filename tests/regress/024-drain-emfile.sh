#!/bin/sh
# SPDX-License-Identifier: ISC
# SIGTERM flushes the answers already queued: a client that wrote
# CHECKs without reading (the daemon paused on it with answers in its
# own buffer) reads, after SIGTERM, every answer the daemon produced, in
# order, then EOF; the daemon exits 0 with its sockets unlinked.
# EMFILE: a daemon whose RLIMIT_NOFILE is low pauses accepting when
# descriptors run out (one warning a second, AcceptBackoffs), serves the
# connections it holds meanwhile, and serves new clients once they
# close.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 10

stat() {	# stat NAME: a counter of the admin Status
	"$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' |
	    tr ',' '\n' | sed -n "s/.*\"$1\": *\\([0-9]*\\).*/\\1/p"
}

write_config "max_queued_replies = 64" "threads = 1"
start_daemon
ok $? "daemon starts"
"$KZCLIENT" drain "$tmp/q.sock" 200000 "$tmp/go" >"$tmp/drain.out" &
drain=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^sent' "$tmp/drain.out"; do
	sleep 0.1
	i=$((i + 1))
done
paused() { ge "$(stat QueueFullPauses)" 1; }
wait_until 30 paused
checks=$(stat Checks)
pauses=$(stat QueueFullPauses)
diag "$(head -1 "$tmp/drain.out"); the daemon answered $checks, paused $pauses times"
[ "${pauses:-0}" -ge 1 ]
ok $? "the daemon paused on the client with answers queued"
kill -TERM "$daemon_pid"
touch "$tmp/go"
wait $drain
st=$?
diag "$(tail -1 "$tmp/drain.out")"
got=$(tail -1 "$tmp/drain.out" | sed -n 's/.* got \([0-9]*\) in order eof$/\1/p')
[ $st -eq 0 ] && [ "$got" = "$checks" ]
ok $? "after SIGTERM every answer produced ($checks) arrived in order, then EOF"
wait "$daemon_pid"
daemon_status=$?
daemon_pid=
[ $daemon_status -eq 0 ]
ok $? "SIGTERM: exit status 0 after the flush"
[ ! -e "$tmp/q.sock" ] && [ ! -e "$tmp/a.sock" ]
ok $? "SIGTERM: both sockets unlinked"

# EMFILE: 48 descriptors, 80 clients.  A warning a second, not a spin:
# at most 8 in the ~3 s (a loaded machine stretches the window).
write_config "threads = 1" "max_connections = 1000" "max_connections_per_uid = 1000"
sh -c 'ulimit -n 48 && exec "$@"' sh "$KMSAUTHZD" -f \
    -c "$tmp/kmsauthzd.conf" 2>>"$tmp/daemon.err" &
daemon_pid=$!
wait_for_socket "$tmp/q.sock"
ok $? "daemon starts with RLIMIT_NOFILE 48"
w0=$(grep -c "accept: Too many open files; pausing accepts" "$tmp/daemon.err")
t0=$(date +%s)
KZ_HOLD=2 KZ_READ_MS=1500 "$KZCLIENT" many "$tmp/q.sock" 80 >"$tmp/many.out" 2>&1 &
many=$!
wait $many
w1=$(grep -c "accept: Too many open files; pausing accepts" "$tmp/daemon.err")
secs=$(($(date +%s) - t0 + 1))
diag "$(cat "$tmp/many.out"); $((w1 - w0)) warnings in ~$secs s"
answered=$(sed -n 's/^\([0-9]*\) of 80 connections answered$/\1/p' "$tmp/many.out")
[ "${answered:-0}" -ge 10 ] && [ "${answered:-0}" -lt 80 ]
ok $? "the connections it could accept were served ($answered of 80)"
n=$((w1 - w0))
# One a second at most (one more for each end of the window), not a spin.
[ $n -ge 1 ] && [ $n -le $((secs + 2)) ]
ok $? "accepts paused with one warning a second ($n in ~$secs s)"
served() { "$KZCLIENT" ping "$tmp/q.sock" 2>/dev/null; }
wait_until 30 served && [ "$(stat AcceptBackoffs)" -ge 1 ]
ok $? "once they close, a new client is served (AcceptBackoffs counted)"
finish
