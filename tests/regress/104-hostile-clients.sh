#!/bin/sh
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
#     slow_client_timeout.
# The daemon's resident memory (VmRSS) is read before, at its peak and
# after each phase; it must stay within the bound the limits imply.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
KZLOAD="python3 $top_srcdir/tests/regress/kzload.py"
plan 11

# Under ASan a small quarantine, so that VmRSS measures the daemon, not
# the sanitizer's cache of freed memory.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "max_connections = 64" "max_connections_per_uid = 40" \
    "max_queued_replies = 16" "slow_client_timeout = 2" "idle_timeout = 30" \
    "request_timeout = 2"
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
"$KZCLIENT" status "$tmp/q.sock" | grep -E '^(connections|errors)=' |
    sed 's/^/# /'
"$KZCLIENT" ping "$tmp/q.sock"
ok $? "the daemon answers a new client afterwards"
finish
