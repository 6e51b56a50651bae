#!/bin/sh
# SPDX-License-Identifier: ISC
# An alias name two accounts hold: every alias call can name one of them
# by its ARN (acs:kms:REGION:ACCOUNT:alias/NAME); a bare name resolves in
# the caller's own account, and for the superuser to the only alias of
# that name, or is refused saying to use the ARN.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 11
C=$KMSAUTHZCTL
A=1192853035118888 B=1128904627777777 R=cn-hangzhou

"$C" keygen --out "$tmp/b.key" >"$tmp/keygen.out"
PK=$(awk '{print $3}' "$tmp/keygen.out")
printf 'account = %s\nregion = %s\nkey = %s acs:ram::%s:root\n' \
    "$A" "$R" "$PK" "$B" >"$tmp/admin.conf"
write_config "admin_config = $tmp/admin.conf"
start_daemon
ok $? "daemon started"
export KMSAUTHZ_ADMIN_SOCKET="$tmp/a.sock"

code() {	# code CMD...: the answer's Code, or OK
	"$@" >"$tmp/ans" 2>&1
	sed -n 's/.*"Code":"\([^"]*\)".*/\1/p' "$tmp/ans" | grep . || echo OK
}
as_b() {	# signed as B's root, past the start floor
	signed_past_floor "$tmp/b.key" "$C" "$@"
	sed -n 's/.*"Code":"\([^"]*\)".*/\1/p' "$tmp/ans" | grep . || echo OK
}
aliases() {	# the (account, name, key) of every alias, sorted
	"$C" ExportBundle | python3 -c 'import json,sys
o = json.load(sys.stdin)
b = o["Bundle"] if isinstance(o["Bundle"], dict) else json.loads(o["Bundle"])
keys = {k["KeyId"]: k["Creator"] for k in b["Keys"]}
print(" ".join(sorted("%s:%s>%s" % (keys[a["KeyId"]], a["AliasName"], a["KeyId"])
                      for a in b["Aliases"])))'
}

cat >"$tmp/bundle.json" <<EOF
{"FormatVersion": 1, "Keys": [
 {"KeyId": "key-a0000000000001", "Region": "$R", "Creator": "$A", "KeyState": "Enabled"},
 {"KeyId": "key-a0000000000002", "Region": "$R", "Creator": "$A", "KeyState": "Enabled"},
 {"KeyId": "key-b0000000000001", "Region": "$R", "Creator": "$B", "KeyState": "Enabled"},
 {"KeyId": "key-b0000000000002", "Region": "$R", "Creator": "$B", "KeyState": "Enabled"}],
 "Aliases": [
 {"AliasName": "alias/prod-db", "KeyId": "key-a0000000000001"},
 {"AliasName": "alias/prod-db", "KeyId": "key-b0000000000001"}]}
EOF
r=$(code "$C" ImportBundle --Bundle "file://$tmp/bundle.json")
[ "$r" = OK ]
ok $? "two accounts each hold alias/prod-db ($r: $(aliases))"

before=$(aliases)
r=$(code "$C" DeleteAlias --AliasName alias/prod-db)
[ "$r" = InvalidParameter ] && grep -q "name it by its ARN" "$tmp/ans" &&
    [ "$(aliases)" = "$before" ]
ok $? "the superuser's bare name is ambiguous: $r, says to use the ARN, nothing deleted"
r=$(code "$C" UpdateAlias --AliasName "acs:kms:$R:$B:alias/prod-db" \
    --KeyId key-b0000000000002)
[ "$r" = OK ] && aliases | grep -q "$B:alias/prod-db>key-b0000000000002" &&
    aliases | grep -q "$A:alias/prod-db>key-a0000000000001"
ok $? "UpdateAlias by ARN moves B's alias only ($r: $(aliases))"
r=$(code "$C" DeleteAlias --AliasName "acs:kms:$R:$B:alias/prod-db")
[ "$r" = OK ] && [ "$(aliases)" = "$A:alias/prod-db>key-a0000000000001" ]
ok $? "DeleteAlias by ARN deletes B's alias only ($r: $(aliases))"
r=$(code "$C" DeleteAlias --AliasName "acs:kms:$R:$B:alias/prod-db")
[ "$r" = Forbidden.ResourceNotFound ] || [ "$r" = EntityNotExist ] ||
    grep -q "no alias acs:kms:$R:$B:alias/prod-db" "$tmp/ans"
ok $? "again: not found ($r)"

# CreateAlias by ARN: the key's own region and account, nothing else.
r=$(code "$C" CreateAlias --AliasName "acs:kms:$R:$A:alias/prod-db" \
    --KeyId key-b0000000000001)
[ "$r" = InvalidParameter ] && grep -q "its key's region and account" "$tmp/ans"
ok $? "CreateAlias with an ARN of another account than the key's: $r"
r=$(code "$C" CreateAlias --AliasName "acs:kms:$R:$B:alias/prod-db" \
    --KeyId key-b0000000000001)
[ "$r" = OK ]
ok $? "CreateAlias with the key's own ARN ($r: $(aliases))"

# A principal's bare name resolves in its own account.
r=$(as_b DeleteAlias --AliasName alias/prod-db)
[ "$r" = OK ] && [ "$(aliases)" = "$A:alias/prod-db>key-a0000000000001" ]
ok $? "B's root deletes alias/prod-db: its own, not A's ($r: $(aliases))"
r=$(as_b DeleteAlias --AliasName "acs:kms:$R:$A:alias/prod-db")
[ "$r" = Forbidden.NoPermission ] &&
    [ "$(aliases)" = "$A:alias/prod-db>key-a0000000000001" ]
ok $? "B's root may not delete A's alias by its ARN ($r)"
finish
