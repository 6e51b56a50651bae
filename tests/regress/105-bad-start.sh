#!/bin/sh
# SPDX-License-Identifier: ISC
# 105-bad-start: a daemon with a stored state is started with a bad
# configuration, a bad admin.conf or a bad seed bundle, or on a damaged
# state directory.
# Each time: exit status non-zero (foreground, and the parent's when it
# forks), an error naming the place (file:line, the bundle's JSON path,
# the directory), no socket left, and not one byte of the state
# directory changed (checksums before and after).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

C=$KMSAUTHZCTL
export KMSAUTHZ_ADMIN_SOCKET="$tmp/a.sock"
plan 19

# Lock files are not state: kmsauthz.lock holds the last opener's pid.
sums() {
	(cd "$1" && find . -type f ! -name lock.mdb ! -name kmsauthz.lock |
	    sort | xargs -r sha256sum)
}
good="seed_bundle = $top_srcdir/etc/example-bundle.json"
write_config "$good"
start_daemon
"$C" CreateUser --UserName kept >/dev/null
ok $? "a daemon with a stored state (the seed, and one change)"
stop_daemon
before=$(sums "$tmp/state")

# bad_start DESC PATTERN [DAEMON ARGS...]: the start fails (exit != 0),
# stderr matches PATTERN (grep -E), nothing changed, no socket.
bad_start() {
	desc=$1
	pat=$2
	shift 2
	: >"$tmp/start.err"
	"$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" "$@" 2>"$tmp/start.err" \
	    </dev/null &
	pid=$!
	# A daemon that did start would answer: stop it, it is a failure.
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -TERM $pid 2>/dev/null
	wait $pid
	st=$?
	if [ $st -ne 0 ] && [ $st -lt 128 ] &&
	    grep -E -- "$pat" "$tmp/start.err" >/dev/null &&
	    [ "$(sums "$tmp/state")" = "$before" ] && [ ! -S "$tmp/q.sock" ]
	then
		ok 0 "$desc (exit $st)"
	else
		ok 1 "$desc"
		diag "exit $st; stderr:"
		sed 's/^/#   /' "$tmp/start.err"
	fi
	cat "$tmp/start.err" >>"$tmp/daemon.err"
}

write_config "$good" "max_connections = lots"
bad_start "bad value: file:line named" \
    "kmsauthzd.conf:7: max_connections: bad number 'lots'"
write_config "$good" "threads = 2" "threads = 3"
bad_start "repeated key: file:line named" \
    "kmsauthzd.conf:8: key 'threads' given twice"

write_config "$good" "admin_config = $tmp/bad-admin.conf"
printf 'account = 42\nuid = someone superuser\n' >"$tmp/bad-admin.conf"
bad_start "bad admin configuration: file:line named" \
    "$tmp/bad-admin.conf:2: bad value for 'uid'"

# A seed is read only into an empty store (a store with state never
# reads it: tests/regress/011-seed-admin.sh), so the bad seeds go to a
# fresh directory.
F=$tmp/fresh
printf '{"FormatVersion": 1, "Keys": [' >"$tmp/trunc.json"
write_config "seed_bundle = $tmp/trunc.json" "state_directory = $F"
bad_start "truncated seed bundle: its path and the JSON error" \
    "$tmp/trunc.json: .*(JSON|json|unexpected|end)"
sed 's/"Effect": "Allow"/"Effect": "Permit"/' \
    "$top_srcdir/etc/example-bundle.json" >"$tmp/effect.json"
write_config "seed_bundle = $tmp/effect.json" "state_directory = $F"
bad_start "invalid policy in the seed: the JSON path of the fault" \
    "$tmp/effect.json: Keys\[[0-9]+\]\.KeyPolicy\.Statement\[[0-9]+\]\.Effect"
write_config "seed_bundle = $tmp/missing.json" "state_directory = $F"
bad_start "missing seed bundle: its path and the cause" \
    "$tmp/missing.json: .*No such file"

# A seed over the bundle limit (BUNDLE_MAX_BYTES, 256 MiB), checked by
# its size before a byte is read: a sparse file costs nothing.
truncate -s $((256 * 1024 * 1024 + 1)) "$tmp/huge.json"
write_config "seed_bundle = $tmp/huge.json" "state_directory = $F"
bad_start "a seed bundle over 256 MiB: refused by its size, the file named" \
    "$tmp/huge.json: not a regular file of at most 268435456 bytes"
"$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" >/dev/null 2>"$tmp/n.err"
st=$?
[ $st -ne 0 ] && grep -F "$tmp/huge.json" "$tmp/n.err" | grep 268435456 >/dev/null
ok $? "kmsauthzd -n refuses it the same way (exit $st)"
rm -f "$tmp/huge.json"

# A start refused after the store was opened and the seed read (here
# the query socket cannot be bound): the seed is committed only as the
# start's last step, so the store stays empty (checked below).
write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "state_directory = $F" "query_socket = $tmp/no-such-dir/q.sock"
bad_start "a query socket that cannot be bound: refused, the path named" \
    "$tmp/no-such-dir/q.sock"

# The same, forking (no -f): the parent's status says it failed.
write_config "seed_bundle = $tmp/effect.json" "state_directory = $F"
"$KMSAUTHZD" -c "$tmp/kmsauthzd.conf" 2>"$tmp/start.err"
st=$?
if [ $st -eq 0 ]; then
	# It started after all: stop that daemon (found by our own path).
	for p in $(pgrep -f "$tmp/kmsauthzd.conf"); do kill -TERM "$p"; done
	gone() { ! pgrep -f "$tmp/kmsauthzd.conf" >/dev/null; }
	wait_until 30 gone
fi
[ $st -ne 0 ] && [ "$(sums "$tmp/state")" = "$before" ]
ok $? "without -f the parent exits non-zero too ($st)"

# None of them committed anything: the fresh store seeds now.
write_config "seed_bundle = $top_srcdir/etc/example-bundle.json" \
    "state_directory = $F"
n0=$(wc -l <"$tmp/daemon.err")
start_daemon &&
[ "$("$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^generation=//p')" = 1 ] &&
tail -n +$((n0 + 1)) "$tmp/daemon.err" | grep 'seeded the empty store' >/dev/null
ok $? "nothing was committed by the refused starts: the store was empty, the seed is generation 1"
stop_daemon

# A damaged state directory is refused, never re-initialised.
write_config "$good"
cp "$tmp/state/data.mdb" "$tmp/data.mdb.good"
dd if=/dev/urandom of="$tmp/state/data.mdb" bs=4096 count=2 conv=notrunc \
    2>/dev/null
before=$(sums "$tmp/state")
bad_start "corrupt data.mdb: refused, the file named" "$tmp/state.*data.mdb|$tmp/state"
cp "$tmp/data.mdb.good" "$tmp/state/data.mdb"
mkdir -p "$tmp/foreign" && echo hello >"$tmp/foreign/notes.txt"
write_config "$good" "state_directory = $tmp/foreign"
before=$(sums "$tmp/state")
fbefore=$(sums "$tmp/foreign")
bad_start "a directory that is not a store: refused, not initialised" \
    "$tmp/foreign: not a kmsauthz store"
[ "$(sums "$tmp/foreign")" = "$fbefore" ] && [ ! -f "$tmp/foreign/data.mdb" ]
ok $? "the foreign directory's files untouched, no store made in it"

# After all that, the good configuration serves the kept state.
write_config "$good"
start_daemon
"$C" ExportBundle | grep -F '\"UserName\": \"kept\"' >/dev/null
ok $? "the state survived every refused start"

# (store) A truncated data.mdb, one page short or empty (with a seed
# configured): refused naming the file and the cause; never SIGBUS,
# never re-initialised and seeded.
stop_daemon
cp "$tmp/state/data.mdb" "$tmp/data.mdb.good"
truncate -s $(($(wc -c <"$tmp/state/data.mdb") - 4096)) "$tmp/state/data.mdb"
before=$(sums "$tmp/state")
bad_start "data.mdb one page short: refused, not a crash" \
    "$tmp/state/data.mdb: truncated"
: >"$tmp/state/data.mdb"
before=$(sums "$tmp/state")
bad_start "empty data.mdb: refused, not re-initialised and seeded" \
    "$tmp/state/data.mdb: empty \(0 bytes\)"
cp "$tmp/data.mdb.good" "$tmp/state/data.mdb"
finish
