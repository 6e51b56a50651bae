#!/bin/sh
# SPDX-License-Identifier: ISC
# 104-hostile-clients: while one well-behaved client asks the same
# question every 2 ms (every answer must be right and come within 1 s):
#   - 250 clients send garbage, half frames, lying lengths, oversize
#     lengths, or vanish mid-frame: each is refused (ERROR then close,
#     or close);
#   - connections past max_connections_per_uid: the extra ones get BUSY;
#   - 30 slowloris connections trickle a header byte by byte: they are
#     closed once request_timeout has passed since their first byte;
#   - 30 clients pipeline big explained batches and never read: reading
#     them stops at max_queued_replies, they are closed after
#     slow_client_timeout;
#   - on the admin socket (a well-behaved admin client asking Status every
#     10 ms beside the query client): 120 clients send garbage, half
#     frames, a query frame, a body over the 1 MiB admin limit, lying
#     lengths: each is refused (ERROR then close, or close); 10 clients
#     pipeline ExportBundle and never read: paused, closed after
#     slow_client_timeout;
#   - (as root, via setpriv) a hostile client under uid 65534 takes
#     connections past max_connections_per_uid: it gets its 40, the rest
#     BUSY, while root still opens 20 new ones;
#   - a second daemon with max_connections 10 (6 per uid): uid 65534
#     holds 6, root gets 4 and then BUSY: the total cap trips
#     (RejectedTotal) before root's per-uid cap.
# The daemon's resident memory (VmRSS) is read before, at its peak and
# after each phase; it must stay within the bound the limits imply.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
KZLOAD="python3 $top_srcdir/tests/regress/kzload.py"
plan 19

# Under ASan a small quarantine, so that VmRSS measures the daemon, not
# the sanitizer's cache of freed memory.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
# As root, other uids (setpriv) may use the query socket: group 65534.
asroot=0
# (A python3 other uids can run: not one under root's home.)
PYOTHER=/usr/bin/python3
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
    getent group 65534 >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups \
    $PYOTHER -c pass 2>/dev/null; then
	asroot=1
	chmod 755 "$tmp"
	grp="socket_group = $(getent group 65534 | cut -d: -f1)"
else
	grp="# (not root: one uid only)"
fi
write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "max_connections = 64" "max_connections_per_uid = 40" \
    "max_queued_replies = 16" "slow_client_timeout = 2" "idle_timeout = 30" \
    "request_timeout = 2" "$grp"
start_daemon
ok $? "daemon started (64 connections, 40 per uid, 16 queued replies)"
export KZLOAD_RSS="$tmp/rss"

# phase NAME DESC MAXPEAK-KB MAXAFTER-KB ARGS...
phase() {
	name=$1 desc=$2 maxpeak=$3 maxafter=$4
	shift 4
	$KZLOAD abuse "$tmp/q.sock" "$daemon_pid" "$name" "$@" >"$tmp/$name.out" 2>&1
	st=$?
	cat "$tmp/$name.out"
	ok $st "$desc: refused or bounded, the good client served throughout"
	read -r r0 peak r1 <"$tmp/rss" || { r0=0 peak=999999999 r1=0; }
	[ $((peak - r0)) -le "$maxpeak" ] && [ $((r1 - r0)) -le "$maxafter" ]
	ok $? "$desc: VmRSS $r0 kB -> peak $peak kB (+$((peak - r0)), at most +$maxpeak) -> $r1 kB (+$((r1 - r0)), at most +$maxafter)"
}

# Bounds: a refused client costs at most one frame of input; a paused
# one at most one frame in and 4 MiB out (plus allocator slack).
phase garbage "250 garbage/half-frame clients" 65536 32768 250
phase limits "60 connections past the per-uid cap of 40" 65536 32768 60 40
phase slowloris "30 slowloris connections for 6 s (request_timeout 2 s)" \
    65536 32768 30 6 closed
phase noread "30 non-reading clients for 5 s" $((30 * 5 * 1024 + 65536)) \
    65536 30 5 closed
phase admin-garbage "120 garbage/half-frame/oversize admin clients" \
    65536 32768 "$tmp/a.sock" 120
# Each paused admin client: at most 4 MiB and one answer out.
phase admin-noread "10 non-reading admin clients for 4 s" \
    $((10 * 5 * 1024 + 65536)) 65536 "$tmp/a.sock" 10 4

# hold_as UID SOCKET N SECS OUT: N connections as UID, held SECS (or
# until $hold_pid is killed); waits until OUT says how many were served.
hold_as() {
	setpriv --reuid="$1" --regid="$1" --clear-groups \
	    $PYOTHER "$top_srcdir/tests/regress/kzload.py" \
	    hold "$2" "$3" "$4" >"$5" 2>&1 &
	hold_pid=$!
	i=0
	while [ $i -lt 300 ] && ! grep '^served' "$5" >/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
}
if [ $asroot -eq 1 ]; then
	hold_as 65534 "$tmp/q.sock" 50 30 "$tmp/other.out"
	$KZLOAD hold "$tmp/q.sock" 20 0 >"$tmp/root.out" 2>&1
	kill $hold_pid 2>/dev/null
	wait $hold_pid
	[ "$(cat "$tmp/other.out")" = "served 40 busy 10" ]
	ok $? "uid 65534 opens 50: $(cat "$tmp/other.out") (its cap, 40)"
	[ "$(cat "$tmp/root.out")" = "served 20 busy 0" ]
	ok $? "meanwhile root opens 20 new connections: $(cat "$tmp/root.out")"
else
	ok 0 "another uid's cap # SKIP not root"
	ok 0 "another uid's cap # SKIP not root"
fi
"$KZCLIENT" status "$tmp/q.sock" | grep -E '^(connections|errors)=' |
    sed 's/^/# /'
"$KZCLIENT" ping "$tmp/q.sock"
ok $? "the daemon answers a new client afterwards"
stop_daemon

# The total cap below what two uids' caps add up to.
write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "max_connections = 10" "max_connections_per_uid = 6" "$grp"
start_daemon
if [ $asroot -eq 1 ]; then
	hold_as 65534 "$tmp/q.sock" 6 30 "$tmp/other.out"
	$KZLOAD hold "$tmp/q.sock" 6 0 >"$tmp/root.out" 2>&1
	kill $hold_pid 2>/dev/null
	wait $hold_pid
	sleep 0.3	# its connections closed, for the Status below
	st=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}')
	[ "$(cat "$tmp/other.out")" = "served 6 busy 0" ] &&
	[ "$(cat "$tmp/root.out")" = "served 4 busy 2" ] &&
	printf '%s\n' "$st" | grep '"RejectedTotal":2[,}]' >/dev/null &&
	printf '%s\n' "$st" | grep '"RejectedPerUid":0[,}]' >/dev/null
	ok $? "max_connections 10: uid 65534 holds 6, root gets $(cat "$tmp/root.out") (RejectedTotal 2, RejectedPerUid 0)"
else
	$KZLOAD hold "$tmp/q.sock" 12 0 >"$tmp/root.out" 2>&1
	[ "$(cat "$tmp/root.out")" = "served 6 busy 6" ]
	ok $? "max_connections 10, 6 per uid: one uid gets $(cat "$tmp/root.out") # (not root: the per-uid cap only)"
fi
"$KZCLIENT" ping "$tmp/q.sock"
ok $? "served again once they closed"
finish
