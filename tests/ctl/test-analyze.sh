#!/bin/sh
# SPDX-License-Identifier: ISC
# kmsauthzctl analyze on tests/ctl/why-bundle.json: who-can (one action,
# every action), what-can, impact of a key policy and of a RAM policy's
# new version, and usage errors.  TAP.  (Exactness against brute force:
# tests/unit/test-analyze.c.)
CTL=${top_builddir:-.}/src/ctl/kmsauthzctl
B=${top_srcdir:-.}/tests/ctl/why-bundle.json
K=acs:kms:cn-hangzhou:111111111111:key/key-why-a
T=${TMPDIR:-/tmp}/tcanalyze.$$
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: got [$2] want [$3]"; fi; }
has() { case $2 in *"$3"*) ok "$1" ;; *) nok "$1: [$3] not in [$2]" ;; esac; }
hasnt() { case $2 in *"$3"*) nok "$1: [$3] in [$2]" ;; *) ok "$1" ;; esac; }
echo "1..18"

out=$("$CTL" analyze who-can --bundle "$B" --resource "$K" --action kms:Decrypt)
check "who-can Decrypt: exit 0" "$?" 0
has "the partner user, unconditional, by both statements" "$out" \
    '{"Principal":"acs:ram::222222222222:user/bob","Conditional":false,"Conditions":[],"Statements":[{"Source":"policy/PartnerUse","Index":0},{"Source":"key/key-why-a","Index":0,"Sid":"PartnerDecrypt"}]}'
has "the partner account's root" "$out" '"Principal":"acs:ram::222222222222:root","Conditional":false'
hasnt "the partner role without an identity allow is not listed" "$out" 'role/app'
has "the partner account as a pattern that needs its own allow" "$out" \
    '{"Pattern":"acs:ram::222222222222:*","Conditional":false,"Conditions":[],"Statements":[{"Source":"key/key-why-a","Index":0,"Sid":"PartnerDecrypt"}],"Needs":"an Allow for the action on this key in an identity policy of its own account (an account root has it)"}'
out=$("$CTL" analyze who-can --bundle "$B" --resource "$K" --action kms:Encrypt)
has "a conditional principal with its condition" "$out" \
    '{"Principal":"acs:ram::111111111111:user/alice","Conditional":true,"Conditions":[{"Condition":"IpAddress acs:SourceIp 192.0.2.0/24","Effect":"Allow","Statement":"key/key-why-a","Index":1}]'
out=$("$CTL" analyze who-can --bundle "$B" --resource "$K" --action kms:ScheduleKeyDeletion)
has "a Deny's condition on a conditional root" "$out" \
    '"Conditional":true,"Conditions":[{"Condition":"NotIpAddress acs:SourceIp 192.0.2.0/24","Effect":"Deny"'
out=$("$CTL" analyze who-can --bundle "$B" --resource "$K")
has "every action, grouped" "$out" '"Actions":{"kms:AdvanceDecrypt":{"Principals":[{"Principal":"acs:ram::111111111111:root"'
has "every action: Decrypt's partner" "$out" '"kms:Decrypt":{"Principals":[{"Principal":"acs:ram::111111111111:root","Conditional":false,"Conditions":[],"Statements":[]},{"Principal":"acs:ram::222222222222:root"'
out=$("$CTL" analyze what-can --bundle "$B" --principal acs:ram::111111111111:user/alice)
check "what-can alice: one conditional pair" "$?:$out" \
    '0:{"Principal":"acs:ram::111111111111:user/alice","Keys":{"acs:kms:cn-hangzhou:111111111111:key/key-why-a":[{"Action":"kms:Encrypt","Conditional":true,"Conditions":[{"Condition":"IpAddress acs:SourceIp 192.0.2.0/24","Effect":"Allow","Statement":"key/key-why-a","Index":1}],"Statements":[{"Source":"key/key-why-a","Index":1,"Sid":"EncryptFromOffice"}]}]}}'
cat >"$T/kp.json" <<'EOC'
{"Version": "1", "Statement": [
 {"Effect": "Allow", "Action": ["kms:Decrypt"], "Principal": {"RAM": ["acs:ram::222222222222:*"]}, "Resource": ["*"]},
 {"Effect": "Allow", "Action": ["kms:Encrypt"], "Principal": {"RAM": ["acs:ram::111111111111:*"]}, "Resource": ["*"]}]}
EOC
out=$("$CTL" analyze impact --bundle "$B" --KeyId key-why-a --Policy "file://$T/kp.json")
check "impact of a key policy: exit 0" "$?" 0
has "a grant turned unconditional is gained" "$out" '"Gained":[{"Principal":"acs:ram::111111111111:user/alice","Action":"kms:Encrypt","Conditional":false}'
has "and its conditional row lost" "$out" '"Lost":[{"Principal":"acs:ram::111111111111:user/alice","Action":"kms:Encrypt","Conditional":true}'
echo '{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Sign"],"Resource":["*"]}]}' >"$T/ram.json"
out=$("$CTL" analyze impact --bundle "$B" --PolicyName SignProd --PolicyDocument "file://$T/ram.json")
has "impact of a RAM policy: Sign on the untagged key gained" "$out" \
    '{"Principal":"acs:ram::111111111111:user/alice","Action":"kms:Sign","Resource":"acs:kms:cn-hangzhou:111111111111:key/key-why-b","Conditional":false}'
err=$("$CTL" analyze impact --bundle "$B" --KeyId key-nope --Policy "file://$T/kp.json" 2>&1)
check "impact of an unknown key: exit 2" "$?:$err" "2:kmsauthzctl: analyze: no key key-nope"
echo '{"Statement": 5}' >"$T/bad.json"
"$CTL" analyze impact --bundle "$B" --KeyId key-why-a --Policy "file://$T/bad.json" >/dev/null 2>&1
check "an invalid new policy: exit 2" "$?" 2
"$CTL" analyze who-can --bundle "$B" >/dev/null 2>&1
check "who-can without --resource: usage, exit 2" "$?" 2
err=$("$CTL" analyze who-can --bundle "$B" --resource acs:kms:cn-hangzhou:111111111111:key/nope 2>&1)
check "who-can on a key that does not exist: exit 2" "$?:$err" \
    "2:kmsauthzctl: analyze: acs:kms:cn-hangzhou:111111111111:key/nope: no such key in $B"
