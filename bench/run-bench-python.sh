#!/bin/sh
# SPDX-License-Identifier: ISC
# make bench-python (part of make bench): the Python client beside
# libkmsauthz, on one connection each, against kmsauthzd serving the
# bench-world (10,000 keys): bench-load -c 1 (libkmsauthz: sync
# percentiles, pipelined decisions/s at depth BENCH_DEPTH), then
# bench/bench-python.py (Client.check sync checks/s, AsyncClient
# pipelined checks/s at the same depth), BENCH_ROUNDS times alternated.
# Knobs: BENCH_SYNC (20000), BENCH_DEPTH (64), BENCH_SECONDS (3),
# BENCH_ROUNDS (2), BENCH_THREADS (0), PYTHON (python3).
set -eu
: "${top_builddir:=.}" "${top_srcdir:=.}"
: "${BENCH_SYNC:=20000}" "${BENCH_DEPTH:=64}" "${BENCH_SECONDS:=3}"
: "${BENCH_ROUNDS:=2}" "${BENCH_THREADS:=0}" "${PYTHON:=python3}"
load="$top_builddir/bench/bench-load"
world="$top_builddir/bench/bench-world"
daemon="$top_builddir/src/daemon/kmsauthzd"
ctl="$top_builddir/src/ctl/kmsauthzctl"

T=$(mktemp -d "${TMPDIR:-/tmp}/kmsauthz-benchpy.XXXXXX")
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

"$world" "$T/world.json" "$T/requests.tsv"
mkdir "$T/state"
cat >"$T/kmsauthzd.conf" <<EOF
query_socket = $T/query.sock
admin_socket = $T/admin.sock
state_directory = $T/state
seed_bundle = $T/world.json
threads = $BENCH_THREADS
log_verbose = 0
EOF
"$daemon" -f -c "$T/kmsauthzd.conf" 2>"$T/daemon.err" &
dpid=$!
i=0
while ! "$ctl" ping --socket "$T/query.sock" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 6000 ] || ! kill -0 "$dpid" 2>/dev/null; then
		echo "bench-python: kmsauthzd did not start:" >&2
		cat "$T/daemon.err" >&2
		exit 1
	fi
	sleep 0.1
done
echo "kmsauthz bench-python: $(nproc) CPUs, $("$PYTHON" -V 2>&1)," \
    "$(uptime | sed 's/.*load/load/'); sync n=$BENCH_SYNC," \
    "pipelined D=$BENCH_DEPTH for ${BENCH_SECONDS}s, one connection each"
r=0
while [ "$r" -lt "$BENCH_ROUNDS" ]; do
	"$load" -l libkmsauthz -s "$T/query.sock" -w "$T/requests.tsv" \
	    -n "$BENCH_SYNC" -c 1 -d "$BENCH_DEPTH" -t "$BENCH_SECONDS"
	"$PYTHON" "$top_srcdir/bench/bench-python.py" -l python \
	    -s "$T/query.sock" -w "$T/requests.tsv" -n "$BENCH_SYNC" \
	    -d "$BENCH_DEPTH" -t "$BENCH_SECONDS"
	r=$((r + 1))
done
