#!/bin/sh
# SPDX-License-Identifier: ISC
# kmsauthzctl test: passing and failing cases on tests/ctl/why-bundle.json,
# the failure report (request, expected, actual, explanation), the
# summary line, JUnit XML, and bad case lines (file:line, exit 2).  TAP.
CTL=${top_builddir:-.}/src/ctl/kmsauthzctl
B=${top_srcdir:-.}/tests/ctl/why-bundle.json
K=acs:kms:cn-hangzhou:111111111111:key/key-why-a
T=${TMPDIR:-/tmp}/tctest.$$
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: got [$2] want [$3]"; fi; }
has() { case $2 in *"$3"*) ok "$1" ;; *) nok "$1: [$3] not in [$2]" ;; esac; }
echo "1..16"

cat >"$T/pass.jsonl" <<EOC
{"Name": "partner decrypts", "Principal": "acs:ram::222222222222:user/bob", "Action": "kms:Decrypt", "Resource": "$K", "Expect": "ALLOW", "ExpectReason": "allowed-by-both"}

{"Principal": "acs:ram::222222222222:role/app", "Action": "kms:Decrypt", "Resource": "$K", "Expect": "IMPLICIT_DENY"}
{"Principal": "acs:ram::111111111111:root", "Action": "kms:ScheduleKeyDeletion", "Resource": "$K", "SourceIp": "10.0.0.1", "Expect": "EXPLICIT_DENY"}
EOC
out=$("$CTL" test --bundle "$B" "$T/pass.jsonl")
check "all pass: summary, exit 0" "$?:$out" "0:3 passed, 0 failed"

cat >"$T/fail.jsonl" <<EOC
{"Principal": "acs:ram::111111111111:user/alice", "Action": "kms:Encrypt", "Resource": "$K", "SourceIp": "198.51.100.7", "Expect": "ALLOW"}
{"Principal": "acs:ram::222222222222:role/app", "Action": "kms:Decrypt", "Resource": "$K", "Expect": "IMPLICIT_DENY", "ExpectReason": "cross-account-needs-key-policy-allow"}
{"Principal": "acs:ram::222222222222:user/bob", "Action": "kms:Decrypt", "Resource": "$K", "Expect": "ALLOW"}
EOC
out=$("$CTL" test --bundle "$B" --junit "$T/j.xml" "$T/pass.jsonl" "$T/fail.jsonl")
st=$?
check "failures: exit 1" "$st" 1
has "summary line" "$(echo "$out" | tail -1)" "4 passed, 2 failed"
has "failure names file:line" "$out" "FAIL $T/fail.jsonl:1"
has "failure shows the expected decision" "$out" "expected:    ALLOW"
has "failure shows the actual decision" "$out" "actual:      IMPLICIT_DENY no-matching-allow"
has "failure shows the failed condition" "$out" '"Failed":"acs:SourceIp 198.51.100.7 not in 192.0.2.0/24"'
has "a wrong reason fails" "$out" "actual:      IMPLICIT_DENY cross-account-needs-identity-allow"
has "the explanation shows the key policy's allow" "$out" '"KeyPolicy":{"Result":"ALLOW"'
x=$(cat "$T/j.xml" 2>/dev/null)
has "JUnit: totals" "$x" '<testsuites name="kmsauthzctl test" tests="6" failures="2">'
has "JUnit: one suite per file" "$x" "<testsuite name=\"$T/fail.jsonl\" tests=\"3\" failures=\"2\">"
has "JUnit: a case by Name" "$x" '<testcase classname="'"$T"'/pass.jsonl" name="partner decrypts"/>'
if command -v python3 >/dev/null; then
	python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$T/j.xml"
	check "JUnit: well-formed XML" "$?" 0
else
	ok "JUnit: well-formed XML # SKIP no python3"
fi

printf '%s\n' '{"Principal": "acs:ram::1:root", "Action": "kms:Encrypt", "Resource": "*", "Expect": "ALLOW"}' \
    '{"Principal": "acs:ram::1:root", "Action": "kms:Encrypt", "Resource": "*", "Expect": "MAYBE"}' >"$T/bad1.jsonl"
err=$("$CTL" test --bundle "$B" "$T/bad1.jsonl" 2>&1 >/dev/null)
check "bad Expect: file:line, exit 2" "$?:$err" \
    "2:kmsauthzctl: $T/bad1.jsonl:2: Expect must be \"ALLOW\", \"IMPLICIT_DENY\" or \"EXPLICIT_DENY\""
printf '%s\n' '{"Principal": "bob", "Action": "kms:Encrypt", "Resource": "*", "Expect": "ALLOW"}' >"$T/bad2.jsonl"
err=$("$CTL" test --bundle "$B" "$T/pass.jsonl" "$T/bad2.jsonl" 2>&1)
check "bad request, nothing decided: file:line, exit 2" "$?:$err" \
    "2:kmsauthzctl: $T/bad2.jsonl:1: Principal bob is not acs:ram::ACCOUNT:root, user/NAME or role/NAME"
printf '%s\n' '{"Principal": ' >"$T/bad3.jsonl"
err=$("$CTL" test --bundle "$B" "$T/bad3.jsonl" 2>&1)
has "bad JSON: file:line, exit 2" "$?:$err" "2:kmsauthzctl: $T/bad3.jsonl:1: not valid JSON"
