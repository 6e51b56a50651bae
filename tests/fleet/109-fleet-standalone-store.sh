#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode and a store that already holds a standalone state: host S
# (its store seeded with the example bundle, never in a fleet) started
# against an empty fleet refuses to mirror it: degraded, the message
# says to push the state first; it keeps answering its own decisions,
# refuses changes and writes nothing to etcd, and `kmsauthzctl fleet
# status` exits 1.  A host with an empty store beside it serves the
# empty fleet.  Then S is stopped, its store pushed (kmsauthzctl fleet
# push), and started again: both hosts serve the pushed state.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 12

EX=acs:kms:cn-hangzhou:1192853035118888:key/key-hzz6304944631ejqjx0002
EP=acs:ram::1192853035118888:user/alice

etcd_cluster 1 || { ok 1 "etcd starts"; fleet_finish; }
host_config S
"$KMSAUTHZCTL" import --db "$tmp/S/state" "$top_srcdir/etc/example-bundle.json" >"$tmp/out" 2>&1
ok $? "S's store seeded standalone with the example bundle"
"$KMSAUTHZCTL" export --db "$tmp/S/state" >"$tmp/seeded" 2>&1

start_host S || { ok 1 "host S starts"; fleet_finish; }
degraded() {
	host_state_is S degraded
}
wait_until 20 degraded
ok $? "S against an empty fleet: degraded"
msg=$(hjson S 'd["Fleet"].get("Degraded", "")')
echo "$msg" | grep -q 'push'
ok $? "...the message says to push it first ($msg)"
[ "$(qcheck S "$EP" kms:Decrypt "$EX")" = ALLOW ]
ok $? "S keeps answering its own decisions (the example's allow)"
actl S CreateUser --UserName x
[ "$(acode)" = ServiceUnavailable ] && [ -z "$(etcd_ctl get --prefix /kmsauthz/ --keys-only)" ]
ok $? "S refuses changes (ServiceUnavailable); etcd holds nothing"
"$KMSAUTHZCTL" fleet status --socket "$tmp/S/a.sock" >"$tmp/fs.out" 2>&1
[ $? -eq 1 ] && grep -q degraded "$tmp/fs.out"
ok $? "kmsauthzctl fleet status exits 1 ($(head -c 160 "$tmp/fs.out" | tr '\n' ' '))"

host_config E
start_host E && wait_until 20 hosts_in_step E && host_state_is S degraded &&
    [ "$(qcheck E "$EP" kms:Decrypt "$EX")" = IMPLICIT_DENY ]
ok $? "a host with an empty store serves the empty fleet beside it"

# 8-11: pushed, then in the fleet.
stop_host S
"$KMSAUTHZCTL" export --db "$tmp/S/state" >"$tmp/kept" 2>&1
cmp -s "$tmp/seeded" "$tmp/kept"
ok $? "S stopped: its store still holds the seeded state, untouched"
"$KMSAUTHZCTL" fleet push --db "$tmp/S/state" --endpoints "$ETCD_ALL" >"$tmp/push.out" 2>&1
ok $? "kmsauthzctl fleet push --db S's store ($(tr '\n' ' ' <"$tmp/push.out" | cut -c1-160))"
start_host S && wait_until 30 hosts_in_step S E
ok $? "S started again: S and E serve the pushed state at revision $(etcd_rev)"
g=$(etcd_rev)
[ "$(qcheck E "$EP" kms:Decrypt "$EX" --min-generation "$g")" = ALLOW ] &&
    [ "$(qcheck S "$EP" kms:Decrypt "$EX" --min-generation "$g")" = ALLOW ] &&
    [ "$(host_export S)" = "$(host_export E)" ] &&
    "$KMSAUTHZCTL" fleet status --socket "$tmp/S/a.sock" >/dev/null 2>&1
ok $? "the example's decision at both, one state, fleet status exits 0"
fleet_finish
