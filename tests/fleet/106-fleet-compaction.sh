#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode, a host that comes back after etcd compacted past it: one
# etcd member, three hosts; C is stopped, changes are made through A
# (records added, changed and deleted: tags, a key policy, a user
# detached and deleted, a policy version deleted), etcd is compacted
# past C's revision; C started again finds its revision compacted,
# reads the data set whole (a resync: "applied whole") and converges
# to A's and B's revision and state, the deleted records gone.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 9

etcd_cluster 1 || { ok 1 "etcd starts"; fleet_finish; }
for h in A B C; do
	host_config $h
	start_host $h || { ok 1 "host $h starts"; fleet_finish; }
done
ACCT=$FLEET_ACCT
SK1=acs:kms:cn-hangzhou:$ACCT:key/sk-1
U3=acs:ram::$ACCT:user/u3
U5=acs:ram::$ACCT:user/u5
fleetload setup "$tmp/A/a.sock" &&
    actl A TagResource --KeyId tk-3 --Tags '[{"TagKey":"old","TagValue":"1"},{"TagKey":"keep","TagValue":"1"}]' &&
    actl A CreatePolicyVersion --PolicyName rp-0 --SetAsDefault true --PolicyDocument '{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}' &&
    wait_until 20 hosts_in_step A B C
ok $? "three hosts serving the storm's names and a few more (revision $(etcd_rev))"
r0=$(hget C AppliedRevision)
c_u3=$(qcheck C "$U3" kms:Decrypt "$SK1")

stop_host C
[ "$c_u3" = ALLOW ]
ok $? "C stopped at revision $r0 (u3 may Decrypt with sk-1: $c_u3)"

# 3: changes while C is away: puts, replacements and deletions.
printf '%s' '{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["'"$U5"'"]},"Action":["kms:Encrypt"],"Resource":["*"]}]}' >"$tmp/kp.json"
bad=0
i=0
while [ $i -lt 30 ]; do
	actl A TagResource --KeyId "tk-$((i % 10))" --Tags '[{"TagKey":"n'$i'","TagValue":"v'$i'"}]' || bad=1
	i=$((i + 1))
done
actl A UntagResource --KeyId tk-3 --TagKeys '["old"]' || bad=1
actl A SetKeyPolicy --KeyId sk-1 --Policy "file://$tmp/kp.json" || bad=1
actl A DetachPolicyFromUser --PolicyType Custom --PolicyName rp-0 --UserName u3 || bad=1
actl A DeleteUser --UserName u3 || bad=1
actl A DeletePolicyVersion --PolicyName rp-0 --VersionId v1 || bad=1
actl A UpdateInstanceState --InstanceId kst-storm --State Enabled || bad=1
r1=$(etcd_rev)
[ $bad -eq 0 ] && wait_until 20 hosts_in_step A B
ok $? "35 changes through A while C is away (revision $r0 -> $r1), A and B in step"

etcd_ctl compact "$r1" >"$tmp/compact.out" 2>&1
ok $? "etcd compacted at revision $r1 ($(cat "$tmp/compact.out"))"

start_host C
wait_until 30 hosts_in_step A B C
ok $? "C started again converges: A, B and C at revision $(etcd_rev)"
host_log C "revision [0-9]* is compacted: resync" >/dev/null &&
    host_log C "fleet: state of data set [0-9a-f]* at revision $r1 applied whole" >/dev/null
ok $? "C found revision $((r0 + 1)) compacted and resynced whole ($(host_log C 'compacted|applied whole' | tail -2 | tr '\n' ' '))"
ea=$(host_export A)
[ "$ea" = "$(host_export C)" ] && [ "$(host_export B)" = "$ea" ]
ok $? "ExportBundle: C holds A's and B's state"
actl C ListResourceTags --KeyId tk-3
grep -q '"TagKey":"keep"' "$tmp/ans" && ! grep -q '"TagKey":"old"' "$tmp/ans" &&
    grep -q '"TagKey":"n3"' "$tmp/ans" &&
    actl C DescribeKey --KeyId sk-1 && ! actl C GetPolicyVersion --PolicyName rp-0 --VersionId v1 &&
    [ "$(qcheck C "$U3" kms:Decrypt "$SK1")" = IMPLICIT_DENY ] &&
    [ "$(qcheck C "$U5" kms:Encrypt "$SK1")" = ALLOW ]
ok $? "at C: the tag removed is gone, the version deleted is gone, the new key policy decides"
fleet_finish
