#!/bin/sh
# SPDX-License-Identifier: ISC
# Members of admin_group that the admin configuration maps to nothing
# cannot lock the superuser out of the admin socket: each uid has its
# own cap (max_admin_connections_per_uid), a quarter of
# max_admin_connections is kept for superusers, and an admin connection
# idles out idle_timeout after its last successful call, whatever PINGs
# or refused calls it sends meanwhile.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

PYOTHER=/usr/bin/python3
KZLOAD="$PYOTHER $top_srcdir/tests/regress/kzload.py"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
    ! getent group 65534 >/dev/null ||
    ! setpriv --reuid=65534 --regid=65534 --clear-groups \
    $PYOTHER -c pass 2>/dev/null; then
	skip_all "needs root and setpriv (other uids on the admin socket)"
fi
plan 10
chmod 755 "$tmp"
grp=$(getent group 65534 | cut -d: -f1)

stat() {	# stat NAME: a counter of the admin Status (as root)
	"$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' |
	    tr ',' '\n' | sed -n "s/.*\"$1\": *\\([0-9]*\\).*/\\1/p"
}
# wait_line FILE REGEX SECS
wait_line() {
	wait_until "$3" grep -qE "$2" "$1" 2>/dev/null
}
# pinghold_as UID OUT N [ACTION]: N admin connections as UID (group
# 65534), each PINGing (or calling ACTION) every 0.3 s for up to 60 s.
pinghold_as() {
	setpriv --reuid="$1" --regid=65534 --clear-groups \
	    $KZLOAD pinghold "$tmp/a.sock" "$3" 60 0.3 $4 >"$2" 2>&1 &
	wait_line "$2" '^served' 30
}

write_config "admin_group = $grp" "max_admin_connections = 8" \
    "max_admin_connections_per_uid = 4" "idle_timeout = 3"
start_daemon
ok $? "daemon started (admin_group $grp, 8 admin connections, 4 per uid)"

pinghold_as 65534 "$tmp/u1.out" 8
p1=$!
[ "$(head -1 "$tmp/u1.out")" = "served 4 busy 4" ]
ok $? "an unmapped uid gets its 4 of 8: $(head -1 "$tmp/u1.out")"
pinghold_as 65533 "$tmp/u2.out" 8
p2=$!
[ "$(head -1 "$tmp/u2.out")" = "served 2 busy 6" ]
ok $? "a second unmapped uid gets the 2 left outside the superuser's room: $(head -1 "$tmp/u2.out")"

out=$("$KMSAUTHZCTL" Status --socket "$tmp/a.sock" 2>&1)
ok $? "root's Status is answered while they hold 6 connections"
"$KMSAUTHZCTL" CreateInstance --socket "$tmp/a.sock" \
    --InstanceId kst-lock000001 --ShareQuota 5 >/dev/null 2>&1
ok $? "root's change is accepted meanwhile"
[ "$(stat RejectedAdminPerUid)" -ge 4 ] && [ "$(stat RejectedAdmin)" -ge 6 ]
ok $? "RejectedAdminPerUid $(stat RejectedAdminPerUid), RejectedAdmin $(stat RejectedAdmin)"

# PINGs every 0.3 s do not keep them: closed at idle_timeout (3 s).
wait_line "$tmp/u1.out" '^closed' 30 && wait_line "$tmp/u2.out" '^closed' 30
c1=$(sed -n 's/^closed \([0-9]*\) after \([0-9]*\).*/\1 \2/p' "$tmp/u1.out")
c2=$(sed -n 's/^closed \([0-9]*\) after \([0-9]*\).*/\1 \2/p' "$tmp/u2.out")
diag "uid 65534: closed/seconds $c1; uid 65533: $c2"
[ "${c1% *}" = 4 ] && [ "${c1#* }" -lt 30 ] && [ "${c2% *}" = 2 ]
ok $? "PINGing admin connections idle out (closed/seconds: $c1, $c2)"
wait $p1 $p2

# Refused calls (ListKeys: Forbidden for an unmapped uid) neither.
pinghold_as 65534 "$tmp/u3.out" 2 ListKeys
p3=$!
wait_line "$tmp/u3.out" '^closed' 30
c3=$(sed -n 's/^closed \([0-9]*\) after \([0-9]*\).*/\1 \2/p' "$tmp/u3.out")
[ "${c3% *}" = 2 ] && [ "${c3#* }" -lt 30 ]
ok $? "connections making refused calls idle out too (closed/seconds: $c3)"
wait $p3

# Root's own connections are bounded by the total alone.
$KZLOAD hold "$tmp/a.sock" 9 0 >"$tmp/root.out" 2>&1
[ "$(cat "$tmp/root.out")" = "served 8 busy 1" ]
ok $? "root may use every admin slot: $(cat "$tmp/root.out")"
finish
