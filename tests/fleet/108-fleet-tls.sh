#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode over TLS: certificates made with openssl here (a CA, the
# member's, a client's, and a client of another CA), one etcd member
# that requires client certificates.  Hosts A and B with etcd_cacert,
# etcd_cert and etcd_key serve, and a change made through A is answered
# at B.  A host whose client certificate comes from another CA, and one
# without a client certificate, are refused: not connected, LastError
# naming the TLS failure, never serving (and their changes refused); a
# host that trusts another CA refuses the member's certificate.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
command -v openssl >/dev/null || skip_all "openssl missing"
plan 11

etcd_certs || { ok 1 "certificates"; fleet_finish; }
etcd_cluster 1 tls || { ok 1 "etcd starts with TLS"; fleet_finish; }
case $ETCD_ALL in https://*) ;; *) ok 1 "TLS endpoint"; fleet_finish ;; esac
PKI=$tmp/pki
for h in A B; do
	host_config $h "etcd_cacert = $PKI/ca.crt" "etcd_cert = $PKI/client.crt" \
	    "etcd_key = $PKI/client.key"
	start_host $h || { ok 1 "host $h starts"; fleet_finish; }
done
wait_until 20 hosts_in_step A B
ok $? "A and B serve over TLS with client certificates ($ETCD_ALL, revision $(etcd_rev))"

ACCT=$FLEET_ACCT
K=acs:kms:cn-hangzhou:$ACCT:key/key-t
P=acs:ram::$ACCT:user/alice
[ "$(qcheck B "$P" kms:Decrypt "$K")" = IMPLICIT_DENY ] &&
    actl A CreateInstance --InstanceId kst-t && actl A CreateKey --DKMSInstanceId kst-t --KeyId key-t &&
    [ "$(qcheck B "$P" kms:Decrypt "$K" --min-generation "$(agen)")" = ALLOW ]
ok $? "a change made through A is answered at B (deny -> allow at generation $(agen))"
wait_until 20 hosts_in_step A B &&
    etcd_ctl get --prefix /kmsauthz/data/ --keys-only | grep -q '/keys/key-t$'
ok $? "both in step at revision $(etcd_rev); etcd holds the key"

# 4-8: a client certificate of another CA; none at all.
host_config X "etcd_cacert = $PKI/ca.crt" "etcd_cert = $PKI/intruder.crt" \
    "etcd_key = $PKI/intruder.key"
host_config Y "etcd_cacert = $PKI/ca.crt"
host_config Z "etcd_cacert = $PKI/other.crt" "etcd_cert = $PKI/client.crt" \
    "etcd_key = $PKI/client.key"
for h in X Y Z; do
	start_host $h || { ok 1 "host $h starts"; fleet_finish; }
done
refused() {
	case $(host_status "$1") in
	*'"State":"syncing"'*'"Connected":false'*'"LastError":"'*) return 0 ;;
	esac
	return 1
}
wait_until 20 refused X
ok $? "another CA's client certificate: syncing, not connected"
# In TLS 1.3 the server judges the client's certificate after the
# client's side of the handshake: a try may end in a reset instead of
# the alert, so wait for a try that names the refusal.
tls_err() {
	hjson "$1" 'd["Fleet"]["LastError"]' |
	    grep -q -i 'tls\|ssl\|handshake\|alert\|certificate'
}
wait_until 30 tls_err X
ok $? "...LastError names the TLS refusal ($(hjson X 'd["Fleet"]["LastError"]'))"
wait_until 20 refused Y && wait_until 30 tls_err Y
ok $? "no client certificate: refused too, not connected ($(hjson Y 'd["Fleet"]["LastError"]'))"
wait_until 20 refused Z
err=$(hjson Z 'd["Fleet"]["LastError"]')
echo "$err" | grep -q -i 'certificate\|verify\|issuer'
ok $? "a host trusting another CA refuses the member's certificate ($err)"

# 8-9: never serving: no state, no change.
bad=0
for h in X Y Z; do
	host_log $h 'fleet: serving|applied whole' >/dev/null && bad=1
	[ "$(hget $h AppliedRevision)" = 0 ] || bad=1
	[ "$(qcheck $h "$P" kms:Decrypt "$K")" = ALLOW ] && bad=1
done
[ $bad -eq 0 ]
ok $? "X, Y and Z never serve: nothing applied, the decision A's change made is not theirs"
bad=0
for h in X Y Z; do
	actl $h CreateUser --UserName intruder
	[ "$(acode)" = ServiceUnavailable ] || { bad=1; diag "$h: $(cat "$tmp/ans")"; }
done
[ $bad -eq 0 ] && ! etcd_ctl get --prefix /kmsauthz/ --keys-only | grep -q intruder
ok $? "changes through them are refused with ServiceUnavailable, etcd untouched"
actl B CreateUser --UserName bob && wait_until 20 hosts_in_step A B
ok $? "A and B go on (a change through B, both at revision $(etcd_rev))"
fleet_finish
