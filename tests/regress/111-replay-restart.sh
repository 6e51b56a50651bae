#!/bin/sh
# SPDX-License-Identifier: ISC
# 111-replay-restart: the nonce cache of signed admin requests lives in
# memory, so a restart forgets it.  A signed request accepted by one
# daemon, its exact bytes sent again after a restart (inside the 300 s
# window), is refused: Forbidden.NoPermission, "signed before the daemon
# started".  A freshly signed request after the start floor passes, and
# a replay inside one run is refused as before.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

plan 7
C=$KMSAUTHZCTL
export KMSAUTHZ_ADMIN_SOCKET="$tmp/a.sock"
"$C" keygen --out "$tmp/signer.key" >"$tmp/keygen.out"
PK=$(awk '{print $3}' "$tmp/keygen.out")
cat >"$tmp/admin.conf" <<EOF2
audit_file = $tmp/audit.jsonl
key = $PK superuser
root_superuser = no
EOF2
export KMSAUTHZ_ADMIN_CONF="$tmp/admin.conf"
write_config
code() {
	sed -n 's/.*"Code":"\([^"]*\)".*/\1/p'
}
# wait_floor: until a request signed now is past the start floor
# (start + ADMIN_SIGN_AHEAD, 2 s: docs/security.md).
wait_floor() {
	while [ $(($(date +%s) - started)) -le 3 ]; do sleep 0.2; done
}

started=$(date +%s)
start_daemon
t=$(date +%s)
out=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"CreateUser","Parameters":{"UserName":"early"}}' \
    "$tmp/signer.key" "$tmp/early.frame")
if [ $((t - started)) -le 1 ]; then
	# Signed at most 1 s after "started", so before start + 2 s.
	[ "$(printf '%s' "$out" | code)" = Forbidden.NoPermission ] &&
	printf '%s\n' "$out" | grep 'signed before the daemon started' >/dev/null
	ok $? "a request signed in the daemon's first second is refused (the start floor)"
else
	ok 0 "a request signed in the daemon's first second # SKIP the start took $((t - started)) s"
fi
wait_floor
out=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"CreateUser","Parameters":{"UserName":"u1"}}' \
    "$tmp/signer.key" "$tmp/u1.frame")
[ -z "$(printf '%s' "$out" | code)" ] &&
printf '%s\n' "$out" | grep '"Generation":1' >/dev/null
ok $? "a signed CreateUser is accepted (generation 1): $out"
out=$("$KZCLIENT" admin-replay "$tmp/a.sock" "$tmp/u1.frame")
[ "$(printf '%s' "$out" | code)" = Forbidden.NoPermission ] &&
printf '%s\n' "$out" | grep 'replay' >/dev/null
ok $? "the same bytes again, same daemon: refused as a replay"
stop_daemon

started=$(date +%s)
start_daemon
wait_floor
out=$("$KZCLIENT" admin-replay "$tmp/a.sock" "$tmp/u1.frame")
[ "$(printf '%s' "$out" | code)" = Forbidden.NoPermission ] &&
printf '%s\n' "$out" | grep 'signed before the daemon started' >/dev/null
ok $? "after a restart the captured bytes are refused: Forbidden.NoPermission, signed before the start"
diag "$out"
st=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' "$tmp/signer.key" \
    "$tmp/st.frame")
printf '%s\n' "$st" | grep '"Generation":1' >/dev/null
ok $? "nothing changed (generation 1)"
out=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"CreateUser","Parameters":{"UserName":"u2"}}' \
    "$tmp/signer.key" "$tmp/u2.frame")
printf '%s\n' "$out" | grep '"Generation":2' >/dev/null
ok $? "a freshly signed request is accepted (generation 2)"
stop_daemon
finish
