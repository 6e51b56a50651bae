#!/bin/sh
# SPDX-License-Identifier: ISC
# 112-output-bound: the per-connection output bound (CONN_OUTPUT_MAX,
# 4 MiB) on its own.  With max_queued_replies at its maximum (65,536), a
# client that pipelines big explained batches and reads nothing is
# stopped by the bytes its unread answers take, not by their count:
# fewer than 65,536 answers, at least 4 MiB of them, and the daemon's
# VmRSS grows by no more than the bound implies (4 MiB plus one answer
# plus one frame of input, plus allocator slack), while a well-behaved
# client is answered throughout.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
KZLOAD="python3 $top_srcdir/tests/regress/kzload.py"
plan 5
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "max_queued_replies = 65536" "slow_client_timeout = 60" \
    "idle_timeout = 60"
start_daemon
ok $? "daemon started (max_queued_replies 65536)"
export KZLOAD_RSS="$tmp/rss"
p0=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' |
    sed -n 's/.*"QueueFullPauses":\([0-9]*\).*/\1/p')
$KZLOAD abuse "$tmp/q.sock" "$daemon_pid" bigout 20 65536 >"$tmp/bigout.out" 2>&1
st=$?
cat "$tmp/bigout.out"
ok $st "a non-reading client is stopped by the 4 MiB bound (fewer answers than max_queued_replies), the good client served"
read -r r0 peak r1 <"$tmp/rss" || { r0=0 peak=999999999 r1=0; }
max=$((16 * 1024))
[ $((peak - r0)) -le $max ]
ok $? "VmRSS $r0 kB -> peak $peak kB (+$((peak - r0)), at most +$max)"
p1=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' |
    sed -n 's/.*"QueueFullPauses":\([0-9]*\).*/\1/p')
[ -n "$p1" ] && [ "$p1" -gt "${p0:-0}" ]
ok $? "QueueFullPauses counted it ($p0 -> $p1)"
finish
