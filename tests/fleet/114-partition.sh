#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode across partitions and slow links: a 3-member etcd cluster,
# host A reaching it only through TCP proxies (tests/fleet/tcpproxy.py,
# one per member: A's etcd_endpoints), host B directly; both with
# fleet_max_staleness 3; host C through the proxies too, with the
# default staleness (30 s: a probe every 10 s).  A checker queries A
# throughout.
#   a) A's open connections frozen (a silent watch stream whose
#      connection stays open; new connections pass): keys outside the
#      fleet's prefix changing restart nothing; a change through B is
#      applied at A within 4 x fleet_max_staleness, A's Status counts
#      the watch restart, and no query at A errs.  Frozen again, a
#      change through C is answered within etcd_timeout: its own write
#      finds its watch silent a second on, long before a probe would.
#   b) A cut off (every connection, new ones too): A turns stale within
#      the bound, answers queries and admin reads from its last state,
#      refuses changes with ServiceUnavailable naming the cause; healed,
#      A converges with B (the same export) and is serving again.
#   c) a 150 ms delay on A's links: changes through A (slower) and
#      through B succeed and reach the other host; A stays serving.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 19

TCPPROXY=$top_srcdir/tests/fleet/tcpproxy.py
STALE=3
BOUND=$((4 * STALE))

etcd_cluster 3 || { ok 1 "etcd starts"; fleet_finish; }
pairs=
ports=
aeps=
for n in $etcd_names; do
	p=$(etcd_free_port)
	u=$(etcd_url "$n")
	pairs="$pairs $p=127.0.0.1:${u##*:}"
	ports="$ports $p"
	aeps="$aeps${aeps:+,}http://127.0.0.1:$p"
done
# shellcheck disable=SC2086
python3 "$TCPPROXY" serve "$tmp/proxy.ctl" $pairs 2>"$tmp/proxy.err" &
proxy_pid=$!
fleet_pids="$fleet_pids $proxy_pid"
proxy_ready() {
	[ -S "$tmp/proxy.ctl" ] &&
	    python3 -c 'import socket, sys
for p in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(p)), 1).close()' $ports 2>/dev/null
}
pctl() {
	python3 "$TCPPROXY" ctl "$tmp/proxy.ctl" "$@" >"$tmp/pctl" 2>&1
}
wait_until 20 proxy_ready
ok $? "three proxies in front of the members accept ($aeps)"

host_config A "etcd_endpoints = $aeps" "fleet_max_staleness = $STALE"
host_config B "fleet_max_staleness = $STALE"
# C: through the proxies too, with the default staleness (a probe every
# 10 s), so that only its own writes can find its watch silent in time.
host_config C "etcd_endpoints = $aeps"
start_host A && start_host B && start_host C ||
    { ok 1 "hosts start"; fleet_finish; }
fleetload setup "$tmp/B/a.sock" && wait_until 30 hosts_in_step A B C &&
    pctl conns && grep -q '^ok [1-9]' "$tmp/pctl"
ok $? "A (through the proxies: $(cat "$tmp/pctl")) and B serving the storm's names at revision $(etcd_rev)"

# Every check at A gets an answer throughout, whatever A's links do.
fleetload checker "$tmp/stop" "$tmp/checker" "$tmp/A/q.sock" &
ckpid=$!

restarts() {
	hjson A 'd["Fleet"].get("WatchRestarts")'
}
accepted() {
	pctl accepted && sed -n 's/^ok //p' "$tmp/pctl"
}
# accepted_past N: the proxies accepted more than N connections.
accepted_past() {
	_n=$(accepted)
	[ -n "$_n" ] && [ "$_n" -gt "$1" ]
}
# host_at NAME REV: serving at AppliedRevision REV or past it.
host_at() {
	_r=$(hget "$1" AppliedRevision)
	host_state_is "$1" serving && [ -n "$_r" ] && [ "$_r" -ge "$2" ]
}
elapsed() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# 3-6 (a): a silent watch.
r0=$(restarts)
g0=$(hget A AppliedRevision)
pctl freeze
ok $? "A's open connections frozen ($(cat "$tmp/pctl")): its watch stream silent, its connection open"
# etcd's revision moves with keys outside the prefix only: A's probes
# (each a connection through the proxies) see it move, and the watch
# has nothing to deliver.  Four connections: two probes, the check
# between them, one more probe.
n0=$(accepted)
etcd_ctl put /other/x 1 >/dev/null && etcd_ctl put /other/x 2 >/dev/null &&
    etcd_ctl put /other/y 1 >/dev/null && wait_until 30 accepted_past $((n0 + 3)) &&
    [ "$(restarts)" = "$r0" ] && host_state_is A serving &&
    [ "$(hget A AppliedRevision)" = "$g0" ]
ok $? "keys outside the prefix changed (etcd at $(etcd_ctl get /other/y -w json | sed -n 's/.*"revision":\([0-9]*\).*/\1/p')), $(($(accepted) - n0)) connections through the proxies since: no watch restart ($(restarts)), A serving at $g0"
actl B TagResource --KeyId tk-1 --Tags '[{"TagKey":"part","TagValue":"a"}]'
ga=$(agen)
t0=$(date +%s%N)
[ "$(acode)" = OK ] && wait_until $BOUND host_at A "$ga" &&
    [ "$(elapsed "$t0")" -le $((BOUND * 1000)) ]
rc=$?
[ $rc -eq 0 ] || diag "A: $(hjson A 'd["Fleet"]')"
ok $rc "a change through B (revision $ga) is applied at A within $BOUND s ($(elapsed "$t0") ms)"
[ -n "$r0" ] && [ "$(restarts)" -gt "$r0" ] &&
    host_log A 'watch .*silent' >/dev/null
ok $? "A's Status counts the watch restart ($r0 -> $(restarts)); its log says why ($(host_log A 'watch .*silent' | tail -1 | cut -c1-200))"
pctl heal

# 7 (a'): a silent watch and a change through the host itself (C, whose
# probes come every 10 s): its own write is a change its watch must
# bring; not brought a second on, the watch is opened again, and the
# call is answered within etcd_timeout (3 s), not refused as written
# but not applied.
wait_until 20 host_at A "$ga" && wait_until 20 host_at C "$ga"
r1=$(hjson C 'd["Fleet"].get("WatchRestarts")')
pctl freeze
t0=$(date +%s%N)
actl C TagResource --KeyId tk-1 --Tags '[{"TagKey":"own","TagValue":"c"}]'
gc=$(agen)
[ "$(acode)" = OK ] && host_at C "$gc" &&
    [ "$(hjson C 'd["Fleet"].get("WatchRestarts")')" -gt "$r1" ] &&
    host_log C "watch is silent.*own write" >/dev/null
rc=$?
[ $rc -eq 0 ] || diag "C: $(cat "$tmp/ans")"
ok $rc "a change through C while its watch is silent: answered in $(elapsed "$t0") ms at revision $gc, the watch opened again ($r1 -> $(hjson C 'd["Fleet"].get("WatchRestarts")'))"
pctl heal

# (b): A cut off.
pctl blackhole
t0=$(date +%s%N)
wait_until $BOUND host_state_is A stale &&
    [ "$(elapsed "$t0")" -le $((BOUND * 1000)) ]
ok $? "A cut off: stale within $BOUND s ($(elapsed "$t0") ms)"
fleetload checks "$tmp/A/q.sock" 5 2000 "$ga" >"$tmp/cut.A" 2>&1 &&
    fleetload checks "$tmp/B/q.sock" 5 2000 "$ga" >"$tmp/cut.B" 2>&1 &&
    grep -q '^ALLOW ' "$tmp/cut.A" && cmp -s "$tmp/cut.A" "$tmp/cut.B"
ok $? "2,000 checks answered at A from its last state, as B answers them"
actl A DescribeKey --KeyId sk-1 && [ "$(acode)" = OK ] &&
    actl A ListResourceTags --KeyId tk-1 && grep -q '"TagValue":"a"' "$tmp/ans"
ok $? "admin reads answered at A"
t0=$(date +%s%N)
actl A TagResource --KeyId tk-1 --Tags '[{"TagKey":"cut","TagValue":"A"}]'
[ "$(acode)" = ServiceUnavailable ] && grep -q '"HttpStatus":503' "$tmp/ans" &&
    grep -q '"Detail":"fleet: http://127.0.0.1:[0-9]*: ' "$tmp/ans"
ok $? "a change through A: ServiceUnavailable naming the cause in $(elapsed "$t0") ms ($(sed -n 's/.*"Detail":"\([^"]*\)".*/\1/p' "$tmp/ans"))"
actl B TagResource --KeyId tk-1 --Tags '[{"TagKey":"cut","TagValue":"B"}]'
gb=$(agen)
[ "$(acode)" = OK ] && host_state_is A stale && [ "$(hget A AppliedRevision)" -lt "$gb" ]
ok $? "a change through B meanwhile (revision $gb); A still stale at $(hget A AppliedRevision)"
pctl heal
t0=$(date +%s%N)
wait_until 30 hosts_converged "$gb" A B && [ "$(host_export A)" = "$(host_export B)" ]
ok $? "healed: A serving at B's revision $gb in $(elapsed "$t0") ms, the same export as B"

# 12-15 (c): a slow link.
pctl delay 150
t0=$(date +%s%N)
actl A TagResource --KeyId tk-2 --Tags '[{"TagKey":"slow","TagValue":"A"}]'
ta=$(elapsed "$t0")
gsa=$(agen)
[ "$(acode)" = OK ] && [ "$ta" -ge 300 ] && wait_until 20 host_at B "$gsa" &&
    actl B ListResourceTags --KeyId tk-2 && grep -q '"TagKey":"slow","TagValue":"A"' "$tmp/ans"
ok $? "150 ms each way: a change through A succeeds in $ta ms (a round trip at least) and reaches B"
t0=$(date +%s%N)
actl B TagResource --KeyId tk-3 --Tags '[{"TagKey":"slow","TagValue":"B"}]'
tb=$(elapsed "$t0")
gsb=$(agen)
[ "$(acode)" = OK ] && wait_until 20 host_at A "$gsb" &&
    actl A ListResourceTags --KeyId tk-3 && grep -q '"TagKey":"slow","TagValue":"B"' "$tmp/ans"
ok $? "a change through B ($tb ms) reaches A"
# A stays serving over two staleness periods of a slow link.
bad=0
t0=$(date +%s)
while [ $(($(date +%s) - t0)) -le $((2 * STALE)) ]; do
	host_state_is A serving || { bad=1; diag "$(host_status A)"; break; }
	actl A DescribeKey --KeyId sk-1 && [ "$(acode)" = OK ] || { bad=1; break; }
done
[ $bad -eq 0 ]
ok $? "A serving throughout $((2 * STALE)) s of a slow link, its reads answered (watch restarts so far: $(restarts))"
pctl heal
wait_until 20 hosts_in_step A B && [ "$(host_export A)" = "$(host_export B)" ]
ok $? "A and B in step at revision $(etcd_rev), the same export"

touch "$tmp/stop"
wait $ckpid
sed 's/^/# /' "$tmp/checker"
grep -q '^checks=[1-9][0-9]* errors=0 backwards=0$' "$tmp/checker"
ok $? "no query error at A throughout ($(head -1 "$tmp/checker"))"
kill "$proxy_pid" 2>/dev/null
wait "$proxy_pid" 2>/dev/null
[ -s "$tmp/proxy.err" ] && sed 's/^/# proxy: /' "$tmp/proxy.err"
fleet_finish
