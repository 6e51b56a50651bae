#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode, a host killed while it applies revisions: one etcd member,
# three hosts; a writer keeps changing the state through A while host C
# is killed with SIGKILL at random moments (after a random number of
# revisions applied since its start) and started again, 20 rounds.
# Each time C comes back at its applied revision (the watch resumes
# there: no resync, nothing before what it had applied), and serves
# while the writer goes on.  In the end C is at the others' revision
# and answers 5,000 checks as they do, and once the hosts are stopped
# its store exports byte for byte as B's (which was never killed): no
# revision skipped, none applied twice.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 10

ROUNDS=${FLEET_KILL_ROUNDS:-20}

fleet_up 1 A B C
fleetload setup "$tmp/A/a.sock" && wait_until 20 hosts_in_step A B C
ok $? "three hosts serving the storm's names (revision $(etcd_rev))"

FLEET_STOPFILE=$tmp/stop fleetload storm "$tmp/acks" 1000000 \
    "$tmp/A/a.sock" >"$tmp/storm.out" 2>&1 &
wpid=$!

applied() {
	hget C AppliedRevision
}
# advanced N: C's AppliedRevision is past N.
advanced() {
	_av=$(applied)
	[ -n "$_av" ] && [ "$_av" -gt "$1" ]
}
seed=${FLEET_KILL_SEED:-$$}
diag "seed $seed (FLEET_KILL_SEED)"
awk -v s="$seed" -v n="$ROUNDS" 'BEGIN { srand(s); for (i = 0; i < n; i++) print 1 + int(rand() * 40) }' >"$tmp/ks"
round=0
lost=0
resynced=0
down=0
stuck=0
whole0=$(host_log C 'applied whole' | wc -l)
while read -r k; do
	round=$((round + 1))
	a0=$(applied)
	# k revisions applied since (re)start, then SIGKILL.
	wait_until 30 advanced $((a0 + k)) || { stuck=$((stuck + 1)); diag "round $round: C stuck at $(applied)"; }
	before=$(applied)
	kill -KILL "$(host_pid C)"
	wait "$(host_pid C)" 2>/dev/null
	rm -f "$tmp/C/pid"
	start_host C || { down=$((down + 1)); diag "round $round: C does not start"; break; }
	from=$(host_log C 'fleet: mirroring' | tail -1 | sed -n 's/.*(applied revision \([0-9]*\)).*/\1/p')
	if [ -z "$from" ] || [ "$from" -lt "$before" ]; then
		lost=$((lost + 1))
		diag "round $round: C had applied $before, restarted at ${from:-?}"
	fi
	wait_until 20 host_serving C || { stuck=$((stuck + 1)); diag "round $round: C not serving"; }
done <"$tmp/ks"
whole=$(host_log C 'applied whole' | wc -l)
resynced=$((whole - whole0))
[ $round -eq "$ROUNDS" ] && [ $down -eq 0 ]
ok $? "$round rounds of SIGKILL and restart of C while it applies"
[ $lost -eq 0 ]
ok $? "each time C restarts at (or past) the revision it had applied when killed"
[ $resynced -eq 0 ] && [ "$(host_log C 'fleet: mirroring' | wc -l)" -eq $((ROUNDS + 1)) ]
ok $? "each time the watch resumes there: no resync ($resynced 'applied whole' after the first)"
[ $stuck -eq 0 ]
ok $? "C serves and applies again after each restart"

touch "$tmp/stop"
wait $wpid
cat "$tmp/storm.out"
acked=$(grep -c '"ok": true' "$tmp/acks")
[ "$acked" -ge 100 ]
ok $? "the writer kept changing the state through A ($acked changes acknowledged)"
wait_until 30 hosts_in_step A B C
ok $? "C converges: A, B and C at revision $(etcd_rev) ($(hget A AppliedRevision) $(hget B AppliedRevision) $(hget C AppliedRevision))"
g=$(etcd_rev)
bad=0
for h in A B C; do
	fleetload checks "$tmp/$h/q.sock" 55 5000 "$g" >"$tmp/chk.$h" 2>&1 || bad=1
done
[ $bad -eq 0 ] && cmp -s "$tmp/chk.B" "$tmp/chk.C" && cmp -s "$tmp/chk.A" "$tmp/chk.C"
ok $? "5,000 checks: C answers as A and B do at generation $g"

stop_hosts
bad=0
for h in A B C; do
	"$KMSAUTHZCTL" export --db "$tmp/$h/state" >"$tmp/export.$h" 2>"$tmp/export.err" || {
		bad=1
		diag "$h: $(cat "$tmp/export.err")"
	}
done
[ $bad -eq 0 ] && [ -s "$tmp/export.C" ] && cmp "$tmp/export.B" "$tmp/export.C" >&2 &&
    cmp "$tmp/export.A" "$tmp/export.C" >&2
ok $? "stopped: C's store exports byte for byte as B's and A's ($(wc -c <"$tmp/export.C") bytes)"
fleet_finish
