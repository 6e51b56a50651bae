#!/bin/sh
# SPDX-License-Identifier: ISC
# Socket activation (LISTEN_FDS/LISTEN_FDNAMES, with the fallback to
# bind for a socket not passed) and the notify protocol on an abstract
# NOTIFY_SOCKET: READY=1, STATUS=, WATCHDOG=1, RELOADING=1 with
# MONOTONIC_USEC, STOPPING=1.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 15

# The configured paths differ from the activated ones: the daemon must
# use the descriptors, not bind the configured paths.
write_config
sed -i "s|^query_socket = .*|query_socket = $tmp/cfg-q.sock|; \
s|^admin_socket = .*|admin_socket = $tmp/cfg-a.sock|" "$tmp/kmsauthzd.conf"

"$SDHARNESS" -l "query=$tmp/q.sock" -l "admin=$tmp/a.sock" \
    -N "$tmp/notify.log" -p "$tmp/pid" -w 200000 -- \
    "$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>>"$tmp/daemon.err" &
harness=$!
wait_for_socket "$tmp/q.sock"
ok $? "the daemon answers on the activated query socket"
"$KZCLIENT" ping "$tmp/a.sock"
ok $? "and on the activated admin socket"
[ ! -e "$tmp/cfg-q.sock" ] && [ ! -e "$tmp/cfg-a.sock" ]
ok $? "the configured paths were not bound"

# The harness logs each datagram as it gets it: under load, a moment
# after the daemon already answers on the activated socket.
i=0
while [ $i -lt 50 ] && ! grep -x 'READY=1' "$tmp/notify.log" >/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
grep -x 'READY=1' "$tmp/notify.log" >/dev/null
ok $? "READY=1 received"
grep '^STATUS=serving: generation 0' "$tmp/notify.log" >/dev/null
ok $? "STATUS= received"
wait_until 30 grep -qx 'WATCHDOG=1' "$tmp/notify.log"
ok $? "WATCHDOG=1 received (WATCHDOG_USEC=200000)"

pid=$(cat "$tmp/pid")
kill -HUP "$pid"
ready2() { [ "$(grep -c -x 'READY=1' "$tmp/notify.log")" -ge 2 ]; }
wait_until 30 ready2
grep -E '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$' "$tmp/notify.log" >/dev/null
ok $? "SIGHUP: RELOADING=1 with MONOTONIC_USEC"
[ "$(grep -c -x 'READY=1' "$tmp/notify.log")" -ge 2 ]
ok $? "SIGHUP: READY=1 again after the reload"

kill -TERM "$pid"
wait $harness
ok $? "SIGTERM: exit status 0"
grep -x 'STOPPING=1' "$tmp/notify.log" >/dev/null
ok $? "STOPPING=1 received"
[ -S "$tmp/q.sock" ] && [ -S "$tmp/a.sock" ]
ok $? "activated sockets are left to their owner (not unlinked)"

# Only the query socket activated: the admin socket falls back to bind.
rm -f "$tmp/q.sock" "$tmp/a.sock" "$tmp/notify.log"
"$SDHARNESS" -l "query=$tmp/q.sock" -N "$tmp/notify.log" -p "$tmp/pid" \
    -- "$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>>"$tmp/daemon.err" &
harness=$!
wait_for_socket "$tmp/q.sock" && "$KZCLIENT" ping "$tmp/cfg-a.sock"
ok $? "admin socket not passed: bound at the configured path"
kill -TERM "$(cat "$tmp/pid")"
wait $harness

# An audit file that cannot be opened: STATUS= says changes are refused;
# once it can be opened, SIGHUP's STATUS= no longer does.
rm -f "$tmp/notify.log"
printf 'audit_file = %s\nuid = 0 superuser\n' "$tmp/auditdir/audit.jsonl" \
    >"$tmp/admin-audit.conf"
KMSAUTHZ_ADMIN_CONF="$tmp/admin-audit.conf" "$SDHARNESS" \
    -N "$tmp/notify.log" -p "$tmp/pid" -- \
    "$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>>"$tmp/daemon.err" &
harness=$!
wait_for_socket "$tmp/cfg-q.sock"
i=0
while [ $i -lt 50 ] && ! grep -x 'READY=1' "$tmp/notify.log" >/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
grep '^STATUS=serving: .*, audit file unavailable: changes refused$' \
    "$tmp/notify.log" >/dev/null
ok $? "STATUS= names an audit file that cannot be opened"
mkdir "$tmp/auditdir"
: >"$tmp/notify.log"
kill -HUP "$(cat "$tmp/pid")"
i=0
while [ $i -lt 50 ] && ! grep '^STATUS=reloaded' "$tmp/notify.log" >/dev/null
do
	sleep 0.1
	i=$((i + 1))
done
grep '^STATUS=reloaded' "$tmp/notify.log" >/dev/null &&
    ! grep 'audit file unavailable' "$tmp/notify.log" >/dev/null
ok $? "after SIGHUP with the audit file openable, STATUS= no longer does"
kill -TERM "$(cat "$tmp/pid")"
wait $harness
finish
