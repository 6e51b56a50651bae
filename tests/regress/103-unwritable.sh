#!/bin/sh
# 103-unwritable: the daemon runs as an unprivileged user (setpriv) on
# state it cannot write.
#  - The audit file cannot be written (/dev/full): every change is
#    refused with InternalFailure naming the audit, nothing is stored,
#    queries go on being answered.
#  - The audit file is rotated to a path the daemon may not create:
#    SIGHUP's reopen fails, is logged, and the old descriptor stays in
#    use, so changes are still audited (in the rotated file).
#  - The state directory and its files belong to root, read-only: the
#    daemon refuses to start, naming the directory and the cause, and
#    changes nothing (checksums before and after).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root to run the daemon as another uid"
command -v setpriv >/dev/null || skip_all "setpriv not installed"
NOBODY=65534
plan 11

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
mv "$tmp/audit/audit.jsonl" "$tmp/audit.old"
chown root:root "$tmp/audit" && chmod 755 "$tmp/audit"
kill -HUP "$daemon_pid"
sleep 1
grep 'audit: reopen' "$tmp/daemon.err" >/dev/null
ok $? "SIGHUP: the failed reopen is logged"
"$C" CreateUser --UserName after >/dev/null &&
grep '"UserName":"after"' "$tmp/audit.old" >/dev/null
ok $? "changes go on, audited through the old descriptor"
stop_daemon

# --- 3. state directory owned by root, read-only
chown -R root:root "$tmp/state"
chmod 555 "$tmp/state"
find "$tmp/state" -type f -exec chmod 444 {} +
before=$(sums "$tmp/state")
: >"$tmp/daemon.err"
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    "$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>>"$tmp/daemon.err"
st=$?
[ $st -ne 0 ]
ok $? "a read-only state directory: the daemon refuses to start (exit $st)"
grep "$tmp/state" "$tmp/daemon.err" | grep 'Permission denied' >/dev/null
ok $? "the error names the directory and the cause"
sed 's/^/#   /' "$tmp/daemon.err"
[ "$(sums "$tmp/state")" = "$before" ]
ok $? "nothing in the state directory changed"
[ ! -S "$Q" ]
ok $? "no socket left behind"
chmod 755 "$tmp/state"
finish
