#!/bin/sh
# SPDX-License-Identifier: ISC
# kmsauthzd -n: the configuration file and command-line overrides, every
# error reported with file:line.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 33

write_config
out=$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" 2>&1)
[ "$out" = "configuration OK" ]
ok $? "a valid configuration: -n says OK"

"$KMSAUTHZD" -n -c "$top_srcdir/etc/kmsauthzd.conf" >/dev/null 2>&1
ok $? "the shipped etc/kmsauthzd.conf is valid"

# expect_error LINE-PATTERN CONFIG-LINES...: -n fails naming file:line.
expect_error() {
	pat=$1
	desc=$2
	shift 2
	write_config "$@"
	out=$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" 2>&1)
	st=$?
	if [ $st -ne 0 ] && printf '%s\n' "$out" | grep -F -- "$pat" \
	    >/dev/null; then
		ok 0 "$desc"
	else
		diag "status $st, output: $out"
		ok 1 "$desc"
	fi
}

# write_config writes 5 lines first, so an extra line is line 6.
expect_error "kmsauthzd.conf:6: unknown key 'bogus'" \
    "unknown key rejected with file:line" "bogus = 1"
expect_error "kmsauthzd.conf:7: backlog: bad number 'many'" \
    "non-numeric value rejected" "max_connections = 10" "backlog = many"
expect_error "kmsauthzd.conf:6: max_connections: 0 out of range" \
    "value out of range rejected" "max_connections = 0"
expect_error "kmsauthzd.conf:7: key 'backlog' given twice" \
    "repeated key rejected" "backlog = 3" "backlog = 4"
expect_error "kmsauthzd.conf:6: expected 'key = value'" \
    "line without '=' rejected" "threads 3"
expect_error "kmsauthzd.conf:6: idle_timeout: bad number '-1'" \
    "negative number rejected" "idle_timeout = -1"
expect_error "kmsauthzd.conf:6: map_size_max: bad number '1X'" \
    "bad size suffix rejected" "map_size_max = 1X"
expect_error "kmsauthzd.conf:6: socket_group: no such group" \
    "unknown group rejected" "socket_group = no-such-group-kzt"
expect_error "kmsauthzd.conf:6: unknown key 'admin_peer'" \
    "admin_peer (removed: admin.conf decides) rejected" "admin_peer = root"
expect_error "kmsauthzd.conf:7: max_connections_per_uid (20) exceeds max_connections (10) (max_connections: $tmp/kmsauthzd.conf:6)" \
    "per-uid cap above the total cap: the later key's file:line, and the other's" \
    "max_connections = 10" "max_connections_per_uid = 20"
expect_error "kmsauthzd.conf:7: max_connections_per_uid (20) exceeds max_connections (10) (max_connections_per_uid: $tmp/kmsauthzd.conf:6)" \
    "the same, the keys the other way round" \
    "max_connections_per_uid = 20" "max_connections = 10"
expect_error "kmsauthzd.conf:6: max_connections_per_uid (1024) exceeds max_connections (8) (max_connections_per_uid: default)" \
    "a total cap below the default per-uid cap: its line" "max_connections = 8"
expect_error "kmsauthzd.conf:6: seed_bundle: value too long" \
    "over-long path rejected" "seed_bundle = /$(printf '%01100d' 0)"

# The line limit (CONFIG_LINE_MAX, 4096 bytes without the newline):
# any line over it is refused with file:line, before its key is read;
# a line of exactly 4096 bytes is read.
expect_error "kmsauthzd.conf:6: line longer than 4096 bytes" \
    "a 4097-byte line rejected with file:line" \
    "bogus = $(printf '%04089d' 0)"
expect_error "kmsauthzd.conf:7: line longer than 4096 bytes" \
    "a 4097-byte comment rejected with file:line" \
    "threads = 3" "#$(printf '%04096d' 0)"
write_config "#$(printf '%04095d' 0)" "threads = 3"
[ "$(awk 'NR == 6 { print length($0) }' "$tmp/kmsauthzd.conf")" = 4096 ] &&
[ "$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" 2>&1)" = "configuration OK" ]
ok $? "a line of exactly 4096 bytes is read"

expect_error "kmsauthzd.conf:6: admin_group: no such group 'no-such-group-kzt'" \
    "unknown admin_group rejected" "admin_group = no-such-group-kzt"
expect_error "kmsauthzd.conf:6: admin_config: $tmp/none.conf: No such file or directory" \
    "a missing admin_config file rejected with file:line" \
    "admin_config = $tmp/none.conf"
expect_error "kmsauthzd.conf:7: admin_config: $tmp: not a regular file" \
    "a directory as admin_config rejected with file:line" \
    "threads = 1" "admin_config = $tmp"
printf 'account = 1234567890\nbogus = 1\n' >"$tmp/admin.conf"
expect_error "$tmp/admin.conf:2: " \
    "-n checks the admin_config file itself (admin.conf:line)" \
    "admin_config = $tmp/admin.conf"
printf 'account = 1234567890\n' >"$tmp/admin.conf"
write_config "admin_config = $tmp/admin.conf" "admin_group = 0"
out=$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" 2>&1)
[ "$out" = "configuration OK" ]
ok $? "valid admin_config and admin_group (a gid): -n says OK"
out=$(KMSAUTHZ_ADMIN_CONF=$tmp/none.conf "$KMSAUTHZD" -n \
    -c "$tmp/kmsauthzd.conf" 2>&1)
[ $? -ne 0 ] && printf '%s\n' "$out" |
    grep -F "$tmp/none.conf: No such file or directory" >/dev/null
ok $? "\$KMSAUTHZ_ADMIN_CONF overrides admin_config"

# The seed bundle: -n parses, validates and compiles it in memory.
printf '{"FormatVersion": 1, "Keys": [{"KeyId": "k"}]}\n' >"$tmp/bad.json"
expect_error "$tmp/bad.json: Keys[0].Region" \
    "-n reports a bad seed_bundle with its JSON path" \
    "seed_bundle = $tmp/bad.json"
write_config "seed_bundle = $top_srcdir/etc/example-bundle.json"
out=$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" 2>&1)
[ "$out" = "configuration OK" ] && [ ! -e "$tmp/state/data.mdb" ]
ok $? "-n with a good seed_bundle: OK, and no store is written"
expect_error "$tmp/none.json: No such file or directory" \
    "-n reports a missing seed_bundle" "seed_bundle = $tmp/none.json"

write_config
out=$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" -o threads=999 2>&1)
[ $? -ne 0 ] && printf '%s\n' "$out" |
    grep -F "command line: threads: 999 out of range" >/dev/null
ok $? "a bad -o override is rejected"

out=$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" -o nokey=1 2>&1)
[ $? -ne 0 ] && printf '%s\n' "$out" |
    grep -F "command line: unknown key 'nokey'" >/dev/null
ok $? "an unknown -o key is rejected"

out=$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" -s "" 2>&1)
[ $? -ne 0 ] && printf '%s\n' "$out" |
    grep -F "command line: query_socket: empty value" >/dev/null
ok $? "an empty -s path is rejected"

write_config "max_connections = 2000"
out=$("$KMSAUTHZD" -n -c "$tmp/kmsauthzd.conf" -o max_connections_per_uid=3000 2>&1)
[ $? -ne 0 ] && printf '%s\n' "$out" |
    grep -F "command line: max_connections_per_uid (3000) exceeds max_connections (2000) (max_connections: $tmp/kmsauthzd.conf:6)" >/dev/null
ok $? "an -o override conflicting with the file: command line, and the file's line"

out=$("$KMSAUTHZD" -n -c "$tmp/missing.conf" 2>&1)
[ $? -ne 0 ] && printf '%s\n' "$out" | grep -F "missing.conf" >/dev/null
ok $? "a missing configuration file is an error"

finish
