#!/bin/sh
# SPDX-License-Identifier: ISC
# 030-foreign-state: the daemon refuses a state directory, or a store
# file in it, that another user owns or that group or others may write
# (another user could have put its own store there), and a damaged
# data.mdb (a branch page pointing out of the file, a zeroed page):
# exit non-zero, never a signal, the path, owner and mode, or the
# table and page, named.  The normal case still starts, and a state
# directory the daemon creates itself is 0700.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

C=$KMSAUTHZCTL
export KMSAUTHZ_ADMIN_SOCKET="$tmp/a.sock"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to give files to another uid"
plan 11
OTHER=65534

# refused DESC PATTERN: the start fails by exit status, stderr matches.
refused() {
	: >"$tmp/start.err"
	"$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>"$tmp/start.err" \
	    </dev/null &
	pid=$!
	wait_until 10 pid_gone $pid
	kill -TERM $pid 2>/dev/null
	wait $pid
	st=$?
	cat "$tmp/start.err" >>"$tmp/daemon.err"
	if [ $st -ne 0 ] && [ $st -lt 128 ] &&
	    grep -E -- "$2" "$tmp/start.err" >/dev/null && [ ! -S "$tmp/q.sock" ]
	then
		ok 0 "$1 (exit $st)"
		grep -E -- "$2" "$tmp/start.err" | head -1 | sed 's/^/#   /'
	else
		ok 1 "$1"
		diag "exit $st; stderr:"
		sed 's/^/#   /' "$tmp/start.err"
	fi
}

write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "state_directory = $tmp/state/new"
start_daemon
m=$(stat -c %a "$tmp/state/new")
stop_daemon
[ "$m" = 700 ] && [ "$(stat -c %a "$tmp/state/new/data.mdb")" = 600 ]
ok $? "a state directory the daemon creates is 0700, data.mdb 0600 (mode $m)"
S=$tmp/state/new
write_config "state_directory = $S"
start_daemon
"$C" CreateUser --UserName kept >/dev/null
ok $? "the normal case: its own directory, served"
stop_daemon

chown $OTHER "$S"
refused "a state directory owned by uid $OTHER" \
    "$S: owned by uid $OTHER \(not 0\), mode 0700: refusing to use it"
chown 0 "$S"
chmod 0777 "$S"
refused "a state directory writable by others" \
    "$S: owned by uid 0, mode 0777, writable by others"
chmod 0770 "$S"
refused "a state directory writable by its group" "$S: .*writable by its group"
chmod 0700 "$S"
chown $OTHER "$S/data.mdb"
refused "data.mdb owned by uid $OTHER" \
    "$S/data.mdb: owned by uid $OTHER \(not 0\)"
chown 0 "$S/data.mdb"
chmod 0666 "$S/lock.mdb"
refused "lock.mdb writable by others" "$S/lock.mdb: .*mode 0666"
chmod 0600 "$S/lock.mdb"
ln -s "$S" "$tmp/state/link"
chown -h $OTHER "$tmp/state/link"
write_config "state_directory = $tmp/state/link"
refused "a state directory that is another user's symbolic link" \
    "$tmp/state/link: a symbolic link owned by uid $OTHER"
write_config "state_directory = $S"

# Damage: the main database's root page (the newer meta's), its first
# node offset pointed out of the page.
cp "$S/data.mdb" "$tmp/good.mdb"
python3 - "$S/data.mdb" <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b"); d = f.read(); ps = 4096
# MDB_meta after the page header: the main db's md_root, then mm_txnid.
m = max((0, 1), key=lambda i: struct.unpack_from("<Q", d, i * ps + 144)[0])
root = struct.unpack_from("<Q", d, m * ps + 128)[0]
f.seek(root * ps + 16); f.write(struct.pack("<H", 0xfff0))
PY
refused "the main database's root page with a node out of the page" \
    "data.mdb: corrupt: page [0-9]+ \(reachable from the main database\): node 0 at offset 65520"
cp "$tmp/good.mdb" "$S/data.mdb"
out=$("$C" verify --db "$S")
[ $? -eq 0 ] && [ "$out" = OK ]
ok $? "kmsauthzctl verify on the restored file: OK, exit 0"
finish
