#!/bin/sh
# SPDX-License-Identifier: ISC
# Connection caps: the total max_connections refuses a query client with
# BUSY (RejectedTotal), yet the admin socket, with its own cap
# (max_admin_connections), still answers; the admin cap refuses the one
# past it (RejectedAdmin); bad values of the key are rejected; a SIGHUP
# that raises max_connections_per_uid takes effect for the next client.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 11

PING="4b5a01000002000000000001 00000000"
stat() {	# stat NAME: a counter of the admin Status
	"$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' |
	    tr ',' '\n' | sed -n "s/.*\"$1\": *\\([0-9]*\\).*/\\1/p"
}

write_config "max_connections = 4" "max_connections_per_uid = 4" \
    "max_admin_connections = 2"
start_daemon
ok $? "daemon starts (max_connections 4, max_admin_connections 2)"

# The daemon logs each query connection it set up (log_verbose 1).
q0=$(log_count 'query connection from')
KZ_HOLD=3 "$KZCLIENT" many "$tmp/q.sock" 4 >/dev/null &
many=$!
qin() { ge "$(log_count 'query connection from')" $((q0 + $1)); }
wait_until 30 qin 4
out=$("$KZCLIENT" send "$tmp/q.sock" "$PING")
case $out in
"ERROR 5 closed") ok 0 "the 5th query connection is refused with BUSY" ;;
*) diag "$out"; ok 1 "the 5th query connection is refused with BUSY" ;;
esac
rt=$(stat RejectedTotal)
[ "$rt" = 1 ]
ok $? "the admin socket answers while the query cap is full (RejectedTotal $rt)"

a0=$(log_count 'admin connection from')
KZ_HOLD=2 "$KZCLIENT" many "$tmp/a.sock" 2 >/dev/null &
amany=$!
# Both sockets are full now: the daemon's log says when they are in.
ain() { ge "$(log_count 'admin connection from')" $((a0 + 2)); }
wait_until 30 ain
out=$("$KZCLIENT" send "$tmp/a.sock" "$PING")
case $out in
"ERROR 5 closed") ok 0 "the 3rd admin connection is refused with BUSY" ;;
*) diag "$out"; ok 1 "the 3rd admin connection is refused with BUSY" ;;
esac
wait $many
wait $amany
ra1() { [ "$(stat RejectedAdmin)" = 1 ]; }
wait_until 30 ra1
ra=$(stat RejectedAdmin)
[ "$ra" = 1 ]
ok $? "RejectedAdmin counts it ($ra)"
"$KZCLIENT" ping "$tmp/q.sock"
ok $? "once they close, query clients are served again"
stop_daemon

for v in 0 1025 x; do
	write_config "max_admin_connections = $v"
	"$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" >"$tmp/n.out" 2>&1 &&
	    echo "accepted" >>"$tmp/n.out"
	grep -q "kmsauthzd.conf:6: max_admin_connections" "$tmp/n.out" ||
	    { sed 's/^/# /' "$tmp/n.out"; false; }
	ok $? "max_admin_connections = $v rejected with file:line"
done

# SIGHUP raising the per-uid cap: the connection refused before is
# accepted after, while the first two stay open.
write_config "max_connections = 10" "max_connections_per_uid = 2"
start_daemon
q0=$(log_count 'query connection from')
KZ_HOLD=4 "$KZCLIENT" many "$tmp/q.sock" 2 >/dev/null &
many=$!
wait_until 30 qin 2
before=$("$KZCLIENT" send "$tmp/q.sock" "$PING")
write_config "max_connections = 10" "max_connections_per_uid = 3"
kill -HUP "$daemon_pid"
i=0
while [ $i -lt 50 ] && ! grep -q "reload done" "$tmp/daemon.err"; do
	sleep 0.1
	i=$((i + 1))
done
after=$("$KZCLIENT" send "$tmp/q.sock" "$PING")
wait $many
diag "before: $before; after: $after"
[ "$before" = "ERROR 5 closed" ] && [ "$after" = "FRAME 301 open" ]
ok $? "SIGHUP raising max_connections_per_uid 2 -> 3: the 3rd connection is then served"
finish
