#!/bin/sh
# SPDX-License-Identifier: ISC
# An instance belongs to an account: a key may be created in it only by
# that account (the superuser may name any), so another account cannot
# use up its ShareQuota.  The owner is recorded (CreateInstance's
# Account, by default the admin configuration's account), survives a
# restart and an export/import; an instance recorded without one is the
# configured account's.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 12
C=$KMSAUTHZCTL
OWN=1192853035118888 OTHER=1128904627777777

"$C" keygen --out "$tmp/other.key" >"$tmp/keygen.out"
PK=$(awk '{print $3}' "$tmp/keygen.out")
printf 'account = %s\nkey = %s acs:ram::%s:root\n' "$OWN" "$PK" "$OTHER" \
    >"$tmp/admin.conf"
write_config "admin_config = $tmp/admin.conf"
start_daemon
ok $? "daemon started (account $OWN; a signing key for $OTHER's root)"
export KMSAUTHZ_ADMIN_SOCKET="$tmp/a.sock"

code() {	# code CMD...: the answer's Code, or OK
	"$@" >"$tmp/ans" 2>&1
	sed -n 's/.*"Code":"\([^"]*\)".*/\1/p' "$tmp/ans" | grep . || echo OK
}
# as_other CALL ARGS...: signed as OTHER's root; waits out the start
# floor (signed requests dated before start + 2 s are refused).
as_other() {
	signed_past_floor "$tmp/other.key" "$C" "$@"
	sed -n 's/.*"Code":"\([^"]*\)".*/\1/p' "$tmp/ans" | grep . || echo OK
}
keys() {
	"$C" Status | sed -n 's/.*"Keys":\([0-9]*\).*/\1/p'
}

r1=$(code "$C" CreateInstance --InstanceId kst-own0000001 --ShareQuota 1)
r2=$(code "$C" CreateInstance --InstanceId kst-oth0000001 --ShareQuota 1 \
    --Account $OTHER)
[ "$r1" = OK ] && [ "$r2" = OK ]
ok $? "instances created: one of $OWN (by default), one of $OTHER ($r1, $r2)"

n0=$(keys)
r=$(as_other CreateKey --DKMSInstanceId kst-own0000001 --KeyId key-intruder0001)
grep -q "no instance kst-own0000001 in account $OTHER" "$tmp/ans"
ok $? "$OTHER's root may not create a key in $OWN's instance ($r: $(sed -n 's/.*"Detail":"\([^"]*\)".*/\1/p' "$tmp/ans"))"
[ "$r" = InvalidParameter ] && [ "$(keys)" = "$n0" ]
ok $? "InvalidParameter, and no key was made ($n0 keys)"
r=$(as_other CreateKey --DKMSInstanceId kst-oth0000001 --KeyId key-theirs000001)
[ "$r" = OK ]
ok $? "$OTHER's root creates a key in its own instance ($r)"
r=$(code "$C" CreateKey --DKMSInstanceId kst-oth0000001 --KeyId key-super0000001)
[ "$r" = OK ]
ok $? "the superuser may name any instance ($r)"

# The owner's own sharing is not blocked by another account (the attack).
r=$(code "$C" CreateKey --DKMSInstanceId kst-own0000001 --KeyId key-mine00000001)
printf '%s' '{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::1192853035118888:root","acs:ram::1903253031268888:root"]},"Action":["kms:*"],"Resource":["*"]}]}' \
    >"$tmp/share.json"
r2=$(code "$C" SetKeyPolicy --KeyId key-mine00000001 \
    --Policy "file://$tmp/share.json")
[ "$r" = OK ] && [ "$r2" = OK ]
ok $? "$OWN shares its own key within its instance's quota ($r, $r2)"

# Recorded: export, restart, import.
"$C" ExportBundle >"$tmp/export.json"
python3 - "$tmp/export.json" "$OWN" "$OTHER" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
b = o["Bundle"] if isinstance(o["Bundle"], dict) else json.loads(o["Bundle"])
acc = {i["InstanceId"]: i.get("Account") for i in b["Instances"]}
assert acc == {"kst-own0000001": sys.argv[2],
               "kst-oth0000001": sys.argv[3]}, acc
PY
ok $? "ExportBundle carries each instance's Account"
stop_daemon
start_daemon
r=$(as_other CreateKey --DKMSInstanceId kst-own0000001 --KeyId key-intruder0002)
[ "$r" = InvalidParameter ]
ok $? "after a restart the owner is still checked ($r)"

# An instance without a recorded owner (an older bundle) is the
# configured account's.
python3 - "$tmp/export.json" >"$tmp/legacy.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
b = o["Bundle"] if isinstance(o["Bundle"], dict) else json.loads(o["Bundle"])
for i in b["Instances"]:
    i.pop("Account", None)
print(json.dumps(b))
PY
r=$(code "$C" ImportBundle --Bundle "file://$tmp/legacy.json")
[ "$r" = OK ]
ok $? "a bundle whose instances name no Account imports ($r)"
r=$(as_other CreateKey --DKMSInstanceId kst-oth0000001 --KeyId key-intruder0003)
[ "$r" = InvalidParameter ]
ok $? "an instance with no recorded owner is $OWN's: $OTHER refused ($r)"
finish
