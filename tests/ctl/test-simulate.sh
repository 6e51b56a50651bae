#!/bin/sh
# SPDX-License-Identifier: ISC
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
echo "1..32"

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
    '0:{"Decision":"ALLOW","Reason":"allowed-as-account-root","MatchedStatements":[{"Source":"key/key-hzz6304944631ejqjx0001","Index":0,"Sid":"kms default key policy"}],"Explanation":{"Rule":"account-root","Identity":{"Result":"ROOT","Statements":[]},"KeyPolicy":{"Result":"ALLOW","Statements":[{"Source":"key/key-hzz6304944631ejqjx0001","Index":0,"Sid":"kms default key policy"}]}}}'
# An invalid request, whatever the cause: its answer line, with Error,
# and exit 2.
I='{"Decision":"IMPLICIT_DENY","Reason":"invalid-request","Error":{"Code":"InvalidParameter","Message":'
inv() {	# inv DESCRIPTION MESSAGE-PART simulate-args...
	d=$1 m=$2
	shift 2
	out=$("$CTL" simulate --bundle "$B" "$@" 2>/dev/null)
	rc=$?
	case "$out" in
	"$I"*"$m"*) check "$d" "$rc" 2 ;;
	*) nok "$d: got [$rc:$out]" ;;
	esac
}
R1="--action kms:Encrypt --resource $K"
# shellcheck disable=SC2086
{
inv "bad source ip: invalid request, exit 2" "not an IPv4" \
    --principal "acs:ram::$A:root" $R1 --source-ip 300.1.1.1
inv "bad principal ARN: invalid request, exit 2" "Principal" \
    --principal "acs:ram::$A:group/g" $R1
inv "bad --time: invalid request, exit 2" "RFC 3339" \
    --principal "acs:ram::$A:root" $R1 --time yesterday
inv "duplicate --context (same case): invalid request, exit 2" "duplicate" \
    --principal "acs:ram::$A:root" $R1 --context a=1 --context a=2
inv "duplicate --context (case differs): invalid request, exit 2" "duplicate" \
    --principal "acs:ram::$A:root" $R1 --context k=1 --context K=2
inv "context acs:SourceIp not an address: invalid request, exit 2" \
    "acs:SourceIp" --principal "acs:ram::$A:root" $R1 \
    --context acs:SourceIp=garbage
inv "context acs:CurrentTime not a time: invalid request, exit 2" \
    "acs:CurrentTime" --principal "acs:ram::$A:root" $R1 \
    --context acs:CurrentTime=soon
out=$("$CTL" simulate --bundle "$B" --principal "acs:ram::$A:root" $R1 \
    --source-ip 10.0.0.1 --context acs:SourceIp=garbage)
check "SourceIp wins: a bad context acs:SourceIp is then ignored" "$?:$out" \
    '0:{"Decision":"ALLOW","Reason":"allowed-as-account-root"}'
"$CTL" simulate --bundle "$B" --principal x >/dev/null 2>&1
check "usage error exits 2" "$?" 2
out=$("$CTL" simulate --bundle "$B" --principal "acs:ram::$A:root" $R1 \
    --context novalue 2>/dev/null)
check "--context without = is a usage error: exit 2, no answer" "$?:$out" 2:
out=$("$CTL" simulate --bundle "$T/missing.json" \
    --principal "acs:ram::$A:root" $R1 2>"$T/err")
check "unreadable bundle: exit 2, nothing on stdout, the error on stderr" \
    "$?:$out:$(grep -c missing.json "$T/err")" "2::1"
out=$("$CTL" simulate --bundle "$T" --principal "acs:ram::$A:root" \
    $R1 2>"$T/err")
check "a directory as the bundle: exit 2, nothing on stdout" \
    "$?:$out:$(grep -c kmsauthzctl "$T/err")" "2::1"
}

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

# Inside JSONL: every malformed line answered, the run goes on (exit 0).
P="\"Principal\":\"acs:ram::$A:root\",\"Action\":\"kms:Encrypt\",\"Resource\":\"$K\""
printf '%s\n' \
    "{\"Id\":\"arn\",\"Principal\":\"acs:ram::$A:group/g\",\"Action\":\"kms:Encrypt\",\"Resource\":\"$K\"}" \
    "{\"Id\":\"ip\",$P,\"SourceIp\":\"10.0.0.256\"}" \
    "{\"Id\":\"time\",$P,\"CurrentTime\":\"2026-13-01T00:00:00Z\"}" \
    "{\"Id\":\"dup\",$P,\"Context\":{\"app:x\":\"1\",\"APP:X\":\"2\"}}" \
    "{\"Id\":\"dupjson\",$P,\"Context\":{\"app:x\":\"1\",\"app:x\":\"2\"}}" \
    "{\"Id\":\"ctxip\",$P,\"Context\":{\"acs:SourceIp\":\"nope\"}}" \
    "{\"Id\":\"good\",$P,\"Context\":{\"n\":5,\"b\":true}}" \
    > "$T/bad.jsonl"
out=$("$CTL" simulate --bundle "$B" --requests - < "$T/bad.jsonl")
check "jsonl from standard input (-): exit 0" "$?" 0
check "  7 answers" "$(echo "$out" | wc -l | tr -d ' ')" 7
for id in arn ip time dup ctxip; do
	check "  $id line: invalid-request with Error" \
	    "$(echo "$out" | grep -c "^{\"Id\":\"$id\",\"Decision\":\"IMPLICIT_DENY\",\"Reason\":\"invalid-request\",\"Error\":{\"Code\":\"InvalidParameter\"")" 1
done
check "  duplicate keys in the JSON itself: invalid-request (line number as Id)" \
    "$(echo "$out" | sed -n 5p | cut -c1-61)" \
    '{"Id":5,"Decision":"IMPLICIT_DENY","Reason":"invalid-request"'
check "  numbers and booleans in Context are accepted" \
    "$(echo "$out" | sed -n 7p)" \
    '{"Id":"good","Decision":"ALLOW","Reason":"allowed-as-account-root"}'
"$CTL" simulate --bundle "$B" --requests "$T/none.jsonl" >"$T/out" 2>"$T/err"
check "unreadable requests file: exit 2" "$?:$(wc -c < "$T/out" | tr -d ' ')" 2:0

# Without CurrentTime each line is decided at the clock's time when it is
# read: an Allow from TT on (now + 2 s) denies the first line and allows
# the second, read 4 s later.
TT=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
cat > "$T/clock.json" <<EOF
{"FormatVersion": 1,
 "Policies": [{"PolicyName": "Later", "Account": "$A", "PolicyDocument":
   {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt",
    "Resource": "*", "Condition": {"DateGreaterThan": {"acs:CurrentTime": "$TT"}}}]}}],
 "Users": [{"Account": "$A", "UserName": "u", "Groups": [], "Policies": ["Later"]}]}
EOF
L="{\"Principal\":\"acs:ram::$A:user/u\",\"Action\":\"kms:Encrypt\",\"Resource\":\"acs:kms:cn-hangzhou:$A:secret/s\"}"
out=$( (echo "$L"; sleep 4; echo "$L") |
    "$CTL" simulate --bundle "$T/clock.json" --requests -)
check "the clock is read per line" "$(echo "$out" | tr '\n' ' ')" \
    '{"Id":1,"Decision":"IMPLICIT_DENY","Reason":"no-matching-allow"} {"Id":2,"Decision":"ALLOW","Reason":"allowed-by-identity-policy"} '

echo '{"FormatVersion": 1, "Keys": [{"KeyId": "k"}]}' > "$T/bad.json"
"$CTL" simulate --bundle "$T/bad.json" --requests "$T/req.jsonl" \
    > "$T/out" 2> "$T/err"
rc=$?
check "invalid bundle: exit 2, nothing on stdout, errors on stderr" \
    "$rc:$(wc -c < "$T/out" | tr -d ' '):$(grep -c 'Keys\[0\]' "$T/err")" \
    "2:0:3"
