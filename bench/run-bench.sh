#!/bin/sh
# make bench: the load tool against the echo server (the floor) and, in the
# same run, against kmsauthzd.
#
# The daemon row: by default the built src/daemon/kmsauthzd is started on
# a temporary directory (options from BENCH_DAEMON_ARGS, e.g.
# "-o seed_bundle=/path/bundle.json" to measure real policies; without
# one it serves an empty world, where every check is key-not-found).
# Or set BENCH_DAEMON_SOCKET to the query socket of a running kmsauthzd:
#   make bench BENCH_DAEMON_SOCKET=/run/kmsauthzd/query.sock
# Knobs (environment):
#   BENCH_SYNC (round trips, 20000), BENCH_CONNS (4), BENCH_DEPTH (64),
#   BENCH_SECONDS (3), BENCH_ARGS (extra bench-load options, e.g. -e).
set -eu
: "${top_builddir:=.}"
: "${BENCH_SYNC:=20000}" "${BENCH_CONNS:=4}" "${BENCH_DEPTH:=64}"
: "${BENCH_SECONDS:=3}" "${BENCH_ARGS:=}" "${BENCH_DAEMON_SOCKET:=}"
: "${BENCH_DAEMON_ARGS:=}"
daemon="$top_builddir/src/daemon/kmsauthzd"
load="$top_builddir/bench/bench-load"
echo_srv="$top_builddir/bench/echo-server"

T=$(mktemp -d "${TMPDIR:-/tmp}/kmsauthz-bench.XXXXXX")
pid=''
dpid=''
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
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
if [ -z "$BENCH_DAEMON_SOCKET" ] && [ -x "$daemon" ]; then
	mkdir "$T/state"
	: >"$T/kmsauthzd.conf"
	# shellcheck disable=SC2086
	"$daemon" -f -c "$T/kmsauthzd.conf" -s "$T/q.sock" -a "$T/a.sock" \
	    -d "$T/state" $BENCH_DAEMON_ARGS 2>"$T/daemon.err" &
	dpid=$!
	i=0
	while [ ! -S "$T/q.sock" ]; do
		i=$((i + 1))
		if [ "$i" -gt 200 ] || ! kill -0 "$dpid" 2>/dev/null; then
			echo "bench: kmsauthzd did not start:" >&2
			cat "$T/daemon.err" >&2
			exit 1
		fi
		sleep 0.05
	done
	BENCH_DAEMON_SOCKET=$T/q.sock
fi
if [ -n "$BENCH_DAEMON_SOCKET" ]; then
	# shellcheck disable=SC2086
	"$load" -l kmsauthzd -s "$BENCH_DAEMON_SOCKET" -n "$BENCH_SYNC" \
	    -c "$BENCH_CONNS" -d "$BENCH_DEPTH" -t "$BENCH_SECONDS" $BENCH_ARGS
else
	echo "kmsauthzd: skipped (not built; or set BENCH_DAEMON_SOCKET to a" \
	    "running daemon's query socket)"
fi
