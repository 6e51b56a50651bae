#!/bin/sh
# SPDX-License-Identifier: ISC
# The etcd client with etcd's authentication: no token refused, a wrong
# password refused, the right one gives a token that every call sends;
# tokens expire after 2 s unused (--auth-token-ttl) and the client asks
# for a new one, a call and a watch (across a restart) alike.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 13

ETCD_EXTRA_ARGS="--auth-token-ttl 2" etcd_cluster 1 || { ok 1 "etcd starts"; etcd_finish; }
E=$ETCD_ALL
printf 'rootpw\n' >"$tmp/pw"
chmod 600 "$tmp/pw"
printf 'wrong\n' >"$tmp/bad"
chmod 600 "$tmp/bad"
etcd_ctl user add root:rootpw >/dev/null 2>&1 &&
    etcd_ctl user grant-role root root >/dev/null 2>&1 &&
    etcd_ctl auth enable >/dev/null 2>&1
ok $? "authentication enabled (etcdctl)"
etcd_ctl_user=root:rootpw

# 2: no credentials: refused, as auth.
probe get fleet/a
grep -q "^error auth: $E: /v3/kv/range: HTTP 400: etcdserver: user name is empty" "$tmp/out"
ok $? "no token: refused ($(cat "$tmp/out"))"

# 3: a wrong password.
ETCD_USER=root ETCD_PASSWORD_FILE=$tmp/bad probe get fleet/a
grep -q "^error auth: $E: /v3/auth/authenticate: HTTP 400: etcdserver: authentication failed, invalid user ID or password" "$tmp/out"
ok $? "a wrong password: refused ($(cat "$tmp/out"))"

# 4: a password file others can read.
chmod 644 "$tmp/pw"
ETCD_USER=root ETCD_PASSWORD_FILE=$tmp/pw probe get fleet/a
grep -q "^error config: $tmp/pw: readable or writable by others" "$tmp/out"
ok $? "a password file readable by others is refused"
chmod 600 "$tmp/pw"

export ETCD_USER=root ETCD_PASSWORD_FILE="$tmp/pw"
# 5-7: the right password.
probe auth && grep -q '^authenticated$' "$tmp/out"
ok $? "authenticate"
probe put fleet/a one && grep -q 'succeeded=1' "$tmp/out"
ok $? "a put with the token"
probe get fleet/a && grep -q '^fleet/a=one ' "$tmp/out"
ok $? "a range with the token"

# 8-10: a watch across a restart: its token is gone, it gets another.
rev=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
ETCD_ENDPOINTS=$E "$ETCDPROBE" watch fleet/ "$rev" 3 >"$tmp/watch" 2>&1 &
wpid=$!
wait_until 20 grep -qs 'fleet/a=one' "$tmp/watch"
ok $? "a watch with the token"
# Turning authentication off and on drops every token etcd gave.
etcd_ctl auth disable >/dev/null 2>&1 && etcd_ctl auth enable >/dev/null 2>&1
etcd_stop m1
etcd_start m1
wait_until 60 etcd_healthy m1
probe put fleet/b two
probe put fleet/c three
wait_until 30 pid_gone "$wpid"
wait "$wpid"
rc=$?
[ $rc -eq 0 ] && grep -q 'put fleet/c=three' "$tmp/watch"
ok $? "the watch resumed with a new token after the restart, its token dropped ($(tail -1 "$tmp/watch"))"
grep '^trouble' "$tmp/watch" | sed 's/^/# /'
probe get fleet/c && grep -q '^fleet/c=three ' "$tmp/out"
ok $? "a new client after the restart"

# 11: a client whose token expired gets a new one.  The wait is on a
# condition: a token asked for after the client's has expired.
token_expired() {
	curl -s -m 2 "$E/v3/kv/range" -H "Authorization: $tok" \
	    -d '{"key":"YQ=="}' | grep -q 'invalid auth token'
}
ETCD_ENDPOINTS=$E "$ETCDPROBE" get2 fleet/c "$tmp/go" >"$tmp/get2" 2>&1 &
gpid=$!
wait_until 20 grep -qs '^fleet/c=three ' "$tmp/get2"
tok=$(curl -s -m 2 "$E/v3/auth/authenticate" \
    -d '{"name":"root","password":"rootpw"}' |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
wait_until 30 token_expired
touch "$tmp/go"
wait_until 30 pid_gone "$gpid"
wait "$gpid" && [ "$(grep -c '^fleet/c=three ' "$tmp/get2")" -eq 2 ]
ok $? "a call with an expired token authenticates again ($(tail -1 "$tmp/get2"))"

probe_clean "$tmp/watch"
ok $? "no sanitizer report from the probe"
etcd_finish
