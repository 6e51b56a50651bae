#!/bin/sh
# SPDX-License-Identifier: ISC
# Explanations by halves (docs/semantics.md section 4.10): kmsauthzctl
# check --explain and --explain=full against the daemon seeded with
# tests/ctl/why-bundle.json give exactly simulate's answer, Explanation
# included, for each case: a cross-account deny whose key policy allowed
# (the identity half is what is missing), an IP condition that failed, a
# missing tag, a cross-account allow by both, a root's explicit deny;
# and kmsauthzctl test --socket reports exactly as test --bundle.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 15

B=$top_srcdir/tests/ctl/why-bundle.json
CTL=$top_builddir/src/ctl/kmsauthzctl
K=acs:kms:cn-hangzhou:111111111111:key/key-why-a
write_config "seed_bundle = $B"
start_daemon
ok $? "daemon starts, seeded with tests/ctl/why-bundle.json"

# same DESCRIPTION EXPLAIN-ARG ARGS...: check and simulate agree.
same() {
	d=$1 e=$2
	shift 2
	on=$("$CTL" check --socket "$tmp/q.sock" "$e" --time \
	    2026-01-01T00:00:00Z "$@" 2>&1)
	s1=$?
	off=$("$CTL" simulate --bundle "$B" "$e" --time \
	    2026-01-01T00:00:00Z "$@" 2>&1)
	s2=$?
	if [ "$s1:$on" = "$s2:$off" ]; then
		ok 0 "$d"
	else
		ok 1 "$d"
		diag "check $s1:$on"
		diag "simulate $s2:$off"
	fi
}
has() {	# has DESCRIPTION TEXT ARGS...: check's output contains TEXT.
	d=$1 t=$2
	shift 2
	out=$("$CTL" check --socket "$tmp/q.sock" "$@" 2>&1)
	case $out in
	*"$t"*) ok 0 "$d" ;;
	*) ok 1 "$d"; diag "got $out" ;;
	esac
}
A=acs:ram::111111111111
P=acs:ram::222222222222
same "cross-account deny: halves" --explain --principal $P:role/app \
    --action kms:Decrypt --resource $K
has "cross-account deny: the key policy allowed, the identity did not" \
    '"Rule":"cross-account-both","Identity":{"Result":"NO_MATCH","Statements":[]},"KeyPolicy":{"Result":"ALLOW","Statements":[{"Source":"key/key-why-a","Index":0,"Sid":"PartnerDecrypt"}]}' \
    --explain --principal $P:role/app --action kms:Decrypt --resource $K
same "failed IP condition" --explain=full --principal $A:user/alice \
    --action kms:Encrypt --resource $K --source-ip 198.51.100.7
has "the IP condition is named" \
    '"Failed":"acs:SourceIp 198.51.100.7 not in 192.0.2.0/24"' \
    --explain=full --principal $A:user/alice --action kms:Encrypt \
    --resource $K --source-ip 198.51.100.7
same "missing and mismatched tags" --explain=full \
    --principal $A:user/alice --action kms:Sign --resource $K
has "a missing tag is named" '"Failed":"kms:tag/Owner missing"' \
    --explain=full --principal $A:user/alice --action kms:Sign \
    --resource $K
same "cross-account allow by both" --explain=full \
    --principal $P:user/bob --action kms:Decrypt --resource $K
same "root's explicit deny" --explain=full --principal $A:root \
    --action kms:ScheduleKeyDeletion --resource $K --source-ip 10.0.0.1
has "explicit deny wins over the root" \
    '"Rule":"explicit-deny-wins","Identity":{"Result":"ROOT"' \
    --explain --principal $A:root --action kms:ScheduleKeyDeletion \
    --resource $K --source-ip 10.0.0.1
same "unknown key" --explain --principal $A:root --action kms:Encrypt \
    --resource acs:kms:cn-hangzhou:111111111111:key/nope
has "without --explain, no Explanation" '{"Decision":"ALLOW","Reason":"allowed-by-both"}' \
    --principal $P:user/bob --action kms:Decrypt --resource $K
cat >"$tmp/cases.jsonl" <<EOC
{"Principal": "$P:user/bob", "Action": "kms:Decrypt", "Resource": "$K", "Expect": "ALLOW", "ExpectReason": "allowed-by-both"}
{"Principal": "$A:user/alice", "Action": "kms:Encrypt", "Resource": "$K", "SourceIp": "198.51.100.7", "Expect": "ALLOW"}
{"Principal": "$P:role/app", "Action": "kms:Decrypt", "Resource": "$K", "CurrentTime": "2026-01-01T00:00:00Z", "Expect": "IMPLICIT_DENY"}
EOC
on=$("$CTL" test --socket "$tmp/q.sock" "$tmp/cases.jsonl" 2>&1)
s1=$?
off=$("$CTL" test --bundle "$B" "$tmp/cases.jsonl" 2>&1)
s2=$?
[ "$s1:$on" = "$s2:$off" ]
ok $? "test --socket reports as test --bundle" ||:
[ "$s1" = 1 ] && [ "$(echo "$on" | tail -1)" = "2 passed, 1 failed" ]
ok $? "test --socket: 2 passed, 1 failed, exit 1"
finish
