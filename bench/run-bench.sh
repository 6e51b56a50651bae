#!/bin/sh
# make bench: the load tool against the echo server (the floor) and, in the
# same run, against kmsauthzd.
#
# Daemon hook: set BENCH_DAEMON_SOCKET to the query socket of a running
# kmsauthzd (loaded with the policies you want to measure), e.g.
#   make bench BENCH_DAEMON_SOCKET=/run/kmsauthzd/query.sock
# Without it the daemon row is skipped.  Knobs (environment):
#   BENCH_SYNC (round trips, 20000), BENCH_CONNS (4), BENCH_DEPTH (64),
#   BENCH_SECONDS (3), BENCH_ARGS (extra bench-load options, e.g. -e).
set -eu
: "${top_builddir:=.}"
: "${BENCH_SYNC:=20000}" "${BENCH_CONNS:=4}" "${BENCH_DEPTH:=64}"
: "${BENCH_SECONDS:=3}" "${BENCH_ARGS:=}" "${BENCH_DAEMON_SOCKET:=}"
load="$top_builddir/bench/bench-load"
echo_srv="$top_builddir/bench/echo-server"

T=$(mktemp -d "${TMPDIR:-/tmp}/kmsauthz-bench.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

"$echo_srv" -s "$T/echo.sock" &
pid=$!
i=0
while [ ! -S "$T/echo.sock" ]; do
	i=$((i + 1))
	[ "$i" -gt 100 ] && { echo "bench: echo-server did not start" >&2; exit 1; }
	sleep 0.05
done

echo "kmsauthz bench: $(nproc) CPUs, sync n=$BENCH_SYNC," \
    "pipelined C=$BENCH_CONNS D=$BENCH_DEPTH for ${BENCH_SECONDS}s"
# shellcheck disable=SC2086
"$load" -l echo -s "$T/echo.sock" -n "$BENCH_SYNC" -c "$BENCH_CONNS" \
    -d "$BENCH_DEPTH" -t "$BENCH_SECONDS" $BENCH_ARGS
if [ -n "$BENCH_DAEMON_SOCKET" ]; then
	# shellcheck disable=SC2086
	"$load" -l kmsauthzd -s "$BENCH_DAEMON_SOCKET" -n "$BENCH_SYNC" \
	    -c "$BENCH_CONNS" -d "$BENCH_DEPTH" -t "$BENCH_SECONDS" $BENCH_ARGS
else
	echo "kmsauthzd: skipped (set BENCH_DAEMON_SOCKET to a running" \
	    "daemon's query socket)"
fi
