#!/bin/sh
# SPDX-License-Identifier: ISC
# make bench: the load tool against the echo server (the floor) and, in the
# same run, against kmsauthzd serving 10,000 keys (docs/benchmarks.md).
#
# Without BENCH_DAEMON_SOCKET: bench-world writes a bundle (10,000 keys
# with key policies, 1,000 principals, 2,000 identity policies) and
# requests drawn from it; the real kmsauthzd is started on a temporary
# directory seeded from the bundle, and bench-load runs the same requests
# against the echo server and the daemon, in turn.
# With BENCH_DAEMON_SOCKET=PATH: that running daemon is measured instead
# (with the world's requests, whatever it holds), e.g.
#   make bench BENCH_DAEMON_SOCKET=/run/kmsauthzd/query.sock
# Knobs (environment): BENCH_SYNC (round trips, 20000), BENCH_CONNS (4),
# BENCH_DEPTH (64), BENCH_SECONDS (3), BENCH_ROUNDS (2: echo and daemon
# alternate), BENCH_THREADS (daemon worker threads, 0 = one per CPU),
# BENCH_ARGS (extra bench-load options, e.g. -e), BENCH_CONF (extra
# kmsauthzd.conf lines, e.g. 'metrics_listen = 127.0.0.1:0').
set -eu
: "${top_builddir:=.}"
: "${BENCH_SYNC:=20000}" "${BENCH_CONNS:=4}" "${BENCH_DEPTH:=64}"
: "${BENCH_SECONDS:=3}" "${BENCH_ARGS:=}" "${BENCH_DAEMON_SOCKET:=}"
: "${BENCH_ROUNDS:=2}" "${BENCH_THREADS:=0}" "${BENCH_CONF:=}"
load="$top_builddir/bench/bench-load"
echo_srv="$top_builddir/bench/echo-server"
world="$top_builddir/bench/bench-world"
daemon="$top_builddir/src/daemon/kmsauthzd"
ctl="$top_builddir/src/ctl/kmsauthzctl"

T=$(mktemp -d "${TMPDIR:-/tmp}/kmsauthz-bench.XXXXXX")
pid=
dpid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	# The decision log's summary at exit: lines written and dropped.
	if [ -n "$dpid" ]; then
		grep -h 'decision_log: .* records written' "$T/daemon.err" \
		    2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# wait_ping SOCKET SECONDS PID: until the server answers PING.
wait_ping() {
	i=0
	while ! "$ctl" ping --socket "$1" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt $(($2 * 10)) ] || ! kill -0 "$3" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
}

"$world" "$T/world.json" "$T/requests.tsv"

"$echo_srv" -s "$T/echo.sock" &
pid=$!
wait_ping "$T/echo.sock" 10 "$pid" ||
    { echo "bench: echo-server did not start" >&2; exit 1; }

sock=$BENCH_DAEMON_SOCKET
if [ -z "$sock" ]; then
	sock=$T/query.sock
	mkdir "$T/state"
	cat >"$T/kmsauthzd.conf" <<EOF
query_socket = $T/query.sock
admin_socket = $T/admin.sock
state_directory = $T/state
seed_bundle = $T/world.json
threads = $BENCH_THREADS
log_verbose = 0
EOF
	if [ -n "$BENCH_CONF" ]; then
		printf '%s\n' "$BENCH_CONF" >>"$T/kmsauthzd.conf"
	fi
	t0=$(date +%s)
	"$daemon" -f -c "$T/kmsauthzd.conf" 2>"$T/daemon.err" &
	dpid=$!
	if ! wait_ping "$sock" 600 "$dpid"; then
		echo "bench: kmsauthzd did not start:" >&2
		cat "$T/daemon.err" >&2
		exit 1
	fi
	echo "kmsauthzd: seeded and serving in $(($(date +%s) - t0))s:" \
	    "$("$ctl" status --socket "$sock" | tr -d '\n' | cut -c1-200)"
fi

echo "kmsauthz bench: $(nproc) CPUs, $(uptime | sed 's/.*load/load/')"
echo "requests: $(wc -l <"$T/requests.tsv") from bench-world;" \
    "sync n=$BENCH_SYNC, pipelined C=$BENCH_CONNS D=$BENCH_DEPTH" \
    "for ${BENCH_SECONDS}s, $BENCH_ROUNDS rounds"
run() {
	# shellcheck disable=SC2086
	"$load" -l "$1" -s "$2" -w "$T/requests.tsv" -n "$BENCH_SYNC" \
	    -c "$BENCH_CONNS" -d "$BENCH_DEPTH" -t "$BENCH_SECONDS" \
	    $BENCH_ARGS | tee -a "$T/results"
}
r=0
while [ "$r" -lt "$BENCH_ROUNDS" ]; do
	if [ $((r % 2)) -eq 0 ]; then
		run echo "$T/echo.sock"
		run kmsauthzd "$sock"
	else
		run kmsauthzd "$sock"
		run echo "$T/echo.sock"
	fi
	r=$((r + 1))
done

# Best of the rounds (lowest latency, highest throughput: on a shared
# machine the other processes only ever make a round worse), and ratios.
awk '
function num(f, pre,    v) { v = f; sub(pre, "", v); sub(/us$/, "", v); return v + 0 }
function lo(k, v) { if (!(k in best) || v < best[k]) best[k] = v }
function hi(k, v) { if (!(k in best) || v > best[k]) best[k] = v }
/ sync / {
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^p50=/) lo($1 SUBSEP "p50", num($i, "p50="))
		if ($i ~ /^p99=/) lo($1 SUBSEP "p99", num($i, "p99="))
	}
}
/ pipelined / {
	for (i = 1; i <= NF; i++)
		if ($i == "decisions/s") hi($1 SUBSEP "tp", $(i - 1) + 0)
}
END {
	e50 = best["echo", "p50"]; e99 = best["echo", "p99"]; etp = best["echo", "tp"]
	d50 = best["kmsauthzd", "p50"]; d99 = best["kmsauthzd", "p99"]; dtp = best["kmsauthzd", "tp"]
	printf("best of rounds: echo p50 %.1fus p99 %.1fus %.0f/s; kmsauthzd p50 %.1fus p99 %.1fus %.0f/s\n",
	    e50, e99, etp, d50, d99, dtp)
	if (e50 > 0 && e99 > 0 && etp > 0)
		printf("ratios: sync p50 %.2fx floor (target <= 1.2), p99 %.2fx (target <= 1.5), pipelined %.0f%% of floor (target >= 50%%)\n",
		    d50 / e50, d99 / e99, 100 * dtp / etp)
}' "$T/results"
