#!/bin/sh
# SPDX-License-Identifier: ISC
# 103-unwritable: the daemon runs as an unprivileged user (setpriv) on
# state it cannot write.
#  - The audit file cannot be written (/dev/full): every change is
#    refused with InternalFailure naming the audit, nothing is stored,
#    queries go on being answered.
#  - The audit file is rotated to a path the daemon may not create:
#    SIGHUP's reopen fails, is logged, and the old descriptor stays in
#    use, so changes are still audited (in the rotated file).
#  - The audit file is created 0600, owned by the daemon's user: another
#    unprivileged user cannot read it.
#  - An audit file the daemon may not open (root's, 0600), on a store
#    with state: the daemon starts, warns once, Status says ReadOnly with
#    the audit file as the cause, CHECKs and admin reads are answered,
#    every change is refused with ServiceUnavailable (503) naming the
#    audit file, nothing changes (generation, audit file); permissions
#    fixed, SIGHUP: changes are accepted and audited again.
#  - The state directory and its files belong to root, read-only (the
#    daemon as 65534): it starts read-only, says so once in the log and
#    in Status ("ReadOnly": true), answers CHECKs and admin reads exactly
#    as before, refuses every change with ServiceUnavailable (503) and
#    leaves the directory byte for byte as it was; kmsauthzctl export
#    works beside it as root and is refused, clearly, as 65534 (no
#    lock.mdb to share); the directory made writable again, SIGHUP
#    makes the store writable and a change succeeds.  Export and backup
#    --db work as 65534 on the read-only directory.
#  - An empty read-only state directory: nothing to serve, no seed can
#    be stored: the daemon refuses to start, naming the directory.
#  - The store cannot write while the daemon runs (a file-size limit:
#    EFBIG, as a full disk): the change is refused with InternalFailure
#    naming the cause, the generation does not move, queries go on;
#    once the limit is lifted the next change succeeds.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root to run the daemon as another uid"
command -v setpriv >/dev/null || skip_all "setpriv not installed"
NOBODY=65534
plan 35

C=$KMSAUTHZCTL
EX=1192853035118888
Q=$tmp/run/q.sock
export KMSAUTHZ_ADMIN_SOCKET="$tmp/run/a.sock"
chmod 755 "$tmp"
mkdir -p "$tmp/run" && chown $NOBODY:$NOBODY "$tmp/run"

# start_nobody: the daemon as uid/gid 65534 (root is its superuser).
start_nobody() {
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	    "$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>>"$tmp/daemon.err" &
	daemon_pid=$!
	wait_for_socket "$Q"
}
gen() {
	"$C" Status | sed -n 's/.*"Generation":\([0-9]*\).*/\1/p'
}
code() {
	"$@" 2>&1 | sed -n 's/.*"Code":"\([^"]*\)".*/\1/p'
}
sums() {
	(cd "$1" && find . -type f | sort | xargs sha256sum)
}

# --- 1. audit to /dev/full
cat >"$tmp/admin.conf" <<EOF2
audit_file = /dev/full
uid = 0 superuser
EOF2
export KMSAUTHZ_ADMIN_CONF="$tmp/admin.conf"
write_config "query_socket = $Q" "admin_socket = $tmp/run/a.sock" \
    "seed_bundle = $top_srcdir/etc/example-bundle.json"
mkdir -p "$tmp/state" && chown $NOBODY:$NOBODY "$tmp/state"
start_nobody
ok $? "the daemon starts as uid $NOBODY with audit_file = /dev/full"
g0=$(gen)
out=$("$C" CreateUser --UserName alice 2>&1)
printf '%s\n' "$out" | grep '"Code":"InternalFailure"' >/dev/null &&
printf '%s\n' "$out" | grep -i 'audit' >/dev/null
ok $? "a change is refused: InternalFailure naming the audit ($(printf '%s' "$out" | sed -n 's/.*"Detail":"\([^"]*\)".*/\1/p'))"
[ "$(gen)" = "$g0" ] && "$C" ListPolicies >/dev/null
ok $? "nothing stored (generation $g0), reads still work"
"$C" check --socket "$Q" --principal "acs:ram::$EX:root" \
    --action kms:Decrypt \
    --resource "acs:kms:cn-hangzhou:$EX:key/key-hzz6304944631ejqjx0001" |
    grep '"ALLOW"' >/dev/null
ok $? "queries are answered from the stored state"
stop_daemon

# --- 2. the audit file rotated where the daemon cannot create it
mkdir -p "$tmp/audit" && chown $NOBODY:$NOBODY "$tmp/audit"
cat >"$tmp/admin.conf" <<EOF2
audit_file = $tmp/audit/audit.jsonl
uid = 0 superuser
EOF2
start_nobody
"$C" CreateUser --UserName before >/dev/null
[ "$(stat -c '%a %u' "$tmp/audit/audit.jsonl")" = "600 $NOBODY" ] &&
! setpriv --reuid=65533 --regid=65533 --clear-groups \
    cat "$tmp/audit/audit.jsonl" >/dev/null 2>&1 &&
grep '"UserName":"before"' "$tmp/audit/audit.jsonl" >/dev/null
ok $? "the audit file is created 0600, the daemon's; uid 65533 cannot read it"
mv "$tmp/audit/audit.jsonl" "$tmp/audit.old"
chown root:root "$tmp/audit" && chmod 755 "$tmp/audit"
kill -HUP "$daemon_pid"
wait_until 30 grep -q 'audit: reopen' "$tmp/daemon.err"
ok $? "SIGHUP: the failed reopen is logged"
"$C" CreateUser --UserName after >/dev/null &&
grep '"UserName":"after"' "$tmp/audit.old" >/dev/null
ok $? "changes go on, audited through the old descriptor"
stop_daemon

# --- 2b. an audit file the daemon may not open, a store with state
A=$tmp/audit/root.jsonl
: >"$A" && chown root:root "$A" && chmod 600 "$A"
cat >"$tmp/admin.conf" <<EOF2
audit_file = $A
uid = 0 superuser
EOF2
: >"$tmp/daemon.err"
start_nobody
ok $? "an audit file root's, mode 0600, the daemon as uid $NOBODY: it starts"
g0=$(gen)
[ "$(grep -c "audit file $A: Permission denied" "$tmp/daemon.err")" -eq 1 ] &&
! grep 'not starting' "$tmp/daemon.err" >/dev/null
ok $? "one warning naming the audit file and the cause"
grep "audit file $A" "$tmp/daemon.err" | sed 's/^/#   /'
st=$("$C" Status)
printf '%s\n' "$st" | grep '"ReadOnly":true' >/dev/null &&
printf '%s\n' "$st" | grep "\"ReadOnlyCause\":\"audit file $A: Permission denied" >/dev/null &&
[ -n "$g0" ] && [ "$g0" -ge 2 ]
ok $? "Status: ReadOnly true, the audit file as its cause (generation $g0)"
"$C" check --socket "$Q" --principal "acs:ram::$EX:root" \
    --action kms:Decrypt \
    --resource "acs:kms:cn-hangzhou:$EX:key/key-hzz6304944631ejqjx0001" |
    grep '"ALLOW"' >/dev/null &&
"$C" check --socket "$Q" --principal "acs:ram::1234567890123456:root" \
    --action kms:Decrypt \
    --resource "acs:kms:cn-hangzhou:$EX:key/key-hzz6304944631ejqjx0001" |
    grep 'DENY' >/dev/null &&
"$C" ExportBundle | grep -F before >/dev/null
ok $? "queries (allow and deny) and admin reads answered from the stored state"
out=$("$C" CreateUser --UserName unaudited 2>&1)
printf '%s\n' "$out" | grep '"Code":"ServiceUnavailable"' >/dev/null &&
printf '%s\n' "$out" | grep '"HttpStatus":503' >/dev/null &&
printf '%s\n' "$out" | grep "\"Detail\":\"audit file $A: Permission denied" >/dev/null &&
[ "$(code "$C" ImportBundle --Bundle "file://$top_srcdir/etc/example-bundle.json")" = ServiceUnavailable ] &&
[ "$(code "$C" ScheduleKeyDeletion --KeyId key-hzz6304944631ejqjx0001 --PendingWindowInDays 7)" = ServiceUnavailable ]
ok $? "changes refused: ServiceUnavailable, 503, Detail names the audit file"
diag "$(printf '%s' "$out" | sed -n 's/.*"Detail":"\([^"]*\)".*/\1/p')"
sleep 1
[ "$(gen)" = "$g0" ] && [ ! -s "$A" ] &&
! "$C" ExportBundle | grep -F unaudited >/dev/null &&
! grep 'audit: write' "$tmp/daemon.err" >/dev/null
ok $? "nothing changed: generation $g0, the audit file empty, no write attempted"
chown $NOBODY:$NOBODY "$A"
kill -HUP "$daemon_pid"
i=0
while [ $i -lt 50 ] && ! grep 'audit file is open again' "$tmp/daemon.err" >/dev/null
do
	sleep 0.1
	i=$((i + 1))
done
"$C" Status | grep '"ReadOnly":false' >/dev/null
ok $? "permissions fixed, SIGHUP: logged, Status ReadOnly false"
out=$("$C" CreateUser --UserName audited 2>&1)
printf '%s\n' "$out" | grep "\"Generation\":$((g0 + 1))" >/dev/null &&
grep '"UserName":"audited"' "$A" >/dev/null
ok $? "a change is accepted again (generation $((g0 + 1))), audited in the file"
stop_daemon

# --- 3. state directory owned by root, read-only
K=key-hzz6304944631ejqjx0001
KARN="acs:kms:cn-hangzhou:$EX:key/$K"
POL='{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":["acs:ram::'$EX':root"]},"Action":["kms:*"],"Resource":["*"]}]}'
# checks FILE: the answers to a fixed set of CHECKs (allow and deny).
checks() {
	for p in "acs:ram::$EX:root" "acs:ram::$EX:user/before" \
	    "acs:ram::1234567890123456:root"; do
		for a in kms:Decrypt kms:Encrypt kms:ScheduleKeyDeletion; do
			"$C" check --socket "$Q" --principal "$p" --action "$a" \
			    --resource "$KARN" 2>&1
		done
	done >"$1"
}
cat >"$tmp/admin.conf" <<EOF2
uid = 0 superuser
EOF2
start_nobody
checks "$tmp/checks.before"
"$C" ExportBundle >"$tmp/export.before"
"$C" GetKeyPolicy --KeyId "$K" >"$tmp/gkp.before"
g0=$(gen)
stop_daemon
chown -R root:root "$tmp/state"
find "$tmp/state" -type f -exec chmod 444 {} +
chmod 555 "$tmp/state"
before=$(sums "$tmp/state")
: >"$tmp/daemon.err"
start_nobody
ok $? "a read-only state directory (root's, daemon as uid $NOBODY): the daemon starts"
[ "$(grep -c 'READ-ONLY' "$tmp/daemon.err")" -eq 1 ] &&
grep 'READ-ONLY' "$tmp/daemon.err" | grep "$tmp/state" |
    grep 'Permission denied' >/dev/null
ok $? "one warning: read-only, naming the directory and the cause"
grep 'READ-ONLY' "$tmp/daemon.err" | sed 's/^/#   /'
st=$("$C" Status)
printf '%s\n' "$st" | grep '"ReadOnly":true' >/dev/null &&
printf '%s\n' "$st" | grep '"ReadOnlyCause":"[^"]*Permission denied' >/dev/null &&
[ "$(gen)" = "$g0" ]
ok $? "Status: ReadOnly true, its cause, generation $g0"
checks "$tmp/checks.ro"
cmp "$tmp/checks.before" "$tmp/checks.ro" >/dev/null &&
grep -c '"ALLOW"' "$tmp/checks.ro" | grep -v '^0$' >/dev/null &&
grep -c 'DENY' "$tmp/checks.ro" | grep -v '^0$' >/dev/null
ok $? "CHECKs answered exactly as before the directory was read-only"
"$C" GetKeyPolicy --KeyId "$K" | sed 's/"RequestId":"[^"]*"//' \
    >"$tmp/gkp.ro" &&
sed 's/"RequestId":"[^"]*"//' "$tmp/gkp.before" | cmp - "$tmp/gkp.ro" &&
"$C" ExportBundle | sed 's/"RequestId":"[^"]*"//' >"$tmp/export.ro" &&
sed 's/"RequestId":"[^"]*"//' "$tmp/export.before" | cmp - "$tmp/export.ro" &&
[ -z "$(code "$C" ListKeys)" ] && [ -z "$(code "$C" DescribeKey --KeyId "$K")" ] &&
[ -z "$(code "$C" ListPolicies)" ]
ok $? "admin reads: GetKeyPolicy and ExportBundle as before, ListKeys, DescribeKey, ListPolicies"
out=$("$C" SetKeyPolicy --KeyId "$K" --PolicyName default --Policy "$POL" 2>&1)
printf '%s\n' "$out" | grep '"Code":"ServiceUnavailable"' >/dev/null &&
printf '%s\n' "$out" | grep '"HttpStatus":503' >/dev/null &&
printf '%s\n' "$out" | grep '"Detail":"[^"]*read-only' >/dev/null
ok $? "SetKeyPolicy refused: ServiceUnavailable, 503, Detail says read-only"
diag "$(printf '%s' "$out" | sed -n 's/.*"Detail":"\([^"]*\)".*/\1/p')"
[ "$(code "$C" CreateKey --DKMSInstanceId kst-hzz62ee5b5e6f3s8xwk6)" = ServiceUnavailable ] &&
[ "$(code "$C" CreateUser --UserName carol)" = ServiceUnavailable ] &&
[ "$(code "$C" ImportBundle --Bundle "file://$top_srcdir/etc/example-bundle.json")" = ServiceUnavailable ]
ok $? "CreateKey, CreateUser, ImportBundle refused the same way"
"$C" GetKeyPolicy --KeyId "$K" | sed 's/"RequestId":"[^"]*"//' |
    cmp - "$tmp/gkp.ro" && [ "$(gen)" = "$g0" ] &&
[ "$(sums "$tmp/state")" = "$before" ]
ok $? "nothing changed: the key policy, generation $g0, every file of the directory"
"$C" export --db "$tmp/state" >"$tmp/ctl-export.root"
st=$?
"$C" ExportBundle | sed -n 's/.*"Bundle":"\(.*\)"}$/\1/p' >"$tmp/bundle.api"
[ $st -eq 0 ] && [ -s "$tmp/ctl-export.root" ]
ok $? "kmsauthzctl export --db beside the read-only daemon, as root"
out=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    "$C" export --db "$tmp/state" 2>&1 >/dev/null)
st=$?
[ $st -eq 2 ] && printf '%s\n' "$out" | grep 'in use' >/dev/null &&
printf '%s\n' "$out" | grep 'lock.mdb' >/dev/null
ok $? "as uid $NOBODY beside it: refused (exit $st), saying why"
diag "$out"
chown -R $NOBODY:$NOBODY "$tmp/state"
chmod 700 "$tmp/state"
find "$tmp/state" -type f -exec chmod 600 {} +
kill -HUP "$daemon_pid"
i=0
while [ $i -lt 50 ] && ! grep 'writable again' "$tmp/daemon.err" >/dev/null
do
	sleep 0.1
	i=$((i + 1))
done
grep 'writable again' "$tmp/daemon.err" | grep "$tmp/state" >/dev/null &&
"$C" Status | grep '"ReadOnly":false' >/dev/null
ok $? "writable again, SIGHUP: logged, Status ReadOnly false"
out=$("$C" SetKeyPolicy --KeyId "$K" --PolicyName default --Policy "$POL" 2>&1)
printf '%s\n' "$out" | grep "\"Generation\":$((g0 + 1))" >/dev/null &&
"$C" GetKeyPolicy --KeyId "$K" | grep -F 'kms:*' >/dev/null &&
grep '"Action":"SetKeyPolicy"' "$tmp/state/audit.jsonl" >/dev/null
ok $? "SetKeyPolicy succeeds (generation $((g0 + 1))), audited in the state directory"
stop_daemon
chown -R root:root "$tmp/state"
find "$tmp/state" -type f -exec chmod 444 {} +
chmod 555 "$tmp/state"
before=$(sums "$tmp/state")
mkdir "$tmp/bk" && chown $NOBODY:$NOBODY "$tmp/bk"
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    "$C" export --db "$tmp/state" >"$tmp/ctl-export.nobody" &&
grep -F 'kms:*' "$tmp/ctl-export.nobody" >/dev/null &&
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    "$C" backup --db "$tmp/state" "$tmp/bk/copy" &&
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    "$C" export --db "$tmp/bk/copy" | cmp - "$tmp/ctl-export.nobody" &&
[ "$(sums "$tmp/state")" = "$before" ]
ok $? "export and backup --db as uid $NOBODY on the read-only directory; nothing in it changed"

# --- 4. an empty read-only state directory
rm -rf "$tmp/state"
mkdir -m 555 "$tmp/state"
: >"$tmp/daemon.err"
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    "$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>>"$tmp/daemon.err"
st=$?
[ $st -ne 0 ] && grep "$tmp/state" "$tmp/daemon.err" |
    grep 'nothing to serve' >/dev/null
ok $? "an empty read-only directory: the daemon refuses to start (exit $st), saying why"
grep 'nothing to serve' "$tmp/daemon.err" | sed 's/^/#   /'
[ -z "$(ls -A "$tmp/state")" ] && [ ! -S "$Q" ]
ok $? "the directory is still empty, no socket left behind"

# --- 5. the store cannot write while the daemon runs (EFBIG)
rm -rf "$tmp/state"
mkdir -p "$tmp/state" "$tmp/audit5" &&
chown $NOBODY:$NOBODY "$tmp/state" "$tmp/audit5"
cat >"$tmp/admin.conf" <<EOF2
audit_file = $tmp/audit5/audit.jsonl
uid = 0 superuser
EOF2
: >"$tmp/daemon.err"
start_nobody
ok $? "a fresh writable store, the daemon as uid $NOBODY"
g0=$(gen)
checks "$tmp/checks.before"
# Files may not grow past 8 KiB: LMDB's two meta pages, nothing else.
# (Set by the daemon's own uid: root may lack CAP_SYS_RESOURCE.)
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    prlimit --pid "$daemon_pid" --fsize=8192:unlimited
out=$("$C" CreateUser --UserName efbig-user 2>&1)
printf '%s\n' "$out" | grep '"Code":"InternalFailure"' >/dev/null &&
printf '%s\n' "$out" | grep 'File too large' >/dev/null &&
printf '%s\n' "$out" | grep "$tmp/state" >/dev/null
ok $? "a change that cannot be written: InternalFailure naming the store and the cause"
diag "$(printf '%s' "$out" | sed -n 's/.*"Detail":"\([^"]*\)".*/\1/p')"
checks "$tmp/checks.after"
[ "$(gen)" = "$g0" ] && cmp "$tmp/checks.before" "$tmp/checks.after" &&
! "$C" ExportBundle | grep -F efbig-user >/dev/null
ok $? "generation $g0 unchanged, queries answered as before"
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    prlimit --pid "$daemon_pid" --fsize=unlimited:unlimited
[ "$(code "$C" CreateUser --UserName efbig-user)" = "" ] &&
[ "$(gen)" = $((g0 + 1)) ]
ok $? "the limit lifted, the same change succeeds (generation $((g0 + 1)))"
stop_daemon
finish
