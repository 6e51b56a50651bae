#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode, a host killed during its first resync: one etcd member,
# host A serving a large pushed state.  Host D, started beside it,
# measures how long a first resync lasts (Status answers while it is
# syncing).  Host C, with an empty store, is then started and killed
# with SIGKILL while it syncs, several times, each time further into
# its resync: its store holds nothing of the fleet after each kill (the
# resync is applied whole or not at all), and each restart resyncs
# again.  Started a last time, C serves at the fleet's revision and
# exports exactly as A does.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 8

NBIG=${FLEET_RESYNC_KEYS:-40000}
ROUNDS=${FLEET_RESYNC_ROUNDS:-4}

fleet_up 1 A
mkdir -m 700 "$tmp/db"
fleetload bundle "$tmp/big.json" "$NBIG" rs &&
    "$KMSAUTHZCTL" import --db "$tmp/db" "$tmp/big.json" >/dev/null &&
    "$KMSAUTHZCTL" fleet push --db "$tmp/db" --endpoints "$ETCD_ALL" \
    >"$tmp/push.out" 2>&1 && wait_until 120 hosts_in_step A
ok $? "A serves a pushed state of $NBIG keys and users ($(cat "$tmp/push.out"))"

# polls NAME: Status answers while NAME is syncing (stops at 100,000).
polls() {
	_pn=0
	while host_state_is "$1" syncing && [ $_pn -lt 100000 ]; do
		_pn=$((_pn + 1))
	done
	echo $_pn
}
host_config D
start_host D
m=$(polls D)
wait_until 120 hosts_in_step A D && [ "$m" -gt 0 ]
ok $? "D's first resync lasts $m Status answers, then D serves"

host_config C
round=0
killed=0
bad=0
while [ $round -lt "$ROUNDS" ]; do
	round=$((round + 1))
	start_host C || { bad=1; diag "round $round: C does not start"; break; }
	# Further into the resync each round: a share of D's answers.
	k=$((m * round / (ROUNDS + 1)))
	i=0
	while [ $i -lt $k ] && host_state_is C syncing; do
		i=$((i + 1))
	done
	if host_state_is C syncing; then
		stop_host C KILL
		killed=$((killed + 1))
	else
		diag "round $round: C was done before $k answers"
		stop_host C KILL
	fi
	"$KMSAUTHZCTL" export --db "$tmp/C/state" >"$tmp/export.C" 2>&1
	# Killed while syncing: not one record of the fleet's state.
	if [ $i -eq $k ] && ! host_log C 'applied whole' >/dev/null &&
	    grep -q 'rs0' "$tmp/export.C"; then
		bad=1
		diag "round $round: C's store holds part of a resync"
	fi
	diag "round $round: killed after $i of $k answers while syncing"
done
[ $killed -ge $((ROUNDS - 1)) ]
ok $? "C killed during its first resync $killed times of $ROUNDS"
[ $bad -eq 0 ]
ok $? "after each kill C's store holds nothing of a resync (whole or nothing)"
[ "$(host_log C 'applied whole' | wc -l)" -le $((ROUNDS - killed)) ]
ok $? "no resync of C completed while it was killed during it"
start_host C && wait_until 120 hosts_in_step A C D
ok $? "started again, C serves at the fleet's revision $(etcd_rev)"
stop_hosts
for h in A C; do
	"$KMSAUTHZCTL" export --db "$tmp/$h/state" >"$tmp/export.$h" 2>&1
done
[ -s "$tmp/export.C" ] && cmp "$tmp/export.A" "$tmp/export.C" >&2
ok $? "C's store exports exactly as A's ($(wc -c <"$tmp/export.C") bytes)"
fleet_finish
