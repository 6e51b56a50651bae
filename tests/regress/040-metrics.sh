#!/bin/sh
# SPDX-License-Identifier: ISC
# metrics_listen: /metrics in the Prometheus text format (promtool check
# metrics, every family documented), /healthz, /readyz; after a known
# run of checks the counters add up exactly, by decision and by reason,
# frames, batches and the latency histogram; admin calls by action and
# code; the world's gauges; a scrape while 1,000 connections pipeline
# stalls none of them; at most 32 HTTP connections are held; the
# unix:PATH form; bad metrics_listen values are file:line errors.
#
# The daemon binds 127.0.0.1:0 and logs the port the kernel chose
# ("metrics: listening on http://127.0.0.1:PORT"): no fixed port.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
. "$top_srcdir/tests/regress/libobs.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
plan 23
# 1,000 client connections and the daemon's own descriptors.
ulimit -n 4096 2>/dev/null || ulimit -Sn "$(ulimit -Hn)" 2>/dev/null

# 1: bad values are errors naming the file and line.
bad=0
for v in 127.0.0.1 localhost:9100 127.0.0.1:65536 "[::1]9100" \
    "[zz]:1" "unix:" "1.2.3:80" "127.0.0.1:-1"; do
	write_config "metrics_listen = $v"
	if "$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" >"$tmp/o" 2>&1 ||
	    ! grep -q "kmsauthzd.conf:6: metrics_listen: " "$tmp/o"; then
		diag "metrics_listen = $v: $(cat "$tmp/o")"
		bad=1
	fi
done
write_config "metrics_listen = [::1]:9100"
"$KMSAUTHZD" -n -v -c "$tmp/kmsauthzd.conf" >"$tmp/o" 2>&1 &&
    grep -qx "metrics_listen = \[::1\]:9100" "$tmp/o" || bad=1
[ $bad -eq 0 ]
ok $? "bad metrics_listen values are errors at kmsauthzd.conf:6; [::1]:PORT is printed by -n -v"

write_config "metrics_listen = 127.0.0.1:0" \
    "seed_bundle = $top_srcdir/etc/example-bundle.json"
start_daemon
ok $? "daemon starts with metrics_listen = 127.0.0.1:0"
wait_serving 10 metrics_logged
ok $? "the chosen port is logged ($murl)"

code=$(curl -s -o "$tmp/h" -w '%{http_code}' --max-time 10 "$murl/healthz")
[ "$code" = 200 ] && grep -qx ok "$tmp/h"
ok $? "GET /healthz: 200 ok"
code=$(curl -s -o "$tmp/h" -w '%{http_code}' --max-time 10 "$murl/readyz")
[ "$code" = 200 ] && grep -q "^ready: serving generation 1$" "$tmp/h"
ok $? "GET /readyz: 200, serving generation 1 ($(cat "$tmp/h"))"

curl -s -D "$tmp/hdr" -o "$tmp/m0" --max-time 10 "$murl/metrics" &&
    grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/hdr"
ok $? "GET /metrics: text/plain; version=0.0.4"
promtool check metrics <"$tmp/m0" >"$tmp/lint" 2>&1
ok $? "promtool check metrics accepts it$(sed 's/^/ # /' "$tmp/lint" | head -5)"
families_documented "$tmp/m0"
ok $? "every family has # HELP and # TYPE"
grep -q '^kmsauthz_' "$tmp/m0" && ! grep -v '^#' "$tmp/m0" |
    grep -v -E '^(kmsauthz_|process_)' | grep -q .
ok $? "every sample is kmsauthz_* or a standard process_* family"

# 10-13: a known run: 3,000 checks on 4 connections, one in five in a
# CHECK_BATCH; the client tallies the answers it got.
N=3000
$KZOBS run "$tmp/q.sock" "$top_srcdir/etc/example-bundle.json" $N 4 \
    "$tmp/expected" >"$tmp/run" 2>&1
ok $? "$N checks answered ($(tail -1 "$tmp/run"))"
scrape "$tmp/m1"
bad=0 sum=0
while read -r d r n; do
	case $d in frames|rate) continue ;; esac
	got=$(metric "$tmp/m1" "kmsauthz_decisions_total{decision=\"$d\",reason=\"$r\"}")
	[ "$got" = "$n" ] || { diag "$d $r: $got, client saw $n"; bad=1; }
	sum=$((sum + n))
done <"$tmp/run"
total=$(awk '/^kmsauthz_decisions_total/ { s += $2 } END { print s }' "$tmp/m1")
[ $bad -eq 0 ] && [ "$sum" -eq $N ] && [ "$total" -eq $N ]
ok $? "decisions_total by decision and reason equals the answers exactly ($total = $N)"
set -- $(sed -n 's/^frames check=\([0-9]*\) batch=\([0-9]*\) items=\([0-9]*\)$/\1 \2 \3/p' "$tmp/run")
[ "$(metric "$tmp/m1" 'kmsauthz_frames_total{type="check"}')" = "$1" ] &&
    [ "$(metric "$tmp/m1" 'kmsauthz_frames_total{type="check_batch"}')" = "$2" ] &&
    [ "$(metric "$tmp/m1" kmsauthz_batch_size_count)" = "$2" ] &&
    [ "$(metric "$tmp/m1" kmsauthz_batch_size_sum)" = "$3" ]
ok $? "frames by type and the batch-size histogram match ($1 CHECK, $2 CHECK_BATCH of $3)"
frames=$(($1 + $2))
[ "$(metric "$tmp/m1" kmsauthz_check_duration_seconds_count)" = "$frames" ] &&
    [ "$(metric "$tmp/m1" 'kmsauthz_check_duration_seconds_bucket{le="+Inf"}')" = "$frames" ] &&
    [ "$(metric "$tmp/m1" 'kmsauthz_check_duration_seconds_bucket{le="0.01"}')" -gt 0 ]
ok $? "check_duration_seconds counts every check frame ($frames)"

# 14: admin calls by action and code, and their latency.
for i in 1 2 3; do
	"$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' >/dev/null
done
"$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Frobnicate"}' >/dev/null
"$KZCLIENT" admin "$tmp/a.sock" \
    '{"Action":"DescribeKey","Parameters":{"KeyId":"key-nope"}}' >/dev/null
scrape "$tmp/m2"
[ "$(metric "$tmp/m2" 'kmsauthz_admin_requests_total{action="Status",code="OK"}')" = 3 ] &&
    grep -q '^kmsauthz_admin_requests_total{action="unknown",code="[A-Za-z]*"} 1$' "$tmp/m2" &&
    grep -q '^kmsauthz_admin_requests_total{action="DescribeKey",code="[A-Za-z.]*"} 1$' "$tmp/m2" &&
    [ "$(metric "$tmp/m2" kmsauthz_admin_request_duration_seconds_count)" = 5 ]
ok $? "admin_requests_total by action and code, the latency histogram ($(grep '^kmsauthz_admin_requests_total' "$tmp/m2" | tr '\n' ' '))"

# 15: the world's gauges agree with the admin Status.
st=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}')
keys=$(printf '%s' "$st" | sed -n 's/.*"Keys":\([0-9]*\).*/\1/p')
pols=$(printf '%s' "$st" | sed -n 's/.*"Policies":\([0-9]*\).*/\1/p')
[ "$(metric "$tmp/m2" kmsauthz_world_generation)" = 1 ] &&
    [ "$(metric "$tmp/m2" 'kmsauthz_world_objects{kind="keys"}')" = "$keys" ] &&
    [ "$(metric "$tmp/m2" 'kmsauthz_world_objects{kind="policies"}')" = "$pols" ] &&
    awk '$1 == "kmsauthz_world_last_publish_timestamp_seconds" && $2 > 1e9 { f = 1 } END { exit !f }' "$tmp/m2"
ok $? "world generation, sizes ($keys keys, $pols policies) and last publish time"
now=$(date +%s)
awk -v now="$now" '
$1 == "process_open_fds" && $2 > 3 { a = 1 }
$1 == "process_resident_memory_bytes" && $2 > 1e6 { b = 1 }
$1 == "process_start_time_seconds" && $2 <= now && $2 > now - 600 { c = 1 }
$1 == "process_max_fds" && $2 > 0 { d = 1 }
END { exit !(a && b && c && d) }' "$tmp/m2"
ok $? "process_open_fds, process_resident_memory_bytes, process_start_time_seconds, process_max_fds"

# 17: anything but GET or HEAD of the three paths is refused.
c1=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$murl/nope")
c2=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -d x "$murl/metrics")
c3=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -I "$murl/healthz")
[ "$c1" = 404 ] && [ "$c2" != 200 ] && [ "$c3" = 200 ]
ok $? "unknown path 404, POST refused ($c2), HEAD answered"

# 18: scraping while 1,000 connections pipeline stalls none of them.
$KZOBS pipeline "$tmp/q.sock" 1000 4 >"$tmp/pipe" 2>&1 &
ppid=$!
wait_serving 10 sh -c "[ \"\$(ls /proc/$daemon_pid/fd | wc -l)\" -gt 1000 ]"
n=0 failed=0
while kill -0 $ppid 2>/dev/null && [ $n -lt 200 ]; do
	scrape "$tmp/m3" || failed=$((failed + 1))
	n=$((n + 1))
done
wait $ppid
prc=$?
gap=$(sed -n 's/^maxgap //p' "$tmp/pipe")
answers=$(sed -n 's/^answers //p' "$tmp/pipe")
[ $prc -eq 0 ] && [ $failed -eq 0 ] && [ "${answers:-0}" -gt 1000 ] &&
    [ "${gap:-99999}" -lt 1000 ] && [ $n -ge 3 ]
ok $? "$n scrapes while 1,000 connections pipeline: ${answers:-?} answers, longest pause ${gap:-?} ms"

# 19-20: at most 32 metrics connections are held; the rest wait.  The
# 1,000 connections above must be gone first (a loaded machine closes
# them late), else they are counted out of the baseline.
nfd() { ls /proc/$daemon_pid/fd | wc -l; }
# Settled: under 100 and the same count ten polls in a row.
lastfd=x same=0
settled() {
	cur=$(nfd)
	if [ "$cur" = "$lastfd" ]; then same=$((same + 1)); else same=0; fi
	lastfd=$cur
	[ "$cur" -lt 100 ] && [ $same -ge 10 ]
}
wait_serving 60 settled
fd0=$(nfd)
$KZOBS holdhttp 127.0.0.1 "${murl##*:}" 48 3 >"$tmp/hold" 2>&1 &
hpid=$!
wait_serving 10 grep -qs '^held 48' "$tmp/hold"
# The accepts the listener takes (it pauses at 32).
held30() { [ $(($(nfd) - fd0)) -ge 30 ]; }
wait_serving 30 held30
fd1=$(nfd)
[ $((fd1 - fd0)) -le 33 ] && [ $((fd1 - fd0)) -ge 30 ]
ok $? "48 idle HTTP clients: the daemon holds $((fd1 - fd0)) descriptors for them (at most 32)"
wait $hpid
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 "$murl/healthz")
[ "$code" = 200 ]
ok $? "once they leave, /healthz answers again"

# 21-22: unix:PATH.
stop_daemon
write_config "metrics_listen = unix:$tmp/m.sock" \
    "seed_bundle = $top_srcdir/etc/example-bundle.json"
start_daemon
wait_serving 10 test -S "$tmp/m.sock" &&
    [ "$(stat -c %a "$tmp/m.sock")" = 660 ] &&
    curl -sf --max-time 10 --unix-socket "$tmp/m.sock" -o "$tmp/m4" \
    http://localhost/metrics && promtool check metrics <"$tmp/m4" &&
    curl -sf --max-time 10 --unix-socket "$tmp/m.sock" \
    http://localhost/readyz | grep -q '^ready'
ok $? "metrics_listen = unix:PATH: a 0660 socket serving /metrics and /readyz"
stop_daemon
[ ! -e "$tmp/m.sock" ]
ok $? "the metrics socket is removed at exit"

finish
