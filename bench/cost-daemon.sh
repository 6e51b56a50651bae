#!/bin/sh
# SPDX-License-Identifier: ISC
# What a decision costs kmsauthzd, by means that a shared, noisy machine
# disturbs little (docs/benchmarks.md, "Observability"):
#
#   cost-daemon.sh cpu        CPU time per decision of each of the
#                             daemon's threads (utime + stime from /proc,
#                             10 ms ticks) and of bench-load, pipelined
#                             C=4 D=64 for 5 s; and the decisions per
#                             second of that run.
#   cost-daemon.sh callgrind  instructions per decision of each thread
#                             under valgrind --tool=callgrind: a sync phase
#                             (-n 20000, then -c 1 -d 1 for 1 s) and a
#                             pipelined one (-c 4 -d 64 for 4 s), each
#                             dumped on its own.
#
# The daemon runs 2 workers on bench-world's 10,000 keys, seeded first
# (outside valgrind); BENCH_CONF adds kmsauthzd.conf lines, e.g.
#   BENCH_CONF='metrics_listen = 127.0.0.1:0'
#   BENCH_CONF="decision_log = $PWD/decisions.jsonl"
# With callgrind, threads are numbered in creation order: 1 the main
# thread, then the decision log's writer (decision_log), the metrics
# listener (metrics_listen), then the workers.
set -eu
: "${top_builddir:=.}" "${BENCH_CONF:=}"
mode=${1:-cpu}
load="$top_builddir/bench/bench-load"
world="$top_builddir/bench/bench-world"
daemon="$top_builddir/src/daemon/kmsauthzd"
ctl="$top_builddir/src/ctl/kmsauthzctl"

T=$(mktemp -d "${TMPDIR:-/tmp}/kmsauthz-cost.XXXXXX")
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# wait_ping SECONDS: until the daemon answers PING.
wait_ping() {
	i=0
	while ! "$ctl" ping --socket "$T/query.sock" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt $(($1 * 10)) ] || ! kill -0 "$dpid" 2>/dev/null
		then
			cat "$T/daemon.err" >&2
			return 1
		fi
		sleep 0.1
	done
}

"$world" "$T/world.json" "$T/requests.tsv" >/dev/null
mkdir "$T/state"
cat >"$T/kmsauthzd.conf" <<EOF
query_socket = $T/query.sock
admin_socket = $T/admin.sock
state_directory = $T/state
seed_bundle = $T/world.json
threads = 2
log_verbose = 0
EOF
printf '%s\n' "$BENCH_CONF" >>"$T/kmsauthzd.conf"
"$daemon" -f -c "$T/kmsauthzd.conf" 2>"$T/daemon.err" &
dpid=$!
wait_ping 600

case $mode in
cpu)
	ticks() {
		for t in /proc/"$dpid"/task/*; do
			printf '%s %s\n' "${t##*/}" \
			    "$(cut -d' ' -f14,15 "$t/stat")"
		done | sort -n
	}
	ticks >"$T/t0"
	/usr/bin/time -f '%U %S' -o "$T/client" "$load" -l cost \
	    -s "$T/query.sock" -w "$T/requests.tsv" -n 1 -c 4 -d 64 -t 5 \
	    >"$T/load"
	ticks >"$T/t1"
	n=$(sed -n 's/.*(\([0-9]*\) answers.*/\1/p' "$T/load" | tail -1)
	grep pipelined "$T/load"
	join "$T/t0" "$T/t1" | awk -v n="$n" -v c="$(cat "$T/client")" '
	{
		d = ($4 + $5 - $2 - $3) * 1e7 / n	# 10 ms ticks
		tot += d
		s = s sprintf(" %.0f", d)
	}
	END {
		split(c, cc, " "); cl = (cc[1] + cc[2]) * 1e9 / n
		printf("CPU ns per decision: daemon threads%s = %.0f; " \
		    "bench-load %.0f; total %.0f\n", s, tot, cl, tot + cl)
	}'
	;;
callgrind)
	kill "$dpid"
	wait "$dpid" || true
	valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes \
	    --callgrind-out-file="$T/cg.out" "$daemon" -f \
	    -c "$T/kmsauthzd.conf" 2>"$T/daemon.err" &
	dpid=$!
	wait_ping 600
	callgrind_control -i on "$dpid" >/dev/null 2>&1
	"$load" -l sync -s "$T/query.sock" -w "$T/requests.tsv" -n 20000 \
	    -c 1 -d 1 -t 1 >"$T/load1"
	callgrind_control -d sync "$dpid" >/dev/null 2>&1
	"$load" -l pipe -s "$T/query.sock" -w "$T/requests.tsv" -n 1 \
	    -c 4 -d 64 -t 4 >"$T/load2"
	callgrind_control -d pipe "$dpid" >/dev/null 2>&1
	for p in 1 2; do
		# Decisions: the sync phase's n, its 10 % warm-up, the answers.
		n=$(awk '/ sync / { for (i = 1; i <= NF; i++) if ($i ~ /^n=/) {
			v = substr($i, 3) + 0; s += v + int(v / 10) } }
		    /answers/ { x = $0; sub(/.*\(/, "", x); s += x + 0 }
		    END { print s }' "$T/load$p")
		for f in "$T"/cg.out."$p"-*; do
			ir=$(sed -n 's/^summary: //p' "$f")
			per=$(awk -v a="$ir" -v b="$n" \
			    'BEGIN { printf("%.1f", a / b) }')
			printf '%s thread %s: %s instructions, %s decisions, ' \
			    "$([ "$p" = 1 ] && echo sync || echo pipelined)" \
			    "${f##*-}" "$ir" "$n"
			printf '%s per decision\n' "$per"
		done
	done
	;;
*)
	echo "usage: cost-daemon.sh cpu | callgrind" >&2
	exit 2
	;;
esac
kill "$dpid"
wait "$dpid" 2>/dev/null || true
dpid=
grep -h 'decision_log: .* records written' "$T/daemon.err" || true
