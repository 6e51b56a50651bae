#!/bin/sh
# SPDX-License-Identifier: ISC
# The sockets' mode and group are set without following a path another
# user could swap: bound in a private directory under the right umask,
# their group set there, renamed into place; no chmod or chown by path
# (checked with strace when it is there).  A symlink or another file at
# a socket path refuses the start and is left untouched, with nothing
# left behind.  Under socket activation socket_group and admin_group do
# nothing, and the log says so.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 9

if [ "$(id -u)" -eq 0 ] && getent group 65534 >/dev/null; then
	grp=$(getent group 65534 | cut -d: -f1)
	gid=65534
else
	gid=$(id -g)
	grp=$gid
fi
write_config "socket_group = $grp" "admin_group = $grp"
if command -v strace >/dev/null; then
	strace -f -qq -e trace=chmod,fchmodat,chown,lchown,fchownat,rename \
	    -o "$tmp/strace.out" "$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" \
	    2>>"$tmp/daemon.err" &
	daemon_pid=$!
	wait_for_socket "$tmp/q.sock"
	ok $? "daemon started under strace"
else
	start_daemon
	ok $? "daemon started (strace missing: syscalls not traced)"
fi
m=$(stat -c '%F %a %g' "$tmp/q.sock") a=$(stat -c '%F %a %g' "$tmp/a.sock")
[ "$m" = "socket 660 $gid" ] && [ "$a" = "socket 660 $gid" ]
ok $? "query socket: $m; admin socket: $a (group $grp)"
! ls -a "$tmp" | grep -q '^\.kmsauthzd\.'
ok $? "no private bind directory left beside them"
if [ -f "$tmp/strace.out" ]; then
	# strace passes the signal on only to a tracee it is told of.
	kill -TERM $(pgrep -P "$daemon_pid") 2>/dev/null
	wait "$daemon_pid"
	daemon_pid=
else
	stop_daemon
fi
if [ -f "$tmp/strace.out" ]; then
	grep -E "^[0-9]+ +(chmod|chown|lchown)\(|fchmodat\(|fchownat\(AT_FDCWD, \"$tmp/[qa].sock\"" \
	    "$tmp/strace.out" | sed 's/^/# /'
	! grep -E "^[0-9]+ +(chmod|chown|lchown)\(|fchmodat\(|fchownat\(AT_FDCWD, \"$tmp/[qa].sock\"" \
	    "$tmp/strace.out" >/dev/null &&
	    [ "$(grep -c 'fchownat(AT_FDCWD, ".*/\.kmsauthzd\.[^/]*/s", -1, '"$gid"', AT_SYMLINK_NOFOLLOW) = 0' "$tmp/strace.out")" = 2 ] &&
	    [ "$(grep -c "rename(\".*/\.kmsauthzd\.[^/]*/s\", \"$tmp/[qa].sock\") = 0" "$tmp/strace.out")" = 2 ]
	ok $? "strace: no chmod/chown by the socket's path; group set in the private directory without following links, then renamed into place"
else
	ok 0 "no chmod/chown by path # SKIP strace not installed"
fi

# A symlink planted at the query socket path.
echo secret >"$tmp/target"
chmod 600 "$tmp/target"
before=$(stat -c '%a %g' "$tmp/target")
rm -f "$tmp/q.sock"
ln -s "$tmp/target" "$tmp/q.sock"
"$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" >"$tmp/o" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "q.sock: exists and is not a socket" "$tmp/o"
ok $? "a symlink at the socket path refuses the start (exit $rc)"
after=$(stat -c '%a %g' "$tmp/target")
[ "$before" = "$after" ] && [ -L "$tmp/q.sock" ] &&
    [ "$(cat "$tmp/target")" = secret ]
ok $? "its target is untouched ($before -> $after) and the link stays"
! ls -a "$tmp" | grep -q '^\.kmsauthzd\.'
ok $? "nothing left behind by the refused start"
rm -f "$tmp/q.sock"

# Socket activation with socket_group and admin_group set: logged.
: >"$tmp/daemon.err"
"$SDHARNESS" -l "query=$tmp/q.sock" -l "admin=$tmp/a.sock" -p "$tmp/pid" \
    -- "$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>>"$tmp/daemon.err" &
harness=$!
wait_for_socket "$tmp/q.sock"
grep -q "socket_group = $grp does nothing: the query socket comes from socket activation" "$tmp/daemon.err" &&
    grep -q "admin_group = $grp does nothing: the admin socket comes from socket activation" "$tmp/daemon.err"
ok $? "under socket activation socket_group and admin_group are said to do nothing"
kill -TERM "$(cat "$tmp/pid")"
wait $harness
finish
