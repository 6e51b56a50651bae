#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode, a host that comes back after etcd compacted past it: one
# etcd member, three hosts; C is stopped, changes are made through A
# (records added, changed and deleted: tags, a key policy, a user
# detached and deleted, a policy version deleted), etcd is compacted
# past C's revision; C started again finds its revision compacted,
# reads the data set whole (a resync: "applied whole") and converges
# to A's and B's revision and state, the deleted records gone.  A host
# that resynced at a revision that changed no data, then another etcd
# cluster (a state pushed into it) behind the same endpoint: every host
# resyncs from it.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 15

fleet_up 1 A B C
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

# 9-11: a resync at a revision that changed no data (a write outside
# the prefix): the hosts hold one world; do they agree on its generation?
etcd_ctl put /elsewhere x >/dev/null
host_config D "fleet_max_staleness = 3"
start_host D && wait_until 20 host_serving D && [ "$(host_export D)" = "$ea" ]
ok $? "a fourth host D resyncs at revision $(hget D AppliedRevision) (a write outside the prefix last): A's state"
gd=$(hget D AppliedRevision)
"$KMSAUTHZCTL" check --socket "$tmp/A/q.sock" --principal "$U5" --action kms:Encrypt \
    --resource "$SK1" --min-generation "$gd" >"$tmp/out" 2>&1
ok $? "A answers a consistency token of D's generation $gd (A's world is D's; A is at $(hget A AppliedRevision)) ($(tr '\n' ' ' <"$tmp/out"))"
actl B TagResource --KeyId tk-0 --Tags '[{"TagKey":"after","TagValue":"1"}]' &&
    wait_until 20 hosts_in_step A B C D
ok $? "the next change brings A, B, C and D to one revision ($(etcd_rev))"

# 12-14: another etcd cluster behind the same endpoint, holding a state
# pushed from a backup: every host resyncs from it (the generation goes
# down), and serves it.
stop_hosts
etcd_stop m1
sed -e "s|--data-dir $tmp/m1/data|--data-dir $tmp/m1/data2|" \
    -e "s|--initial-cluster-token [^ ]*|--initial-cluster-token other-$$|" \
    "$tmp/m1/args" >"$tmp/m1/args.new" && mv "$tmp/m1/args.new" "$tmp/m1/args"
etcd_start m1
wait_until 60 etcd_healthy m1
mkdir -p "$tmp/seed"
"$KMSAUTHZCTL" import --db "$tmp/seed" "$top_srcdir/etc/example-bundle.json" >/dev/null 2>&1 &&
    "$KMSAUTHZCTL" fleet push --db "$tmp/seed" --endpoints "$ETCD_ALL" >"$tmp/push.out" 2>&1
ok $? "a new etcd cluster on the same endpoint, the example bundle pushed into it ($(tr '\n' ' ' <"$tmp/push.out"))"
for h in A B C D; do
	start_host $h
done
ncid=$(printf '%016x' "$(etcd_ctl endpoint status -w json | sed -n 's/.*"cluster_id":\([0-9]*\).*/\1/p')")
newcluster() {
	for h in A B C D; do
		case $(host_status $h) in
		*"\"ClusterId\":\"$ncid\""*) ;;
		*) return 1 ;;
		esac
	done
	hosts_in_step A B C D
}
wait_until 30 newcluster
ok $? "every host resyncs from the new cluster $ncid: serving at its revision $(etcd_rev) (from $r1 and more: the generation went down)"
ea=$(host_export A)
bad=0
for h in B C D; do
	[ "$(host_export $h)" = "$ea" ] || bad=1
done
EX=acs:kms:cn-hangzhou:1192853035118888:key/key-hzz6304944631ejqjx0002
EP=acs:ram::1192853035118888:user/alice
[ $bad -eq 0 ] && [ "$(qcheck C "$EP" kms:Decrypt "$EX")" = ALLOW ] &&
    actl D DescribeKey --KeyId sk-1; [ "$(acode)" = Forbidden.KeyNotFound ]
ok $? "they hold the pushed state, nothing of the old cluster's"
fleet_finish
