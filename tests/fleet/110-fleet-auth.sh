#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode with etcd's authentication and a prefix of its own: hosts
# A and B with etcd_user and etcd_password_file serve under /team-a/ and
# a change made through A is answered at B; tokens that expire (2 s
# unused) are asked for again by the mirror and the writes alike; a host
# with a wrong password is refused (not connected, LastError naming the
# refusal, its changes refused); a password file others can read is
# refused when the daemon starts; a host under the default prefix of the
# same etcd sees none of /team-a/'s state.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 9

ETCD_EXTRA_ARGS="--auth-token-ttl 2" etcd_cluster 1 ||
    { ok 1 "etcd starts"; fleet_finish; }
printf 'rootpw\n' >"$tmp/pw"
printf 'wrong\n' >"$tmp/bad"
chmod 600 "$tmp/pw" "$tmp/bad"
etcd_ctl user add root:rootpw >/dev/null 2>&1 &&
    etcd_ctl user grant-role root root >/dev/null 2>&1 &&
    etcd_ctl auth enable >/dev/null 2>&1
ok $? "etcd with authentication"
etcd_ctl_user=root:rootpw

for h in A B; do
	host_config $h "etcd_prefix = /team-a/" "etcd_user = root" \
	    "etcd_password_file = $tmp/pw"
	start_host $h || { ok 1 "host $h starts"; fleet_finish; }
done
wait_until 20 host_serving A && wait_until 20 host_serving B
ok $? "A and B serve with etcd_user and etcd_password_file under /team-a/"

ACCT=$FLEET_ACCT
K=acs:kms:cn-hangzhou:$ACCT:key/key-u
P=acs:ram::$ACCT:user/alice
[ "$(qcheck B "$P" kms:Decrypt "$K")" = IMPLICIT_DENY ] &&
    actl A CreateInstance --InstanceId kst-u &&
    actl A CreateKey --DKMSInstanceId kst-u --KeyId key-u &&
    [ "$(qcheck B "$P" kms:Decrypt "$K" --min-generation "$(agen)")" = ALLOW ] &&
    etcd_ctl get --prefix /team-a/data/ --keys-only | grep -q '/keys/key-u$'
ok $? "a change made through A is answered at B; etcd holds it under /team-a/"

# 4: after the tokens expired (2 s unused), a write and its propagation.
gen0=$(agen)
expired() { [ "$(date +%s)" -ge "$1" ]; }
wait_until 10 expired $(($(date +%s) + 3))
actl A TagResource --KeyId key-u --Tags '[{"TagKey":"after","TagValue":"ttl"}]' &&
    [ "$(agen)" -gt "$gen0" ] &&
    [ "$(qcheck B "$P" kms:Decrypt "$K" --min-generation "$(agen)")" = ALLOW ]
ok $? "after the tokens expired: a change through A, answered at B at generation $(agen)"

# 5-6: a wrong password.
host_config W "etcd_prefix = /team-a/" "etcd_user = root" \
    "etcd_password_file = $tmp/bad"
start_host W || { ok 1 "host W starts"; fleet_finish; }
authfail() {
	case $(host_status W) in
	*'"Connected":false'*'"LastError":"'*'authentication failed'*) return 0 ;;
	esac
	return 1
}
wait_until 20 authfail
ok $? "a wrong password: not connected, LastError names it ($(hjson W 'd["Fleet"].get("LastError")'))"
actl W CreateInstance --InstanceId kst-w
grep -q '"Code":"ServiceUnavailable"' "$tmp/ans"
ok $? "...its changes are refused (ServiceUnavailable)"

# 7: a password file others can read: the daemon does not start.
chmod 644 "$tmp/pw"
host_config R "etcd_prefix = /team-a/" "etcd_user = root" \
    "etcd_password_file = $tmp/pw"
timeout 20 "$KMSAUTHZD" -f -c "$tmp/R/kmsauthzd.conf" 2>"$tmp/R/err"
rc=$?
chmod 600 "$tmp/pw"
[ $rc -ne 0 ] && grep -q "$tmp/pw: readable or writable by others" "$tmp/R/err"
ok $? "a password file others can read: refused at start ($(tail -1 "$tmp/R/err"))"

# 8: the default prefix of the same etcd holds nothing of /team-a/.
host_config D "etcd_user = root" "etcd_password_file = $tmp/pw"
start_host D && wait_until 20 host_serving D &&
    [ "$(hget D Keys)" = 0 ] && [ "$(qcheck D "$P" kms:Decrypt "$K")" = IMPLICIT_DENY ]
ok $? "a host under /kmsauthz/ sees nothing of /team-a/ (keys $(hget D Keys))"

fleet_finish
