#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode, races on what a plan counts or searches (its range reads,
# docs/fleet.md "Conflicts"): three etcd members, three hosts (A, B, C).
# Each round lets go at once, through different hosts, changes that one
# host alone would refuse together:
#  - a key with 19 tags (the limit is 20), one distinct tag through each
#    host: exactly one is accepted, the others are refused naming the
#    limit (planned again after the conflict);
#  - DeleteGroup through A while B and C add users to the group: the
#    group goes and no user names it, or it stays with its members;
#  - DeletePolicy through A while B and C attach it to users: the same;
#  - two keys of an instance whose share quota is 1, each given a key
#    policy naming another foreign account: exactly one is accepted;
#  - a policy with 4 versions (the limit is 5), a version through each
#    host: exactly one is accepted;
#  - one version of that policy deleted through each host at once:
#    exactly one is accepted, the others find it gone.
# After each round every host and etcd hold the same state, and every
# host's ExportBundle resolves every reference and passes no limit or
# quota.  The order the calls start in comes from a fixed seed
# (FLEET_RACE_SEED, 111 by default); FLEET_RACE_ROUNDS rounds (6).
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
ROUNDS=${FLEET_RACE_ROUNDS:-6}
SEED=${FLEET_RACE_SEED:-111}
plan $((2 + 7 * ROUNDS + 1))

fleet_up 3 A B C
wait_until 20 hosts_in_step A B C
ok $? "A, B and C serve an empty fleet of three etcd members"

ACCT=$FLEET_ACCT
ctl_ok() {
	actl A "$@" && [ "$(acode)" = OK ] && return 0
	diag "$*: $(cat "$tmp/ans")"
	return 1
}
tags_json() {
	_tj=
	for _ti in $(seq "$2"); do
		_tj="$_tj${_tj:+,}{\"TagKey\":\"$1$_ti\",\"TagValue\":\"v\"}"
	done
	echo "[$_tj]"
}
share_policy() {
	printf '{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::%s:root","acs:ram::%s:root"]},"Action":["kms:*"],"Resource":["*"]}]}' \
	    "$ACCT" "$1"
}
ram_doc() {
	printf '{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["acs:kms:*:*:key/%s"]}]}' "$1"
}
# j NAME VALUE...: a JSON object of strings (a call's parameters).
j() {
	python3 -c 'import json, sys
a = sys.argv[1:]
print(json.dumps(dict(zip(a[::2], a[1::2]))))' "$@"
}
# race HOST CALL PARAMS...: fleetload race with this round's seed, the
# calls through each HOST's admin socket; its lines in $tmp/race, their
# first words (OK or a code) in $tmp/codes.
race() {
	_ra=$(($# / 3))
	while [ "$_ra" -gt 0 ]; do
		set -- "$@" "$tmp/$1/a.sock" "$2" "$3"
		shift 3
		_ra=$((_ra - 1))
	done
	fleetload race $((SEED * 1000 + round)) "$@" >"$tmp/race" 2>&1
	cut -d' ' -f1 "$tmp/race" | tr '\n' ' ' >"$tmp/codes"
}
count() {
	grep -c "^$1" "$tmp/race"
}
# exclusive: the first call (a delete) and the others were not all
# accepted together.
exclusive() {
	set -- $(cat "$tmp/codes")
	[ $# -eq 3 ] && { [ "$1" != OK ] || { [ "$2" != OK ] && [ "$3" != OK ]; }; }
}
# every_host: every host in step with etcd, its export the same as A's,
# every reference resolved, no limit or quota passed.
every_host() {
	wait_until 30 hosts_in_step A B C || return 1
	host_export A >"$tmp/exp.A"
	for _h in A B C; do
		host_export $_h >"$tmp/exp.$_h"
		cmp -s "$tmp/exp.A" "$tmp/exp.$_h" || { diag "$_h differs"; return 1; }
		fleetload invariants <"$tmp/exp.$_h" || return 1
	done
	return 0
}
etcd_count() {
	etcd_ctl get --prefix "/kmsauthz/data/$(fleetload current)/$1" \
	    --keys-only | grep -c .
}
tags_everywhere() {
	for _h in A B C; do
		actl $_h ListResourceTags --KeyId "$1" &&
		    [ "$(grep -o '"TagKey"' "$tmp/ans" | wc -l)" = "$2" ] ||
		    return 1
	done
}

ctl_ok CreateInstance --InstanceId kst-race --ShareQuota 100 &&
    ctl_ok CreateUser --UserName holder
ok $? "the instance and a user every round uses"

round=0
while [ $round -lt "$ROUNDS" ]; do
	round=$((round + 1))
	r=$round
	# The round's records, through A, seen by every host.
	ctl_ok CreateKey --DKMSInstanceId kst-race --KeyId tk-$r &&
	    ctl_ok TagResource --KeyId tk-$r --Tags "$(tags_json base 19)" &&
	    ctl_ok CreateGroup --GroupName g-$r &&
	    ctl_ok CreateUser --UserName ga-$r && ctl_ok CreateUser --UserName gb-$r &&
	    ctl_ok CreatePolicy --PolicyName dp-$r --PolicyDocument "$(ram_doc dp)" &&
	    ctl_ok CreateInstance --InstanceId kst-q$r --ShareQuota 1 &&
	    ctl_ok CreateKey --DKMSInstanceId kst-q$r --KeyId qa-$r &&
	    ctl_ok CreateKey --DKMSInstanceId kst-q$r --KeyId qb-$r &&
	    ctl_ok CreatePolicy --PolicyName vp-$r --PolicyDocument "$(ram_doc v1)" &&
	    ctl_ok CreatePolicyVersion --PolicyName vp-$r --PolicyDocument "$(ram_doc v2)" &&
	    ctl_ok CreatePolicyVersion --PolicyName vp-$r --PolicyDocument "$(ram_doc v3)" &&
	    ctl_ok CreatePolicyVersion --PolicyName vp-$r --PolicyDocument "$(ram_doc v4)" &&
	    wait_until 30 hosts_in_step A B C
	ok $? "round $r: its records made through A, every host in step"

	# The twentieth tag, three times at once.
	race A TagResource "$(j KeyId tk-$r Tags "$(tags_json a 1)")" \
	    B TagResource "$(j KeyId tk-$r Tags "$(tags_json b 1)")" \
	    C TagResource "$(j KeyId tk-$r Tags "$(tags_json c 1)")"
	[ "$(count OK)" = 1 ] &&
	    [ "$(grep -c '^InvalidParameter .*at most 20' "$tmp/race")" = 2 ] &&
	    every_host && [ "$(etcd_count "tags/tk-$r/")" = 20 ] &&
	    tags_everywhere tk-$r 20
	ok $? "round $r: the twentieth tag three times at once: one accepted, two refused at the limit; 20 tags on every host and in etcd ($(cat "$tmp/codes"))"

	# A group deleted while users join it.
	race A DeleteGroup "$(j GroupName g-$r)" \
	    B AddUserToGroup "$(j UserName ga-$r GroupName g-$r)" \
	    C AddUserToGroup "$(j UserName gb-$r GroupName g-$r)"
	exclusive && every_host
	ok $? "round $r: DeleteGroup racing two AddUserToGroup: the group went without members, or stayed with them ($(cat "$tmp/codes"))"

	# A policy deleted while it is attached.
	race A DeletePolicy "$(j PolicyName dp-$r)" \
	    B AttachPolicyToUser "$(j PolicyType Custom PolicyName dp-$r UserName ga-$r)" \
	    C AttachPolicyToUser "$(j PolicyType Custom PolicyName dp-$r UserName holder)"
	exclusive && every_host
	ok $? "round $r: DeletePolicy racing two AttachPolicyToUser: the policy went unattached, or stayed attached ($(cat "$tmp/codes"))"

	# Two foreign accounts for an instance whose quota is one.
	race A SetKeyPolicy "$(j KeyId qa-$r Policy "$(share_policy 2000000000000001)")" \
	    B SetKeyPolicy "$(j KeyId qb-$r Policy "$(share_policy 2000000000000002)")"
	[ "$(count OK)" = 1 ] && [ "$(count Rejected.ShareQuotaExceedLimit)" = 1 ] &&
	    every_host
	ok $? "round $r: two key policies of one instance, each naming another foreign account, quota 1: one accepted, one refused by the quota ($(cat "$tmp/codes"))"

	# The fifth version, three times at once.
	race A CreatePolicyVersion "$(j PolicyName vp-$r PolicyDocument "$(ram_doc a)")" \
	    B CreatePolicyVersion "$(j PolicyName vp-$r PolicyDocument "$(ram_doc b)")" \
	    C CreatePolicyVersion "$(j PolicyName vp-$r PolicyDocument "$(ram_doc c)")"
	[ "$(count OK)" = 1 ] &&
	    [ "$(grep -c '^InvalidParameter .*5 versions already' "$tmp/race")" = 2 ] &&
	    every_host && [ "$(etcd_count "policyversions/$ACCT/vp-$r/")" = 5 ]
	ok $? "round $r: the fifth policy version three times at once: one accepted, two refused at the limit; 5 versions everywhere ($(cat "$tmp/codes"))"

	# One version deleted three times at once.
	race A DeletePolicyVersion "$(j PolicyName vp-$r VersionId v2)" \
	    B DeletePolicyVersion "$(j PolicyName vp-$r VersionId v2)" \
	    C DeletePolicyVersion "$(j PolicyName vp-$r VersionId v2)"
	[ "$(count OK)" = 1 ] &&
	    [ "$(grep -c 'has no version v2' "$tmp/race")" = 2 ] &&
	    every_host && [ "$(etcd_count "policyversions/$ACCT/vp-$r/")" = 4 ]
	ok $? "round $r: one policy version deleted three times at once: one accepted, two find it gone; 4 versions everywhere ($(cat "$tmp/codes"))"
done

fleet_finish
