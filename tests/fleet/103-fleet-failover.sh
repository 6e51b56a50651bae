#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode across an etcd failover: a three-member cluster, three
# hosts, a storm of changes through all three while a checker queries
# every host, and the leader killed in the middle of it.  Changes go on
# through the survivors (some may be refused with ServiceUnavailable
# while the cluster elects: those were not acknowledged); no query
# fails; every acknowledged change is in etcd at its Generation and in
# the final state; the hosts converge to one revision and one state.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 10

N=${FLEET_STORM_CHANGES:-1500}

etcd_cluster 3 || { ok 1 "a three-member cluster starts"; fleet_finish; }
for h in A B C; do
	host_config $h
	start_host $h || { ok 1 "host $h starts"; fleet_finish; }
done
fleetload setup "$tmp/A/a.sock" && wait_until 20 hosts_in_step A B C
ok $? "a three-member cluster, three hosts, the storm's names (revision $(etcd_rev))"

acks() {
	[ -f "$tmp/acks" ] && [ "$(wc -l <"$tmp/acks")" -ge "$1" ]
}
fleetload checker "$tmp/stop" "$tmp/checker" "$tmp/A/q.sock" \
    "$tmp/B/q.sock" "$tmp/C/q.sock" &
ckpid=$!
fleetload storm "$tmp/acks" "$N" "$tmp/A/a.sock" "$tmp/B/a.sock" \
    "$tmp/C/a.sock" >"$tmp/storm.out" 2>&1 &
stpid=$!
wait_until 60 acks $((N / 4))
leader=$(etcd_leader)
killed_at=$(date +%s.%N)
etcd_kill "$leader"
[ -n "$leader" ]
ok $? "the leader ($leader) killed after $(wc -l <"$tmp/acks") of $N changes"
wait_until 60 etcd_leader >/dev/null
ok $? "the survivors elect $(etcd_leader)"
wait_until 120 pid_gone $stpid
wait $stpid
rc=$?
touch "$tmp/stop"
wait $ckpid
cat "$tmp/storm.out"
fleetload after "$tmp/acks" "$killed_at" >"$tmp/after"
resumed=1
while read -r h a r; do
	diag "after the kill, through $h: $a acknowledged, $r refused"
	[ "$a" -ge 20 ] || resumed=0
done <"$tmp/after"
[ $rc -eq 0 ] && [ $resumed -eq 1 ] && [ "$(wc -l <"$tmp/after")" -eq 3 ]
ok $? "changes resume through every host after the kill"
bad=$(grep '"ok": false' "$tmp/acks" | grep -v '"code": "\(ServiceUnavailable\|Forbidden.ResourceNotFound\|InvalidParameter\)"' | head -3)
[ -z "$bad" ]
ok $? "refusals are ServiceUnavailable or the storm's own (a sixth version, a version gone)${bad:+: $bad}"
grep '"code": "ServiceUnavailable"' "$tmp/acks" | sed -n 's/.*"detail": "\([^"]*\)".*/\1/p' |
    sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | head -5 | sed 's/^/# ServiceUnavailable: /'
sed 's/^/# /' "$tmp/checker"
grep -q '^checks=[1-9][0-9]* errors=0 backwards=0$' "$tmp/checker"
ok $? "no query error on any host during the failover ($(head -1 "$tmp/checker"))"

FLEET_ETCD=$(for n in m1 m2 m3; do [ "$n" = "$leader" ] || printf '%s,' "$(etcd_url $n)"; done)
FLEET_ETCD=${FLEET_ETCD%,}
export FLEET_ETCD
fleetload verify "$tmp/acks" lenient >"$tmp/verify" 2>&1
rc=$?
cat "$tmp/verify"
ok $rc "nothing acknowledged is lost: each change in etcd at its Generation, tags and key policies final"
wait_until 60 hosts_in_step A B C
ok $? "A, B and C converge to etcd's revision $(etcd_rev) ($(hget A AppliedRevision) $(hget B AppliedRevision) $(hget C AppliedRevision))"
g=$(etcd_rev)
ea=$(host_export A)
bad=0
for h in A B C; do
	fleetload checks "$tmp/$h/q.sock" 99 3000 "$g" >"$tmp/chk.$h" 2>&1 || bad=1
done
[ $bad -eq 0 ] && [ "$ea" = "$(host_export B)" ] && [ "$ea" = "$(host_export C)" ] &&
    cmp -s "$tmp/chk.A" "$tmp/chk.B" && cmp -s "$tmp/chk.A" "$tmp/chk.C"
ok $? "one state on A, B and C (ExportBundle), 3,000 checks answered alike"
fleet_finish
