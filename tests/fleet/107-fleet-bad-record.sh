#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode, a record that fails validation: one etcd member, three
# hosts.  A malformed record put by hand under the live data set
# (etcdctl put PREFIX data/ID/keys/bad '{"KeyState":"Bogus"}') is not
# applied: every host keeps its last good world (2,000 checks answer as
# before, the AppliedRevision does not move), reports degraded naming
# the key and the reason, and refuses admin changes with
# ServiceUnavailable; a host started meanwhile says so too.  The record
# deleted, every host converges back to serving, at etcd's revision.
# Then an existing record overwritten with something that is not JSON:
# the same, until the good value is put back.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 17

fleet_up 1 A B C
fleetload setup "$tmp/A/a.sock" && wait_until 20 hosts_in_step A B C
ok $? "three hosts serving the storm's names (revision $(etcd_rev))"
g=$(etcd_rev)
ds=$(fleetload current)
fleetload checks "$tmp/A/q.sock" 11 2000 >"$tmp/before" 2>&1
grep -q '^ALLOW ' "$tmp/before" && grep -q '^IMPLICIT_DENY ' "$tmp/before"
ok $? "2,000 checks at generation $g, allows and denies"

# degraded_all KEY [NAME...]: every host degraded, naming KEY.
degraded_all() {
	_dk=$1
	shift
	for h in ${*:-A B C}; do
		case $(host_status $h) in
		*'"State":"degraded"'*"\"Degraded\":\"$_dk: "*) ;;
		*) return 1 ;;
		esac
	done
}
# same_checks [NAME...]: the checks of $tmp/before answered alike (the
# generation aside, with GEN: at generation GEN).
same_checks() {
	_sb=0
	cut -d' ' -f1,2,4- "$tmp/before" >"$tmp/before.d"
	for h in ${*:-A B C}; do
		fleetload checks "$tmp/$h/q.sock" 11 2000 >"$tmp/now.$h" 2>&1 || _sb=1
		cut -d' ' -f1,2,4- "$tmp/now.$h" | cmp -s "$tmp/before.d" - ||
		    { _sb=1; diag "$h answers otherwise"; }
		[ -z "${GEN:-}" ] || [ "$(cut -d' ' -f3 "$tmp/now.$h" | sort -u)" = "$GEN" ] ||
		    { _sb=1; diag "$h answers at another generation"; }
	done
	return $_sb
}
refused() {
	_rb=0
	for h in A B C; do
		actl $h TagResource --KeyId tk-2 --Tags '[{"TagKey":"x","TagValue":"'$h'"}]'
		if [ "$(acode)" != ServiceUnavailable ] || ! grep -q "\"Detail\":\".*degraded.*$1" "$tmp/ans"; then
			_rb=1
			diag "$h: $(cat "$tmp/ans")"
		fi
	done
	return $_rb
}

# 3-8: a bad record added.
BAD=/kmsauthz/data/$ds/keys/bad
etcd_ctl put "$BAD" '{"KeyState":"Bogus"}' >/dev/null
ok $? "etcdctl put $BAD '{\"KeyState\":\"Bogus\"}'"
wait_until 20 degraded_all "$BAD"
ok $? "every host is degraded, naming the key and why ($(hjson B 'd["Fleet"]["Degraded"]'))"
[ "$(hget A AppliedRevision)" = "$g" ] && [ "$(hget B AppliedRevision)" = "$g" ] &&
    [ "$(hget C Generation)" = "$g" ] && actl B DescribeKey --KeyId bad; [ "$(acode)" = Forbidden.KeyNotFound ]
ok $? "the record is not applied: every host stays at revision $g, no key 'bad'"
GEN=$g same_checks
ok $? "decisions unchanged: the 2,000 checks answer as before on every host, at generation $g"
refused bad
ok $? "admin changes are refused with ServiceUnavailable, degraded and the key in Detail ($(sed -n 's/.*"Detail":"\([^"]*\)".*/\1/p' "$tmp/ans" | cut -c1-160))"
host_config D
start_host D && wait_until 20 degraded_all "$BAD" D
ok $? "a host started now (empty store) reports degraded too ($(hjson D 'd["Fleet"]["State"]'))"

# 9-11: deleted: back to serving.
etcd_ctl del "$BAD" >/dev/null
ok $? "etcdctl del $BAD"
wait_until 60 hosts_in_step A B C D
ok $? "every host converges back to serving at revision $(etcd_rev)"
nodeg=0
for h in A B C D; do
	host_status $h | grep -q '"Degraded"' && nodeg=1
done
[ $nodeg -eq 0 ] && GEN=$(etcd_rev) same_checks A B C D
ok $? "no Degraded left; the checks answer as before on A, B, C and D"

# 12-15: an existing record overwritten with garbage, then restored.
KP=/kmsauthz/data/$ds/keypolicies/sk-1
etcd_ctl get --print-value-only "$KP" >"$tmp/kp.good"
fleetload checks "$tmp/A/q.sock" 11 2000 >"$tmp/before" 2>&1
g=$(etcd_rev)
etcd_ctl put "$KP" 'not json' >/dev/null && wait_until 20 degraded_all "$KP"
ok $? "sk-1's key policy overwritten with 'not json': every host degraded ($(hjson A 'd["Fleet"]["Degraded"]'))"
[ "$(hget A AppliedRevision)" = "$g" ] && [ "$(hget C AppliedRevision)" = "$g" ] &&
    GEN=$g same_checks A B C D
ok $? "the last good key policy still decides on every host (revision $g)"
refused keypolicies/sk-1
ok $? "admin changes refused with ServiceUnavailable"
etcd_ctl put "$KP" "$(cat "$tmp/kp.good")" >/dev/null && wait_until 60 hosts_in_step A B C D &&
    GEN=$(etcd_rev) same_checks A B C D
ok $? "the good value put back: every host serving at revision $(etcd_rev), the same decisions"
actl C TagResource --KeyId tk-2 --Tags '[{"TagKey":"x","TagValue":"ok"}]' && [ "$(acode)" = OK ] &&
    wait_until 20 hosts_in_step A B C D
ok $? "changes work again"
fleet_finish
