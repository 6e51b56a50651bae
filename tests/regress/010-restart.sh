#!/bin/sh
# SPDX-License-Identifier: ISC
# Restart keeps the state: changes made through the admin socket
# (kmsauthzctl: an instance, a key, its key policy, an alias, a RAM user
# with an attached policy) give the same check answers, the same
# generation and a byte-identical GetKeyPolicy text after SIGTERM and a
# restart, and after kill -9 every acknowledged change is there.  The
# seed is applied once, to the empty store, and never again.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 20

ACCT=1192853035118888
C=$KMSAUTHZCTL
A="--socket $tmp/a.sock"
KEYARN="acs:kms:cn-hangzhou:$ACCT:key/key-r1"
unset KMSAUTHZ_ADMIN_CONF

printf 'account = %s\nregion = cn-hangzhou\n' "$ACCT" >"$tmp/admin.conf"
write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "admin_config = $tmp/admin.conf"
start_daemon
ok $? "daemon starts on an empty store with a seed"

# adm CALL ARGS...: an admin call that must succeed (prints nothing).
adm() {
	# shellcheck disable=SC2086
	out=$("$C" "$@" $A 2>&1)
	if [ $? -ne 0 ]; then
		diag "$* failed: $out"
		return 1
	fi
	return 0
}
generation() {
	"$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^generation=//p'
}
# answers FILE: the check answers (with --explain) for a fixed set.
answers() {
	for r in \
	    "user/alice kms:Encrypt $KEYARN" \
	    "user/alice kms:Decrypt $KEYARN" \
	    "user/bob kms:Encrypt $KEYARN" \
	    "user/rita kms:Encrypt acs:kms:cn-hangzhou:$ACCT:alias/r1" \
	    "user/rita kms:Decrypt $KEYARN" \
	    "user/sam kms:Sign $KEYARN" \
	    "user/alice kms:Decrypt acs:kms:cn-hangzhou:$ACCT:key/key-hzz6304944631ejqjx0001" \
	    "user/alice kms:Encrypt acs:kms:cn-hangzhou:$ACCT:key/key-r2"
	do
		set -- $r
		printf '%s %s %s: ' "$1" "$2" "$3"
		"$C" check --socket "$tmp/q.sock" \
		    --principal "acs:ram::$ACCT:$1" --action "$2" \
		    --resource "$3" --explain
		echo " rc=$?"
	done >"$1"
}
state() {
	"$C" ExportBundle $A | sed 's/"RequestId":"[^"]*"//' >"$1"
	"$C" GetKeyPolicy --KeyId key-r1 $A |
	    sed -n 's/.*"Policy":"\(.*\)"}$/\1/p' | sed 's/\\"/"/g' >"$1.kp"
}

gen0=$(generation)
[ "$gen0" = 1 ]
ok $? "the seed made generation 1 ($gen0)"

# A key policy with odd spacing, to prove the text is kept as set.
printf '%s' '{ "Version" : "1",  "Statement": [ {"Sid": "alice", "Effect": "Allow", "Principal": {"RAM": ["acs:ram::'$ACCT':user/alice"]}, "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}, {"Effect": "Deny", "Principal": {"RAM": ["acs:ram::'$ACCT':user/bob"]}, "Action": "kms:*", "Resource": "*"}, {"Effect": "Allow", "Principal": {"RAM": ["acs:ram::'$ACCT':*"]}, "Action": "kms:Encrypt", "Resource": "*"} ] }' >"$tmp/kp.json"
adm CreateInstance --InstanceId kst-r --ShareQuota 2 &&
adm CreateKey --DKMSInstanceId kst-r --KeyId key-r1 &&
adm SetKeyPolicy --KeyId key-r1 --Policy "file://$tmp/kp.json" &&
adm CreateAlias --AliasName alias/r1 --KeyId key-r1 &&
adm CreateUser --UserName rita &&
adm CreatePolicy --PolicyName p-dec --PolicyDocument \
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"acs:kms:*:*:key/key-r*"}]}' &&
adm AttachPolicyToUser --PolicyType Custom --PolicyName p-dec \
    --UserName rita
ok $? "instance, key, key policy, alias, user, RAM policy and attachment"

gen1=$(generation)
[ "$gen1" -eq $((gen0 + 7)) ]
ok $? "seven changes, seven generations ($gen0 -> $gen1)"
answers "$tmp/a1"
state "$tmp/s1"
grep -c '"Decision":"ALLOW"' "$tmp/a1" | grep -x 5 >/dev/null &&
    grep -c '"Decision":"EXPLICIT_DENY"' "$tmp/a1" | grep -x 1 >/dev/null &&
    grep -c '"Decision":"IMPLICIT_DENY"' "$tmp/a1" | grep -x 2 >/dev/null
ok $? "the answers mix allows (key policy, RAM policy, alias, seed) and denies"

stop_daemon TERM
ok $? "SIGTERM: exit status 0"
start_daemon
ok $? "restarts on the same state directory"
[ "$(generation)" = "$gen1" ]
ok $? "same generation after the restart ($(generation))"
answers "$tmp/a2"
cmp -s "$tmp/a1" "$tmp/a2"
ok $? "the same check answers, deciding statements included"
state "$tmp/s2"
cmp -s "$tmp/s1.kp" "$tmp/s2.kp"
ok $? "GetKeyPolicy text byte-identical after the restart"
printf '\n' >>"$tmp/kp.json"
cmp -s "$tmp/kp.json" "$tmp/s2.kp"
ok $? "...and byte-identical to the text as set"
cmp -s "$tmp/s1" "$tmp/s2"
ok $? "the exported state is identical (the seed was not applied again)"
grep -F "seed_bundle $top_srcdir/etc/example-bundle.json not read" \
    "$tmp/daemon.err" >/dev/null
ok $? "the restart logs that the seed was not read"

# More acknowledged changes, then kill -9 right after the last answer.
cat >"$tmp/kp2.json" <<EOF
{"Version":"1","Statement":[{"Effect":"Deny","Principal":{"RAM":["acs:ram::$ACCT:user/alice"]},"Action":"kms:Encrypt","Resource":"*"},{"Effect":"Allow","Principal":{"RAM":["acs:ram::$ACCT:*"]},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}
EOF
adm SetKeyPolicy --KeyId key-r1 --Policy "file://$tmp/kp2.json" &&
adm CreateKey --DKMSInstanceId kst-r --KeyId key-r2 &&
adm UpdateAlias --AliasName alias/r1 --KeyId key-r2 &&
adm DetachPolicyFromUser --PolicyType Custom --PolicyName p-dec \
    --UserName rita &&
adm CreateUser --UserName sam
ok $? "five more changes acknowledged"
gen2=$(generation)
answers "$tmp/a3"
state "$tmp/s3"
stop_daemon KILL
[ "$daemon_status" -eq 137 ]
ok $? "kill -9 (status $daemon_status)"
! cmp -s "$tmp/a1" "$tmp/a3"
ok $? "the later changes changed some answers"

start_daemon
ok $? "restarts after kill -9"
[ "$(generation)" = "$gen2" ] && [ "$gen2" -eq $((gen1 + 5)) ]
ok $? "every acknowledged change is there: generation $(generation) = $gen2"
answers "$tmp/a4"
state "$tmp/s4"
cmp -s "$tmp/a3" "$tmp/a4" && cmp -s "$tmp/s3" "$tmp/s4" &&
    cmp -s "$tmp/s3.kp" "$tmp/s4.kp"
ok $? "same answers, same exported state, same key policy text"
finish
