#!/bin/sh
# SPDX-License-Identifier: ISC
# 101-crash-storm: kill -9 of the daemon in the middle of an admin update
# storm (user creations, three-tag TagResource calls, SetKeyPolicy), then
# a restart on the same state directory: every acknowledged change is
# there, no multi-part change is half applied, nothing unacknowledged
# beyond the one call in flight, and the very first query answers from
# the last committed key policy.  Several rounds, killed at different
# moments.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
KZLOAD="python3 $top_srcdir/tests/regress/kzload.py"
ROUNDS=${KMSAUTHZ_CRASH_ROUNDS:-4}
plan $((ROUNDS * 3 + 2))

write_config
r=1
while [ $r -le $ROUNDS ]; do
	start_daemon
	ok $? "round $r: daemon started on the state of round $((r - 1))"
	rm -f "$tmp/ready"; touch "$tmp/sent" "$tmp/acks"
	$KZLOAD storm "$tmp/q.sock" "$tmp/a.sock" "$tmp" 100000 \
	    >"$tmp/storm.out" 2>&1 &
	storm=$!
	i=0
	while [ ! -f "$tmp/ready" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	# 300-1100 ms into the storm.
	ms=$(( ($(od -An -N2 -tu2 /dev/urandom) % 800) + 300 ))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
	wait $storm
	cat "$tmp/storm.out"
	n=$(wc -l <"$tmp/acks")
	diag "killed after $ms ms; $n changes acknowledged so far"
	start_daemon
	# verify asks its first queries before anything else is sent.
	$KZLOAD verify "$tmp/q.sock" "$tmp/a.sock" "$tmp" >"$tmp/verify.out" 2>&1
	st=$?
	cat "$tmp/verify.out"
	[ $st -eq 0 ]
	ok $? "round $r: every acknowledged change is there, nothing half applied"
	stop_daemon
	[ "$daemon_status" -eq 0 ]
	ok $? "round $r: clean stop after the check"
	r=$((r + 1))
done
n=$(wc -l <"$tmp/acks")
[ "$n" -ge $((ROUNDS * 3)) ]
ok $? "$n changes acknowledged over $ROUNDS kills"
finish
