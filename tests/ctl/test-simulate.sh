#!/bin/sh
# kmsauthzctl simulate: one request, many (JSONL), bad bundles; exit
# statuses.  TAP.
CTL=${top_builddir:-.}/src/ctl/kmsauthzctl
B=${top_srcdir:-.}/etc/example-bundle.json
A=1192853035118888
K=acs:kms:cn-hangzhou:$A:key/key-hzz6304944631ejqjx0001
T=${TMPDIR:-/tmp}/sim.$$
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: got [$2] want [$3]"; fi; }
echo "1..12"

out=$("$CTL" simulate --bundle "$B" --principal "acs:ram::$A:root" \
    --action kms:Encrypt --resource "$K" --time 2026-01-01T00:00:00Z)
check "root allowed (exit 0)" "$?:$out" \
    '0:{"Decision":"ALLOW","Reason":"allowed-as-account-root"}'
out=$("$CTL" simulate --bundle "$B" --principal "acs:ram::1903253031268888:root" \
    --action kms:Encrypt --resource "$K")
check "foreign root denied (exit 1)" "$?:$out" \
    '1:{"Decision":"IMPLICIT_DENY","Reason":"cross-account-needs-key-policy-allow"}'
out=$("$CTL" simulate --bundle "$B" --principal "acs:ram::$A:root" \
    --action kms:Encrypt --resource "$K" --explain)
check "explain lists the key policy" "$?:$out" \
    '0:{"Decision":"ALLOW","Reason":"allowed-as-account-root","MatchedStatements":[{"Source":"key/key-hzz6304944631ejqjx0001","Index":0,"Sid":"kms default key policy"}]}'
out=$("$CTL" simulate --bundle "$B" --principal "acs:ram::$A:root" \
    --action kms:Encrypt --resource "$K" --source-ip 300.1.1.1)
check "bad source ip is an invalid request" "$?:$(echo "$out" | cut -c1-60)" \
    '1:{"Decision":"IMPLICIT_DENY","Reason":"invalid-request","Erro'
"$CTL" simulate --bundle "$B" --principal x >/dev/null 2>&1
check "usage error exits 2" "$?" 2
out=$("$CTL" simulate --bundle "$B" --principal "acs:ram::$A:root" \
    --action a --resource r --context k=1 --context K=2)
check "duplicate context is an invalid request" "$?:$(echo "$out" | cut -c1-60)" \
    '1:{"Decision":"IMPLICIT_DENY","Reason":"invalid-request","Erro'

printf '%s\n' \
    "{\"Id\":\"r1\",\"Principal\":\"acs:ram::$A:root\",\"Action\":\"kms:Encrypt\",\"Resource\":\"$K\"}" \
    '' \
    '{not json' \
    "{\"Principal\":\"acs:ram::$A:root\",\"Action\":\"kms:Encrypt\",\"Resource\":\"acs:kms:cn-hangzhou:$A:key/none\"}" \
    "{\"Id\":7,\"Principal\":\"acs:ram::$A:root\",\"Action\":\"a\",\"Resource\":\"r\",\"Bogus\":1}" \
    > "$T/req.jsonl"
"$CTL" simulate --bundle "$B" --requests "$T/req.jsonl" > "$T/out" 2>"$T/err"
check "jsonl run exits 0" "$?" 0
check "one answer per request line" "$(wc -l < "$T/out" | tr -d ' ')" 4
check "answers in order, Id echoed" "$(sed -n 1p "$T/out")" \
    '{"Id":"r1","Decision":"ALLOW","Reason":"allowed-as-account-root"}'
check "line number stands for a missing Id" \
    "$(sed -n 3p "$T/out")" \
    '{"Id":4,"Decision":"IMPLICIT_DENY","Reason":"key-not-found"}'
check "malformed lines answered invalid-request" \
    "$(grep -c '"Reason":"invalid-request","Error":{"Code":"InvalidParameter"' "$T/out")" 2

echo '{"FormatVersion": 1, "Keys": [{"KeyId": "k"}]}' > "$T/bad.json"
"$CTL" simulate --bundle "$T/bad.json" --requests "$T/req.jsonl" \
    > "$T/out" 2> "$T/err"
rc=$?
check "invalid bundle: exit 2, nothing on stdout, errors on stderr" \
    "$rc:$(wc -c < "$T/out" | tr -d ' '):$(grep -c 'Keys\[0\]' "$T/err")" \
    "2:0:3"
