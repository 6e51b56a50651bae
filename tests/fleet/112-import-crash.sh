#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode, an import killed while it stages: three etcd members,
# hosts A and B serving the example bundle, a short staging lease
# (etcd_stage_ttl) and reclaim interval.  A `kmsauthzctl fleet push` of
# a large store is stopped at its first staged batch (a watch on the
# staging keys) and killed with SIGKILL: A and B serve the old state,
# "current" is unchanged, the staged set stays while its lease lives
# and is reclaimed once it has ended (never before: its data is never
# seen gone while its staging key is there), within TTL + interval.  A
# second push right after succeeds and is never reclaimed while it
# stages.  Then host A is killed the same way in the middle of an
# ImportBundle it stages: B keeps the state, A restarts and serves at
# B's revision with B's state, and A's abandoned set is reclaimed.
# (The large states are compared by their stores once the hosts are
# stopped: an ExportBundle of them is slow on a loaded machine.)
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 21

P=/kmsauthz/
TTL=3
EVERY=2
NBIG=${FLEET_IMPORT_KEYS:-25000}
EX=acs:kms:cn-hangzhou:1192853035118888:key/key-hzz6304944631ejqjx0002
EP=acs:ram::1192853035118888:user/alice

etcd_cluster 3 || { ok 1 "etcd starts"; fleet_finish; }
for h in A B; do
	host_config $h "etcd_stage_ttl = $TTL" "etcd_reclaim_interval = $EVERY"
	start_host $h || { ok 1 "host $h starts"; fleet_finish; }
done
actl A ImportBundle --Bundle "file://$top_srcdir/etc/example-bundle.json" &&
    wait_until 20 hosts_in_step A B
ok $? "A and B serve the example bundle at revision $(etcd_rev)"
cur0=$(etcd_ctl get ${P}current --print-value-only)
rev0=$(hget A AppliedRevision)
exp0=$(host_export A)

for t in aa bb; do
	mkdir -m 700 "$tmp/db.$t"
	fleetload bundle "$tmp/big.$t.json" "$NBIG" "$t" &&
	    "$KMSAUTHZCTL" import --db "$tmp/db.$t" "$tmp/big.$t.json" >/dev/null ||
	    { ok 1 "a store of $NBIG keys and users"; fleet_finish; }
done

# old_state: A and B serve the state they served before, as before.
old_state() {
	[ "$(etcd_ctl get ${P}current --print-value-only)" = "$cur0" ] &&
	    [ "$(hget A AppliedRevision)" = "$rev0" ] &&
	    [ "$(hget B AppliedRevision)" = "$rev0" ] &&
	    [ "$(qcheck A "$EP" kms:Decrypt "$EX")" = ALLOW ] &&
	    [ "$(qcheck B "$EP" kms:Decrypt "$EX")" = ALLOW ] &&
	    [ "$(host_export A)" = "$exp0" ] && [ "$(host_export B)" = "$exp0" ]
}

# reclaimed ID: the set, its records and its entry, are gone; early=1
# when its records were seen gone while its staging key was there
# (records read first: a staging key cannot come back).
early=0
reclaimed() {
	_rn=$(ecount "${P}data/$1/")
	if [ "$_rn" -eq 0 ] && [ "$(ecount "${P}staging/$1")" -ne 0 ]; then
		early=1
	fi
	[ "$_rn" -eq 0 ] && [ "$(ecount "${P}sets/$1")" -eq 0 ]
}

# in_step: A and B serve etcd's live data set at one revision (etcd's
# own revision moves past it: staging and reclaims are not the set's).
in_step() {
	_is=$(etcd_ctl get ${P}current --print-value-only |
	    sed -n 's/.*"Data":"\([0-9a-z]*\)".*/\1/p')
	_ir=$(hget B AppliedRevision)
	[ -n "$_ir" ] && hosts_converged "$_ir" A B &&
	    [ "$(hget A DataSet)" = "$_is" ] && [ "$(hget B DataSet)" = "$_is" ]
}

reclaims() {
	echo $(($(hget A ReclaimedSets) + $(hget B ReclaimedSets)))
}

# 2-9: a push killed while it stages.
r=$(etcd_rev)
"$KMSAUTHZCTL" fleet push --db "$tmp/db.aa" --endpoints "$ETCD_ALL" \
    --force --stage-ttl $TTL >"$tmp/push1.out" 2>&1 &
ppid=$!
fleet_pids="$fleet_pids $ppid"
stop_at_staging $ppid "$r"
ok $? "the push stopped at its first staged batch ($(cat "$tmp/staged" 2>/dev/null))"
sid=$(cut -d' ' -f1 "$tmp/staged")
n=$(ecount "${P}data/$sid/")
[ "$n" -gt 0 ] && [ "$n" -lt $((2 * NBIG)) ] &&
    [ "$(ecount "${P}staging/$sid")" -eq 1 ] && [ "$(ecount "${P}sets/$sid")" -eq 1 ] &&
    grep -q '"By":"kmsauthzctl fleet push on ' "$tmp/staged"
ok $? "its set is in etcd, partly ($n records), registered and staged by the push"
kill -KILL $ppid
wait $ppid 2>/dev/null
t0=$(date +%s)
old_state
ok $? "push killed: A and B serve the old state, current unchanged"
[ "$(ecount "${P}data/$sid/")" -eq "$n" ] && [ "$(reclaims)" -eq 0 ]
ok $? "the staged set is still there while its lease lives"
wait_until $((TTL + EVERY + 30)) reclaimed "$sid"
rc=$?
dt=$(($(date +%s) - t0))
ok $rc "the abandoned set is reclaimed ($dt s after the kill; TTL $TTL s, interval $EVERY s)"
[ $early -eq 0 ]
ok $? "never before its lease ended (its records never gone while staged)"
[ "$(reclaims)" -eq 1 ] &&
    { host_log A "data set $sid reclaimed at revision [0-9]* \\($n records\\)" ||
    host_log B "data set $sid reclaimed at revision [0-9]* \\($n records\\)"; } >&2
ok $? "one host reclaimed it, logged with its record count; ReclaimedSets counts it"
old_state
ok $? "A and B still serve the old state"

# 10-13: a second push right after: it succeeds, never reclaimed.
r=$(etcd_rev)
"$KMSAUTHZCTL" fleet push --db "$tmp/db.bb" --endpoints "$ETCD_ALL" \
    --force --stage-ttl $TTL >"$tmp/push2.out" 2>&1 &
ppid=$!
fleet_pids="$fleet_pids $ppid"
# staging2: until the push ends, its set's records never go back to 0.
sid2=
lost=0
seen=0
staging2() {
	if [ -z "$sid2" ]; then
		sid2=$(etcd_ctl get --prefix ${P}staging/ --keys-only |
		    sed -n "s|^${P}staging/||p" | head -1)
	fi
	if [ -n "$sid2" ]; then
		_n2=$(ecount "${P}data/$sid2/")
		[ "$_n2" -gt 0 ] && seen=$((seen + 1))
		[ "$_n2" -eq 0 ] && [ $seen -gt 0 ] && lost=1
	fi
	pid_gone $ppid
}
t1=$(date +%s)
wait_until 300 staging2
wait $ppid
prc=$?
dt=$(($(date +%s) - t1))
[ $prc -eq 0 ] && grep -q "\"DataSet\":\"$sid2\"" "$tmp/push2.out"
ok $? "a second push right after succeeds ($(cat "$tmp/push2.out"), $dt s)"
[ $lost -eq 0 ] && [ $seen -gt 0 ] && [ "$(reclaims)" -eq 1 ]
ok $? "its set is never reclaimed while it stages ($seen looks while staged)"
wait_until 120 in_step && [ "$(hget A DataSet)" = "$sid2" ]
ok $? "A and B serve the pushed state (data set $sid2, revision $(etcd_rev))"
[ "$(ecount ${P}sets/)" -eq 1 ] && [ "$(ecount ${P}staging/)" -eq 0 ] &&
    [ "$(ecount ${P}data/)" -eq "$(ecount "${P}data/$sid2/")" ]
ok $? "etcd holds one set, registered, none staged"

# 14-18: host A killed while it stages an ImportBundle.
fleetload bundle "$tmp/small.json" 4000 cc
rev1=$(hget B AppliedRevision)
r=$(etcd_rev)
"$KMSAUTHZCTL" ImportBundle --Bundle "file://$tmp/small.json" \
    --socket "$tmp/A/a.sock" >"$tmp/imp.out" 2>&1 &
ipid=$!
stop_at_staging "$(host_pid A)" "$r" &&
    grep -q '"By":"kmsauthzd on ' "$tmp/staged"
ok $? "A stopped at its import's first staged batch ($(cat "$tmp/staged" 2>/dev/null))"
sid3=$(cut -d' ' -f1 "$tmp/staged")
n3=$(ecount "${P}data/$sid3/")
kill -KILL "$(host_pid A)"
wait "$(host_pid A)" 2>/dev/null
rm -f "$tmp/A/pid"
wait $ipid
t0=$(date +%s)
[ "$(hget B AppliedRevision)" = "$rev1" ] && [ "$(hget B DataSet)" = "$sid2" ] &&
    host_serving B && [ "$n3" -gt 0 ]
ok $? "A killed ($n3 records staged): B serves the state it served (revision $(hget B AppliedRevision), before $rev1; data set $(hget B DataSet))"
early=0
start_host A && wait_until 120 in_step && [ "$(hget A AppliedRevision)" = "$rev1" ]
ok $? "A restarts and serves B's data set at B's revision"
wait_until $((TTL + EVERY + 30)) reclaimed "$sid3"
ok $? "A's abandoned set is reclaimed ($(($(date +%s) - t0)) s after the kill)"
[ $early -eq 0 ] && [ "$(ecount ${P}sets/)" -eq 1 ]
ok $? "never before its lease ended; one set left"
[ "$(hget A DataSet)" = "$sid2" ] && [ "$(hget B DataSet)" = "$sid2" ] &&
    [ "$(qcheck A "$EP" kms:Decrypt "$EX")" = "$(qcheck B "$EP" kms:Decrypt "$EX")" ]
ok $? "A and B answer alike"
stop_hosts
for h in A B; do
	"$KMSAUTHZCTL" export --db "$tmp/$h/state" >"$tmp/export.$h" 2>&1
done
grep -q key-bb000000 "$tmp/export.A" && cmp "$tmp/export.A" "$tmp/export.B" >&2
ok $? "stopped: A's store exports exactly as B's ($(wc -c <"$tmp/export.A") bytes)"
fleet_finish
