#!/bin/sh
# SPDX-License-Identifier: ISC
# The seed bundle is read only when the store is empty: a bad seed with
# an empty store stops the start with nothing committed; a bad or missing
# seed with a store that holds state is not read and does not stop the
# daemon.  admin_group makes the admin socket 0660 to that group;
# admin_config names the admin configuration the daemon uses.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 15

unset KMSAUTHZ_ADMIN_CONF
ACCT=2000000000000042
C=$KMSAUTHZCTL
EX=$top_srcdir/etc/example-bundle.json

generation() {
	"$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^generation=//p'
}
keys() {
	"$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^keys=//p'
}
# start_fails: the daemon exits non-zero before serving.
start_fails() {
	if start_daemon; then
		stop_daemon
		return 1
	fi
	wait "$daemon_pid"
	st=$?
	daemon_pid=
	[ $st -ne 0 ]
}

# A bundle that parses but breaks a rule (an alias to an unknown key).
printf '%s\n' '{"FormatVersion": 1, "Aliases": [{"AliasName": "alias/x",' \
    '"KeyId": "key-nowhere"}]}' >"$tmp/bad.json"
write_config "seed_bundle = $tmp/bad.json"
start_fails
ok $? "a bad seed with an empty store: the daemon does not start"
grep -F "$tmp/bad.json: Aliases[0].KeyId: " "$tmp/daemon.err" >/dev/null
ok $? "the error names the seed file and what is wrong"
grep -F "not starting" "$tmp/daemon.err" >/dev/null &&
    [ ! -e "$tmp/state/audit.jsonl" ]
ok $? "a clear start-up error, no audit record"

# Nothing was committed: the store is still empty, and seeds now.
write_config "seed_bundle = $EX"
start_daemon
ok $? "the same directory starts with a good seed"
[ "$(generation)" = 1 ] && [ "$(keys)" = 9 ]
ok $? "the store was still empty: seeded now (generation 1, 9 keys)"
"$C" CreateUser --UserName zed --socket "$tmp/a.sock" >/dev/null
[ "$(generation)" = 2 ]
ok $? "a change: generation 2"
stop_daemon

# A store with state: the seed is not even read.
write_config "seed_bundle = $tmp/bad.json"
start_daemon
ok $? "a bad seed with a non-empty store: the daemon starts"
[ "$(generation)" = 2 ] && [ "$(keys)" = 9 ]
ok $? "...serving the store's state (generation 2)"
grep -F "seed_bundle $tmp/bad.json not read" "$tmp/daemon.err" >/dev/null
ok $? "...and logs that the seed was not read"
stop_daemon
write_config "seed_bundle = $tmp/missing.json"
start_daemon && [ "$(generation)" = 2 ]
ok $? "a missing seed with a non-empty store: starts, generation 2"
stop_daemon

# admin_group and admin_config.
GRP=$(getent group 65534 | cut -d: -f1)
[ -n "$GRP" ] || GRP=$(id -gn)
printf 'account = %s\nregion = cn-shanghai\n' "$ACCT" >"$tmp/admin.conf"
write_config "admin_group = $GRP" "admin_config = $tmp/admin.conf"
start_daemon
ok $? "starts with admin_group = $GRP and admin_config"
[ "$(stat -c '%a %G' "$tmp/a.sock")" = "660 $GRP" ] &&
    [ "$(stat -c '%a' "$tmp/q.sock")" = 660 ]
ok $? "the admin socket is 0660, group $GRP ($(stat -c '%a %G' "$tmp/a.sock"))"
"$C" CreateKey --KeyId key-acct --socket "$tmp/a.sock" >/dev/null &&
    "$C" DescribeKey --KeyId key-acct --socket "$tmp/a.sock" |
    grep -F "acs:kms:cn-shanghai:$ACCT:key/key-acct" >/dev/null
ok $? "the admin plane uses admin_config (account and region)"
grep -F "config $tmp/admin.conf)" "$tmp/daemon.err" >/dev/null
ok $? "the admin configuration in use is logged"
finish
