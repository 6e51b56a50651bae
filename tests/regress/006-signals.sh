#!/bin/sh
# SPDX-License-Identifier: ISC
# SIGHUP re-reads the configuration and the world without dropping a
# connection; a bad configuration on SIGHUP keeps the running one;
# SIGINT and SIGTERM drain and exit 0.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 9

write_config
start_daemon
ok $? "daemon starts"

"$KZCLIENT" hold "$tmp/q.sock" 2 >"$tmp/hold.out" &
hold=$!
reloads() { ge "$(log_count 'reload done')" "$1"; }
cge() { ge "$(qstat connections)" "$1"; }
wait_until 30 cge 2	# the holder and the status probe itself
kill -HUP "$daemon_pid"
wait_until 30 reloads 1
kill -HUP "$daemon_pid"
wait_until 30 reloads 2
wait $hold
ok $? "a connection kept pinging across two SIGHUPs ($(cat "$tmp/hold.out"))"

gen=$("$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^generation=//p')
[ "$gen" = 0 ]
ok $? "SIGHUP keeps serving the store's world (generation $gen)"

grep -F "reload done, generation 0" "$tmp/daemon.err" >/dev/null
ok $? "the reload is logged"

# A broken configuration: the daemon keeps running on the old one.
echo "bogus = 1" >>"$tmp/kmsauthzd.conf"
kill -HUP "$daemon_pid"
wait_until 30 grep -q "configuration rejected" "$tmp/daemon.err"
"$KZCLIENT" ping "$tmp/q.sock"
ok $? "still serving after a SIGHUP with a bad configuration"
grep -F "$tmp/kmsauthzd.conf:6: unknown key 'bogus'" "$tmp/daemon.err" \
    >/dev/null &&
    grep -F "configuration rejected, keeping the running one" \
    "$tmp/daemon.err" >/dev/null
ok $? "the bad configuration is reported with file:line"

stop_daemon INT
ok $? "SIGINT: exit status 0"

write_config
start_daemon
stop_daemon TERM
ok $? "SIGTERM: exit status 0"
finish
