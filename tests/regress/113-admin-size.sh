#!/bin/sh
# SPDX-License-Identifier: ISC
# 113-admin-size: the admin frame bounds met with a clear error.  A
# request larger than one admin frame (1 MiB) is refused by kmsauthzctl
# before it is sent, naming the size and the way round (import --db);
# an answer larger than one admin response (16 MiB: ExportBundle of a
# large state) is the call's own InternalFailure naming its size and
# export --db, not a protocol error; the state is unchanged and the
# daemon serves on.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
plan 8
# 30,000 keys and users: about 6 MB of compact bundle, about 20 MB of
# exported answer (the bundle indented, then escaped as a JSON string).
python3 - "$tmp/big.json" <<'PY'
import json, sys
n = 30000
doc = {"FormatVersion": 1,
       "Instances": [{"InstanceId": "kst-big", "State": "Enabled",
                      "ShareQuota": 1}],
       "Keys": [{"KeyId": "key-%06d" % i, "Region": "cn-hangzhou",
                 "Creator": "1000000000000000", "DKMSInstanceId": "kst-big",
                 "KeyState": "Enabled"} for i in range(n)],
       "Users": [{"Account": "1000000000000000", "UserName": "u%06d" % i,
                  "Groups": [], "Policies": []} for i in range(n)]}
json.dump(doc, open(sys.argv[1], "w"), separators=(",", ":"))
PY
write_config "seed_bundle = $tmp/big.json"
start_daemon
ok $? "daemon seeded with 30,000 keys and 30,000 users"

status_gen() {
	"$KMSAUTHZCTL" Status --socket "$tmp/a.sock" |
	    sed -n 's/^{"RequestId":"[^"]*","Generation":\([0-9]*\).*/\1/p'
}
gen0=$(status_gen)

"$KMSAUTHZCTL" ImportBundle --socket "$tmp/a.sock" \
    --Bundle "file://$tmp/big.json" >"$tmp/o" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "request too large: [0-9]* bytes of JSON, and one admin frame carries at most 1048576 bytes" "$tmp/o" &&
    grep -q "import --db DIR" "$tmp/o"
ok $? "an ImportBundle over 1 MiB refused before it is sent: exit $rc, $(cut -c1-100 "$tmp/o")"

"$KMSAUTHZCTL" ExportBundle --socket "$tmp/a.sock" >"$tmp/o" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q '"Code":"InternalFailure"' "$tmp/o" &&
    grep -q '"Detail":"the answer is [0-9]* bytes, more than the 16777216 bytes one admin response carries; a state this large is exported with kmsauthzctl export --db DIR"' "$tmp/o" &&
    grep -q '"RequestId":"[0-9A-F-]*"' "$tmp/o"
ok $? "an ExportBundle answer over 16 MiB is the call's error naming its size: exit $rc, $(cut -c1-160 "$tmp/o")"
wait_until 10 sh -c "grep -q 'admin: the answer is [0-9]* bytes' '$tmp/daemon.err'"
ok $? "the daemon logs it"

[ "$(status_gen)" = "$gen0" ] && "$KZCLIENT" ping "$tmp/q.sock"
ok $? "the state unchanged (generation $gen0), queries answered"

"$KMSAUTHZCTL" export --db "$tmp/state" >"$tmp/exp.json" 2>"$tmp/o"
rc=$?
python3 - "$tmp/exp.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if len(d["Keys"]) == 30000 and len(d["Users"]) == 30000 else 1)
PY
ok $? "kmsauthzctl export --db exports it beside the running daemon (exit $rc)"

"$KMSAUTHZCTL" DescribeKey --socket "$tmp/a.sock" --KeyId key-029999 |
    grep -q '"KeyId":"key-029999"'
ok $? "admin calls answered after both refusals"
stop_daemon
finish
