#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode, the basics: one etcd member, three hosts (A, B, C) on an
# empty fleet.  Changes made through A (an instance and a key, a key
# policy, a tag, a RAM user with an attached policy) are answered by B
# and C: checks there flip from deny to allow, and every host's
# Generation is the etcd revision of A's answer once converged.  A
# consistency token (check --min-generation at B with A's Generation)
# answers the new decision right after A's change.  ImportBundle of the
# example bundle through B reaches every host (a new data set, the old
# one gone); etcd holds every record as readable JSON.  Two imports at
# once through A and C: one wins (the other, planned again, should too),
# the hosts converge, and etcd holds one data set.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 32

fleet_up 1 A B C
wait_until 20 hosts_in_step A B C
ok $? "A, B and C start on an empty fleet and serve at revision $(etcd_rev)"

st=$(host_status B)
cid=$(etcd_ctl endpoint status -w json | sed -n 's/.*"cluster_id":\([0-9]*\).*/\1/p')
hex=$(printf '%016x' "$cid")
echo "$st" | grep -q "\"Fleet\":{\"State\":\"serving\",\"Endpoints\":\[\"$ETCD_ALL\"\],\"Prefix\":\"/kmsauthz/\",\"Connected\":true,\"ClusterId\":\"$hex\",\"AppliedRevision\":[0-9]*,\"DataSet\":null,\"LastContact\":\"20[0-9-]*T[0-9:]*Z\",\"ReclaimedSets\":0,\"WatchRestarts\":0}"
ok $? "Status Fleet: serving, endpoints, prefix, connected, cluster $hex, no data set yet, no watch restarted ($(echo "$st" | sed 's/.*"Fleet"://' | cut -c1-220))"

ACCT=$FLEET_ACCT
K1=acs:kms:cn-hangzhou:$ACCT:key/key-1
ALICE=acs:ram::$ACCT:user/alice
BOB=acs:ram::$ACCT:user/bob
CAROL=acs:ram::$ACCT:user/carol

# gen_everywhere G: every host serving at AppliedRevision G, and its
# Status Generation is G too.
gen_everywhere() {
	for h in A B C; do
		host_serving $h "$1" && [ "$(hget $h Generation)" = "$1" ] ||
		    return 1
	done
}
# flips DESC P ACTION RES GEN WANT: at B (consistency token GEN) and at
# C, the decision is WANT, at generation GEN.
flips() {
	_fb=$("$KMSAUTHZCTL" check --socket "$tmp/B/q.sock" --principal "$2" \
	    --action "$3" --resource "$4" --min-generation "$5" 2>&1)
	_fc=$(qcheck C "$2" "$3" "$4" --min-generation "$5")
	case $_fb in
	*"\"Decision\":\"$6\""*"\"Generation\":$5}") ;;
	*) diag "B: $_fb"; _fc=x ;;
	esac
	[ "$_fc" = "$6" ]
	ok $? "$1: $6 at B (--min-generation $5, right after A's answer) and at C ($_fc)"
}

# 3-4: an instance and a key.
[ "$(qcheck B "$ALICE" kms:Decrypt "$K1")" = IMPLICIT_DENY ] &&
    [ "$(qcheck C "$ALICE" kms:Decrypt "$K1")" = IMPLICIT_DENY ]
ok $? "before: alice may not Decrypt with key-1 at B and C"
actl A CreateInstance --InstanceId kst-1 --ShareQuota 5 && [ "$(acode)" = OK ] &&
    actl A CreateKey --DKMSInstanceId kst-1 --KeyId key-1 && [ "$(acode)" = OK ]
ok $? "CreateInstance and CreateKey through A"
g=$(agen)
flips "CreateKey (default key policy)" "$ALICE" kms:Decrypt "$K1" "$g" ALLOW
wait_until 20 gen_everywhere "$g"
ok $? "every host converges: Status Generation = AppliedRevision = $g, A's answer"
[ "$(etcd_rev)" = "$g" ]
ok $? "A's Generation is the etcd revision ($(etcd_rev))"

# 7-9: a key policy: alice loses Decrypt, bob gains it.
printf '%s' '{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["'"$BOB"'"]},"Action":["kms:Decrypt"],"Resource":["*"]}]}' >"$tmp/kp.json"
actl A SetKeyPolicy --KeyId key-1 --Policy "file://$tmp/kp.json" && [ "$(acode)" = OK ]
ok $? "SetKeyPolicy through A"
g=$(agen)
flips "SetKeyPolicy" "$BOB" kms:Decrypt "$K1" "$g" ALLOW
[ "$(qcheck B "$ALICE" kms:Decrypt "$K1" --min-generation "$g")" = IMPLICIT_DENY ] &&
    [ "$(qcheck C "$ALICE" kms:Decrypt "$K1" --min-generation "$g")" = IMPLICIT_DENY ]
ok $? "...and alice is denied at B and C"
actl C GetKeyPolicy --KeyId key-1 && grep -q 'acs:ram::'$ACCT':user/bob' "$tmp/ans"
ok $? "GetKeyPolicy at C returns the policy set through A"

# 11-12: a tag, read at B and C.
actl A TagResource --KeyId key-1 --Tags '[{"TagKey":"env","TagValue":"prod"}]' &&
    [ "$(acode)" = OK ]
ok $? "TagResource through A"
g=$(agen)
wait_until 20 gen_everywhere "$g"
actl B ListResourceTags --KeyId key-1 && grep -q '"TagKey":"env","TagValue":"prod"' "$tmp/ans" &&
    actl C ListResourceTags --KeyId key-1 && grep -q '"TagKey":"env","TagValue":"prod"' "$tmp/ans"
ok $? "ListResourceTags at B and C: env=prod (generation $g)"

# 13-14: a RAM user, a policy, the attachment.
printf '%s' '{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Encrypt"],"Resource":["'"$K1"'"]}]}' >"$tmp/rp.json"
actl A CreateUser --UserName carol && [ "$(acode)" = OK ] &&
    [ "$(qcheck B "$CAROL" kms:Encrypt "$K1" --min-generation "$(agen)")" = IMPLICIT_DENY ] &&
    actl A CreatePolicy --PolicyName enc --PolicyDocument "file://$tmp/rp.json" &&
    [ "$(acode)" = OK ] &&
    [ "$(qcheck C "$CAROL" kms:Encrypt "$K1" --min-generation "$(agen)")" = IMPLICIT_DENY ]
ok $? "CreateUser and CreatePolicy through A: carol still denied at B and C"
actl A AttachPolicyToUser --PolicyType Custom --PolicyName enc --UserName carol &&
    [ "$(acode)" = OK ]
g=$(agen)
flips "AttachPolicyToUser" "$CAROL" kms:Encrypt "$K1" "$g" ALLOW

# 15: a token past every host: STALE (exit 2), not a wrong answer.
"$KMSAUTHZCTL" check --socket "$tmp/B/q.sock" --principal "$CAROL" \
    --action kms:Encrypt --resource "$K1" --min-generation $((g + 5)) \
    >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "generation $((g + 5)) not reached" "$tmp/out"
ok $? "a token no host has reached: STALE at B ($(tr "\n" " " <"$tmp/out"))"

# 16: the same generation, the same answers.
wait_until 20 gen_everywhere "$g"
for h in A B C; do
	fleetload checks "$tmp/$h/q.sock" 7 2000 "$g" >"$tmp/chk.$h" 2>&1
done
cmp -s "$tmp/chk.A" "$tmp/chk.B" && cmp -s "$tmp/chk.A" "$tmp/chk.C" &&
    grep -q "^ALLOW .* $g " "$tmp/chk.A"
ok $? "2,000 checks: the same answers on A, B and C at generation $g"
ea=$(host_export A)
[ "$ea" = "$(host_export B)" ] && [ "$ea" = "$(host_export C)" ]
ok $? "ExportBundle: the same state on A, B and C"

# 18-21: ImportBundle through B.
ds0=$(hget A DataSet)
EX=acs:kms:cn-hangzhou:1192853035118888:key/key-hzz6304944631ejqjx0002
EP=acs:ram::1192853035118888:user/alice
[ "$(qcheck C "$EP" kms:Decrypt "$EX")" = IMPLICIT_DENY ]
ok $? "before the import: the example's decision is a deny at C"
actl B ImportBundle --Bundle "file://$top_srcdir/etc/example-bundle.json" &&
    [ "$(acode)" = OK ]
ok $? "ImportBundle of etc/example-bundle.json through B ($(cut -c1-200 "$tmp/ans"))"
g=$(agen)
wait_until 30 hosts_in_step A B C
ok $? "every host in step after the import (revision $(etcd_rev), B answered $g)"
ds=$(hget B DataSet)
[ "$ds" != "$ds0" ] && [ "$(hget A DataSet)" = "$ds" ] &&
    [ "$(hget C DataSet)" = "$ds" ] && [ "$(fleetload current)" = "$ds" ]
ok $? "every host's data set: $ds0 -> $ds, etcd's current"
a1=$(qcheck A "$EP" kms:Decrypt "$EX" --min-generation "$g")
a2=$(qcheck C "$EP" kms:Decrypt "$EX" --min-generation "$g")
a3=$(qcheck A "$BOB" kms:Decrypt "$K1")
actl C DescribeKey --KeyId key-1
[ "$a1 $a2 $a3 $(acode)" = "ALLOW ALLOW IMPLICIT_DENY Forbidden.KeyNotFound" ]
ok $? "the example's decision allows at A and C, key-1 is gone ($a1 $a2 $a3 $(acode))"
ea=$(host_export A)
[ "$ea" = "$(host_export B)" ] && [ "$ea" = "$(host_export C)" ]
ok $? "ExportBundle: the same state on A, B and C"

# 22-23: etcd's content.
n=$(etcd_ctl get --prefix "/kmsauthz/data/$ds0/" --keys-only | grep -c .)
[ -n "$ds0" ] && [ "$n" -eq 0 ]
ok $? "the old data set $ds0 is gone from etcd ($n keys)"
etcd_ctl get --prefix /kmsauthz/ >"$tmp/dump"
fleetload readable >"$tmp/out" &&
    grep -qx "{\"Data\":\"$ds\"}" "$tmp/dump" &&
    grep -A1 -x "/kmsauthz/data/$ds/keys/key-hzz6304944631ejqjx0001" "$tmp/dump" |
    grep -qx '{"KeyState":"Enabled","Region":"cn-hangzhou","Creator":"1192853035118888","Instance":"kst-hzz62ee5b5e6f3s8xwk6"}'
ok $? "etcdctl get --prefix: readable JSON records ($(tail -1 "$tmp/out"))"

# 27-31: two ImportBundles at once, through A and C: the one that lost
# the switch should be planned again and switched after; no staged set
# is left, the hosts converge.
for h in A C; do
	"$KMSAUTHZCTL" ImportBundle --Bundle "file://$top_srcdir/etc/example-bundle.json" \
	    --socket "$tmp/$h/a.sock" >"$tmp/imp.$h" 2>&1 &
	eval "ipid_$h=\$!"
done
# shellcheck disable=SC2154
wait "$ipid_A"
ra=$?
# shellcheck disable=SC2154
wait "$ipid_C"
rc=$?
imports="$(cut -c1-100 "$tmp/imp.A") $(sed -n 's/.*\("Detail":"[^"]*"\).*/\1/p' "$tmp/imp.A") $(cut -c1-100 "$tmp/imp.C") $(sed -n 's/.*\("Detail":"[^"]*"\).*/\1/p' "$tmp/imp.C")"
{ [ $ra -eq 0 ] || grep -q '"Code":"ServiceUnavailable"' "$tmp/imp.A"; } &&
    { [ $rc -eq 0 ] || grep -q '"Code":"ServiceUnavailable"' "$tmp/imp.C"; } &&
    [ $((ra + rc)) -le 1 ]
ok $? "two ImportBundles at once through A and C: one at least succeeds, the other succeeds or is ServiceUnavailable ($imports)"
[ $ra -eq 0 ] && [ $rc -eq 0 ]
ok $? "...both succeed: the one that lost the switch is planned again"
g=$(cat "$tmp/imp.A" "$tmp/imp.C" | sed -n 's/.*"Generation":\([0-9]*\).*/\1/p' | sort -n | tail -1)
cur=$(fleetload current)
one_set() {
	for h in A B C; do
		host_serving $h && [ "$(hget $h DataSet)" = "$cur" ] &&
		    [ "$(hget $h AppliedRevision)" -ge "$g" ] || return 1
	done
}
wait_until 30 one_set && ea=$(host_export A) && [ "$(host_export B)" = "$ea" ] &&
    [ "$(host_export C)" = "$ea" ]
ok $? "every host serving etcd's current data set $cur, one state"
one_rev() {
	_or=$(hget A AppliedRevision)
	hosts_converged "$_or" A B C
}
wait_until 5 one_rev
ok $? "...at one revision ($(hget A AppliedRevision) $(hget B AppliedRevision) $(hget C AppliedRevision); the last import answered $g, etcd is at $(etcd_rev))"
sets=$(etcd_ctl get --prefix /kmsauthz/data/ --keys-only | sed -n 's|^/kmsauthz/data/\([^/]*\)/.*|\1|p' | sort -u)
ds=$(hget A DataSet)
[ "$sets" = "$ds" ] && [ "$(hget B DataSet)" = "$ds" ] && [ "$(hget C DataSet)" = "$ds" ]
ok $? "etcd holds one data set ($(echo $sets)), every host's"
fleet_finish
