#!/bin/sh
# SPDX-License-Identifier: ISC
# DryRun of SetKeyPolicy and CreatePolicyVersion: authorized and checked
# like the change, nothing committed (same generation, same policy, no
# new version) and nothing audited as a change; the answer lists the
# grants gained and lost.  A change without DryRun still changes (the
# control).  The daemon is seeded with tests/ctl/why-bundle.json.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 14

C=$KMSAUTHZCTL
A="--socket $tmp/a.sock"
unset KMSAUTHZ_ADMIN_CONF
printf 'account = 111111111111\nregion = cn-hangzhou\naudit_file = %s\n' \
    "$tmp/audit.jsonl" >"$tmp/admin.conf"
write_config "seed_bundle = $top_srcdir/tests/ctl/why-bundle.json" \
    "admin_config = $tmp/admin.conf"
start_daemon
ok $? "daemon starts, seeded with tests/ctl/why-bundle.json"

gen() {
	"$C" query-status --socket "$tmp/q.sock" |
	    sed -n 's/.*"Generation":\([0-9]*\).*/\1/p'
}
changes() {	# audit lines naming call $1
	grep -c "\"$1\"" "$tmp/audit.jsonl" 2>/dev/null || true
}
cat >"$tmp/kp.json" <<'EOC'
{"Version": "1", "Statement": [
 {"Effect": "Allow", "Action": ["kms:Decrypt"], "Principal": {"RAM": ["acs:ram::222222222222:*"]}, "Resource": ["*"]},
 {"Effect": "Allow", "Action": ["kms:Encrypt"], "Principal": {"RAM": ["acs:ram::111111111111:*"]}, "Resource": ["*"]}]}
EOC
g0=$(gen)
kp0=$("$C" GetKeyPolicy --KeyId key-why-a $A)
a0=$(changes SetKeyPolicy)
# shellcheck disable=SC2086
out=$("$C" SetKeyPolicy --KeyId key-why-a --Policy "file://$tmp/kp.json" \
    --DryRun true $A 2>&1)
ok $? "SetKeyPolicy DryRun answers" || diag "$out"
case $out in
*'"DryRun":true'*'"Gained":['*'{"Principal":"acs:ram::111111111111:user/alice","Action":"kms:Encrypt","Resource":"acs:kms:cn-hangzhou:111111111111:key/key-why-a","Conditional":false}'*) ok 0 "the impact: alice's Encrypt becomes unconditional" ;;
*) ok 1 "the impact: alice's Encrypt becomes unconditional"; diag "$out" ;;
esac
case $out in
*'"Lost":['*'"Principal":"acs:ram::111111111111:user/alice","Action":"kms:Encrypt","Resource":"acs:kms:cn-hangzhou:111111111111:key/key-why-a","Conditional":true}'*) ok 0 "and its conditional grant lost" ;;
*) ok 1 "and its conditional grant lost"; diag "$out" ;;
esac
[ "$(gen)" = "$g0" ]
ok $? "nothing committed: generation $g0"
# shellcheck disable=SC2086
[ "$("$C" GetKeyPolicy --KeyId key-why-a $A | sed 's/"RequestId":"[^"]*"//')" = \
    "$(echo "$kp0" | sed 's/"RequestId":"[^"]*"//')" ]
ok $? "the key policy is the one in force"
[ "$(changes SetKeyPolicy)" = "$a0" ]
ok $? "nothing audited as a change"
echo '{"Statement": 5}' >"$tmp/bad.json"
# shellcheck disable=SC2086
out=$("$C" SetKeyPolicy --KeyId key-why-a --Policy "file://$tmp/bad.json" \
    --DryRun true $A 2>&1)
case $out in
*InvalidParameter*) ok 0 "an invalid policy is refused as by the change" ;;
*) ok 1 "an invalid policy is refused as by the change"; diag "$out" ;;
esac

echo '{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Sign"],"Resource":["*"]}]}' >"$tmp/ram.json"
# shellcheck disable=SC2086
out=$("$C" CreatePolicyVersion --PolicyName SignProd --PolicyDocument \
    "file://$tmp/ram.json" --SetAsDefault true --DryRun true $A 2>&1)
case $out in
*'"Gained":[{"Principal":"acs:ram::111111111111:user/alice","Action":"kms:Sign","Resource":"acs:kms:cn-hangzhou:111111111111:key/key-why-'*) ok 0 "CreatePolicyVersion DryRun: Sign gained" ;;
*) ok 1 "CreatePolicyVersion DryRun: Sign gained"; diag "$out" ;;
esac
# shellcheck disable=SC2086
out=$("$C" ListPolicyVersions --PolicyName SignProd --PolicyType Custom $A 2>&1)
case $out in
*'"v2"'*) ok 1 "no version created"; diag "$out" ;;
*'"v1"'*) ok 0 "no version created" ;;
*) ok 1 "no version created"; diag "$out" ;;
esac
[ "$(gen)" = "$g0" ] && [ "$(changes CreatePolicyVersion)" = 0 ]
ok $? "still generation $g0, nothing audited"

# The control: without DryRun the change happens and is audited.
# shellcheck disable=SC2086
"$C" SetKeyPolicy --KeyId key-why-a --Policy "file://$tmp/kp.json" $A \
    >/dev/null 2>&1
ok $? "SetKeyPolicy without DryRun"
[ "$(gen)" != "$g0" ] && [ "$(changes SetKeyPolicy)" != "$a0" ]
ok $? "committed and audited"
finish
