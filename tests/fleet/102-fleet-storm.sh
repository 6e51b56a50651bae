#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode under a storm: one etcd member, three hosts, 2,000 changes
# sent concurrently through the three (two writer threads each), most
# of them conflicting: SetKeyPolicy on four keys, CreatePolicyVersion
# and SetDefaultPolicyVersion on three shared RAM policies, TagResource
# with unique tags on forty keys, while a checker queries every host.
# No query fails on any host, and no host's generation goes back; every
# acknowledged change is in etcd at the revision it answered (etcd's
# history), every acknowledged tag is in the final state, each key's
# final key policy is the acknowledged one with the highest Generation;
# every host converges to etcd's revision and to the state etcd holds
# (that of a fourth host started afterwards on an empty store); then
# 10,000 seeded checks get the same answers on every host.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 14

N=${FLEET_STORM_CHANGES:-2000}

fleet_up 1 A B C
fleetload setup "$tmp/A/a.sock" && wait_until 20 hosts_in_step A B C
ok $? "three hosts, the storm's keys, users and policies made through A (revision $(etcd_rev))"

# 2-4: the storm, a checker on every host meanwhile.
fleetload checker "$tmp/stop" "$tmp/checker" "$tmp/A/q.sock" \
    "$tmp/B/q.sock" "$tmp/C/q.sock" &
ckpid=$!
t0=$(date +%s)
p0=$(fleetload proposals)
r0=$(etcd_rev)
fleetload storm "$tmp/acks" "$N" "$tmp/A/a.sock" "$tmp/B/a.sock" \
    "$tmp/C/a.sock" >"$tmp/storm.out" 2>&1
rc=$?
t1=$(date +%s)
touch "$tmp/stop"
wait $ckpid
cat "$tmp/storm.out"
acked=$(grep -c '"ok": true' "$tmp/acks")
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/acks")" -eq "$N" ] && [ "$acked" -ge $((N / 2)) ]
ok $? "$N changes in $((t1 - t0)) s through A, B and C: $acked acknowledged"
bad=$(grep '"ok": false' "$tmp/acks" | grep -v '"code": "\(ServiceUnavailable\|Forbidden.ResourceNotFound\|InvalidParameter\)"' | head -3)
[ -z "$bad" ]
ok $? "refusals are only conflicts given up (ServiceUnavailable), a sixth version, a version gone or the default one deleted${bad:+: $bad}"
sed 's/^/# /' "$tmp/checker"
grep -q '^checks=[1-9][0-9]* errors=0 backwards=0$' "$tmp/checker"
ok $? "the checker: no query error on any host, no generation going back ($(head -1 "$tmp/checker"))"
# A transaction whose compares failed is a raft proposal, no revision.
failed=$(( $(fleetload proposals) - p0 - ($(etcd_rev) - r0) ))
[ "$failed" -ge 20 ]
ok $? "the changes conflicted: $failed etcd transactions failed their compares (planned again), $(grep -c 'gave up after 8 tries' "$tmp/acks") given up after 8 tries"

# 5-7: every acknowledged change is in etcd.
fleetload verify "$tmp/acks" >"$tmp/verify" 2>&1
rc=$?
cat "$tmp/verify"
ok $rc "every acknowledged change is in etcd at its Generation; tags and key policies final"
wait_until 30 hosts_in_step A B C
ok $? "A, B and C converge to etcd's revision $(etcd_rev) ($(hget A AppliedRevision) $(hget B AppliedRevision) $(hget C AppliedRevision))"
g=$(etcd_rev)
for h in A B C; do
	[ "$(hget $h Generation)" = "$g" ] || diag "$h: Generation $(hget $h Generation)"
done
[ "$(hget A Generation)" = "$g" ] && [ "$(hget B Generation)" = "$g" ] &&
    [ "$(hget C Generation)" = "$g" ]
ok $? "every host's Generation is $g"

# 8-9: the state etcd holds: a fourth host reads it whole.
host_config D
start_host D && wait_until 30 hosts_in_step D && host_log D 'applied whole' >/dev/null
ok $? "a fourth host (empty store) resyncs at revision $(hget D AppliedRevision)"
host_export D >"$tmp/exp.D"
bad=0
for h in A B C; do
	host_export $h >"$tmp/exp.$h"
	cmp -s "$tmp/exp.$h" "$tmp/exp.D" || { bad=1; diag "$h differs from D"; }
done
[ $bad -eq 0 ] && [ "$(wc -c <"$tmp/exp.D")" -gt 10000 ]
ok $? "ExportBundle: A, B and C hold the state etcd holds (D's, $(wc -c <"$tmp/exp.D") bytes)"

# 10-12: 10,000 checks, the same answers everywhere at one generation.
bad=0
for h in A B C D; do
	fleetload checks "$tmp/$h/q.sock" 4242 10000 "$g" >"$tmp/chk.$h" 2>&1 || bad=1
done
[ $bad -eq 0 ] && [ "$(wc -l <"$tmp/chk.A")" -eq 10000 ] &&
    [ "$(cut -d' ' -f3 "$tmp/chk.A" | sort -u)" = "$g" ]
ok $? "10,000 seeded checks answered on every host at generation $g"
allows=$(grep -c '^ALLOW ' "$tmp/chk.A")
denies=$(grep -c -v '^ALLOW ' "$tmp/chk.A")
[ "$allows" -ge 100 ] && [ "$denies" -ge 100 ]
ok $? "they cover allow ($allows) and deny ($denies): $(cut -d' ' -f1,2 "$tmp/chk.A" | sort | uniq -c | sort -rn | head -6 | awk '{printf "%s %s %s; ", $1, $2, $3}')"
cmp "$tmp/chk.A" "$tmp/chk.B" >&2 && cmp "$tmp/chk.A" "$tmp/chk.C" >&2 &&
    cmp "$tmp/chk.A" "$tmp/chk.D" >&2
ok $? "the answer streams of A, B, C and D are identical"
fleet_finish
