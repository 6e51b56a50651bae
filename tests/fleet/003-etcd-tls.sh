#!/bin/sh
# SPDX-License-Identifier: ISC
# The etcd client over https with client certificates (made here with
# openssl): the server verified against the CA and its IP address, the
# client certificate presented; a client certificate of another CA, no
# client certificate, the wrong CA and a certificate for another
# address all refused, each with its cause.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
command -v openssl >/dev/null || skip_all "openssl missing"
plan 11

etcd_certs
ok $? "a CA, server and client certificates"
etcd_cluster 1 tls || { ok 1 "etcd starts with TLS"; etcd_finish; }
E=$ETCD_ALL
P=$tmp/pki

# 2-3: the right CA and client certificate.
ETCD_CA=$P/ca.crt ETCD_CERT=$P/client.crt ETCD_KEY=$P/client.key \
    probe put fleet/tls yes && grep -q 'succeeded=1' "$tmp/out"
ok $? "a put over https with a client certificate ($(head -1 "$tmp/out"))"
ETCD_CA=$P/ca.crt ETCD_CERT=$P/client.crt ETCD_KEY=$P/client.key \
    probe get fleet/tls && grep -q '^fleet/tls=yes ' "$tmp/out"
ok $? "a range over https"

# 4: a watch over https.
rev=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
ETCD_CA=$P/ca.crt ETCD_CERT=$P/client.crt ETCD_KEY=$P/client.key \
    probe watch fleet/ "$rev" 1 && grep -q 'put fleet/tls=yes' "$tmp/out"
ok $? "a watch over https"

# 5: a client certificate of another CA: the server refuses it.  In
# TLS 1.3 the client's side of the handshake ends before the server has
# judged its certificate: the refusal is the server's alert or, when the
# close wins the race, a reset (the member is up: test 3 just read it).
ETCD_CA=$P/ca.crt ETCD_CERT=$P/intruder.crt ETCD_KEY=$P/intruder.key \
    probe get fleet/tls
grep -q "^error unavailable: $E: .*\(TLS: .*\(certificate\|alert\)\|connection refused or reset\)" "$tmp/out"
ok $? "a client certificate of another CA is refused ($(cat "$tmp/out"))"

# 6: no client certificate (the same race as 5).
ETCD_CA=$P/ca.crt probe get fleet/tls
grep -q "^error unavailable: $E: .*\(TLS: \|connection refused or reset\)" "$tmp/out"
ok $? "no client certificate is refused ($(cat "$tmp/out"))"

# 7: the wrong CA: the server's certificate is not trusted.
ETCD_CA=$P/other.crt ETCD_CERT=$P/client.crt ETCD_KEY=$P/client.key \
    probe get fleet/tls
grep -q "^error unavailable: $E: cannot connect: TLS: server certificate refused: unable to get local issuer certificate" "$tmp/out"
ok $? "a server certificate of another CA is refused ($(cat "$tmp/out"))"

# 8: a server certificate for another address (the endpoint's IP must
# be in the certificate): 127.0.0.1 served with a 127.0.0.2 one.
etcd_stop m1
sed -i "s|$P/server\.|$P/wrongip.|g" "$tmp/m1/args"
etcd_start m1
wait_until 60 sh -c "curl -s -k -m 2 --cert $P/client.crt --key $P/client.key $E/health | grep -q true"
ETCD_CA=$P/ca.crt ETCD_CERT=$P/client.crt ETCD_KEY=$P/client.key \
    probe get fleet/tls
grep -q "^error unavailable: $E: cannot connect: TLS: server certificate refused: IP address mismatch" "$tmp/out"
ok $? "a server certificate for another address is refused ($(cat "$tmp/out"))"

# 9: a certificate without its key, and http with a CA: configuration errors.
ETCD_CA=$P/ca.crt ETCD_CERT=$P/client.crt probe get fleet/tls
grep -q "^error config: a client certificate needs both" "$tmp/out"
r1=$?
ETCD_ENDPOINTS=http://127.0.0.1:1 ETCD_CA=$P/ca.crt probe get x
grep -q "^error config: a CA or a client certificate, but no https" "$tmp/out"
[ $r1 -eq 0 ] && [ $? -eq 0 ]
ok $? "TLS configuration errors"

probe_clean "$tmp/out"
ok $? "no sanitizer report from the probe"
etcd_finish
