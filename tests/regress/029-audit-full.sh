#!/bin/sh
# SPDX-License-Identifier: ISC
# A full disk never tears the audit trail: on a small tmpfs filled up, a
# change whose intent record does not fit is refused and the file keeps
# its length (whole, parseable lines only); the next change, once there
# is room, is accepted and recorded whole.  Needs root (mount).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! mkdir "$tmp/fs" ||
    ! mount -t tmpfs -o size=256k tmpfs "$tmp/fs" 2>/dev/null; then
	skip_all "needs root to mount a small tmpfs"
fi
plan 8
unmount() { umount "$tmp/fs" 2>/dev/null; }
trap 'unmount; cleanup; exit 1' INT TERM

adm() {	# adm ACTION JSON-PARAMS: the answer's Code, or OK
	"$KZCLIENT" admin "$tmp/a.sock" \
	    "{\"Action\":\"$1\",\"Parameters\":$2}" >"$tmp/ans" 2>&1
	sed -n 's/.*"Code": *"\([^"]*\)".*/\1/p' "$tmp/ans" | grep . ||
	    echo OK
}
parses() {	# every line of the audit file is a JSON object
	python3 -c 'import json,sys
for n, l in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    assert l.endswith("\n"), "line %d: no newline" % n
    assert isinstance(json.loads(l), dict), "line %d" % n' "$1"
}
# 50 tags of 256 bytes: an intent record of about 17 kB.
tags=$(python3 -c 'import json
print(json.dumps([{"TagKey": "k%02d" % i, "TagValue": "v" * 256}
                  for i in range(50)]))')

printf 'audit_file = %s\n' "$tmp/fs/audit.jsonl" >"$tmp/admin.conf"
write_config "admin_config = $tmp/admin.conf"
start_daemon
ok $? "daemon started, audit file on a 256 KiB tmpfs"
r1=$(adm CreateInstance '{"InstanceId":"kst-full0000001","ShareQuota":5}')
r2=$(adm CreateKey '{"DKMSInstanceId":"kst-full0000001","KeyId":"key-full00000001"}')
[ "$r1" = OK ] && [ "$r2" = OK ] && parses "$tmp/fs/audit.jsonl"
ok $? "changes recorded while there is room ($r1, $r2)"

# Fill the tmpfs: what is left is the free tail of the file's last page.
dd if=/dev/zero of="$tmp/fs/fill" bs=4096 >/dev/null 2>&1
size0=$(stat -c %s "$tmp/fs/audit.jsonl")
codes=
for i in 1 2 3 4 5; do
	codes="$codes $(adm TagResource "{\"KeyId\":\"key-full00000001\",\"Tags\":$(echo "$tags" | sed "s/\"k/\"t$i/g")}")"
done
size1=$(stat -c %s "$tmp/fs/audit.jsonl")
diag "answers on a full disk:$codes"
! echo "$codes" | grep -q OK
ok $? "every change refused while the intent cannot be written:$codes"
[ "$size0" = "$size1" ] && parses "$tmp/fs/audit.jsonl"
ok $? "the audit file keeps its length ($size0 -> $size1) and whole lines"
r=$("$KZCLIENT" admin "$tmp/a.sock" \
    '{"Action":"ListResourceTags","Parameters":{"KeyId":"key-full00000001"}}')
echo "$r" | grep -q '"Tags":\[\]\|"Tag":\[\]\|TagKey' &&
    ! echo "$r" | grep -q '"t1k00"'
ok $? "nothing of the refused changes committed"

rm -f "$tmp/fs/fill"
r3=$(adm TagResource '{"KeyId":"key-full00000001","Tags":[{"TagKey":"after","TagValue":"room"}]}')
[ "$r3" = OK ] && parses "$tmp/fs/audit.jsonl"
ok $? "with room again a change is accepted and recorded whole ($r3)"
grep -c '"Action":"TagResource"' "$tmp/fs/audit.jsonl" >"$tmp/n"
[ "$(tail -1 "$tmp/fs/audit.jsonl" | grep -c '"Generation"')" = 1 ]
ok $? "its outcome is the last line ($(cat "$tmp/n") TagResource records)"
stop_daemon
unmount
finish
