#!/bin/sh
# SPDX-License-Identifier: ISC
# The daemon serves both sockets with the right modes, answers PING,
# STATUS, HELLO, an admin status, denies on an empty world, and SIGTERM
# drains, exits 0 and unlinks the sockets.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 12

write_config
start_daemon
ok $? "daemon starts and answers PING on the query socket"

"$KZCLIENT" ping "$tmp/a.sock"
ok $? "PING on the admin socket"

[ "$(stat -c %a "$tmp/q.sock")" = 660 ]
ok $? "query socket mode 0660"
[ "$(stat -c %a "$tmp/a.sock")" = 600 ]
ok $? "admin socket mode 0600"

out=$("$KZCLIENT" status "$tmp/q.sock")
printf '%s\n' "$out" | grep -E '^software=kmsauthzd ' >/dev/null &&
    printf '%s\n' "$out" | grep -E '^generation=0$' >/dev/null
ok $? "STATUS reports software and generation 0 (a new, empty store)"

out=$("$KZCLIENT" check "$tmp/q.sock" acs:ram::123456:user/alice \
    kms:Decrypt acs:kms:cn-hangzhou:123456:key/k1 10.0.0.1)
case $out in
IMPLICIT_DENY*) ok 0 "CHECK on an empty world is IMPLICIT_DENY ($out)" ;;
*) ok 1 "CHECK on an empty world is IMPLICIT_DENY ($out)" ;;
esac

out=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}')
printf '%s\n' "$out" | grep -F '"RequestId"' >/dev/null &&
    printf '%s\n' "$out" | grep -F '"Generation":0' >/dev/null
ok $? "admin status answered on the admin socket ($out)"

out=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Frobnicate"}')
printf '%s\n' "$out" | grep -F '"Code":' >/dev/null
ok $? "an unknown admin op gets an error response"

# A second daemon on the same sockets refuses to start (in use).
"$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" 2>"$tmp/second.err"
[ $? -ne 0 ] && grep -E "in use by another process|store is in use by pid" \
    "$tmp/second.err" >/dev/null
ok $? "a second daemon refuses to start (store owned, sockets in use)"

stop_daemon TERM
ok $? "SIGTERM: exit status 0"
[ ! -e "$tmp/q.sock" ] && [ ! -e "$tmp/a.sock" ]
ok $? "SIGTERM: both sockets unlinked"

finish
