#!/bin/sh
# SPDX-License-Identifier: ISC
# The etcd client on a three-member cluster: every member's status, the
# leader killed (calls go on through the others), and a watch whose
# member is killed under it moving to another member and resuming at
# the next revision, every revision once and in order.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 10

etcd_cluster 3 || { ok 1 "a three-member cluster starts"; etcd_finish; }
ok 0 "a three-member cluster starts"

# 2: each member answers, one cluster, one leader.
bad=0
for n in m1 m2 m3; do
	ETCD_ENDPOINTS=$(etcd_url $n) probe status || bad=1
	sed -n 's/^cluster=\([0-9]*\) .*leader=\([0-9]*\) .*/\1 \2/p' "$tmp/out"
done >"$tmp/st"
[ $bad -eq 0 ] && [ "$(sort -u "$tmp/st" | wc -l)" -eq 1 ]
ok $? "every member: the same cluster and leader"

wait_until 20 etcd_leader >/dev/null
leader=$(etcd_leader)
[ -n "$leader" ]
ok $? "a leader ($leader)"

# 4: a watch on the first endpoint (the one killed below).
probe put fleet/f/0 start
rev=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
first=$leader
ordered=$(etcd_url "$first")
for n in m1 m2 m3; do
	[ "$n" = "$first" ] || ordered="$ordered,$(etcd_url $n)"
done
ETCD_ENDPOINTS=$ordered ETCD_TIMEOUT=2 "$ETCDPROBE" watch fleet/f/ "$rev" 11 \
    >"$tmp/watch" 2>&1 &
wpid=$!
for i in 1 2 3 4 5; do probe put fleet/f/$i v$i; done
wait_until 20 grep -qs 'fleet/f/5=v5' "$tmp/watch"
ok $? "the watch on the leader delivers"

# 5-6: the leader killed: calls through the list go on.
etcd_kill "$first"
ETCD_ENDPOINTS=$ordered ETCD_TIMEOUT=2 wait_until 30 probe put fleet/f/6 v6
ok $? "a put after the leader was killed ($(cat "$tmp/out"))"
for i in 7 8 9 10; do
	ETCD_ENDPOINTS=$ordered ETCD_TIMEOUT=2 wait_until 30 probe put fleet/f/$i v$i
done
ETCD_ENDPOINTS=$ordered ETCD_TIMEOUT=2 probe get fleet/f/ +
grep -q '^rev=[0-9]* count=11 ' "$tmp/out"
ok $? "a range through the survivors"

# 7-8: the watch moved to a survivor and missed nothing.
wait_until 60 pid_gone "$wpid"
wait "$wpid"
rc=$?
grep -q '^trouble unavailable: ' "$tmp/watch"
ok $? "the watch saw its stream break"
grep '^rev=' "$tmp/watch" | sed 's/^rev=\([0-9]*\) put fleet\/f\/\([0-9]*\)=.*/\1 \2/' >"$tmp/revs"
awk 'NR > 1 && $1 <= prev { bad = 1 } $2 != NR - 1 { bad = 1 } { prev = $1 } END { exit bad || NR != 11 }' "$tmp/revs" && [ $rc -eq 0 ]
ok $? "every event once and in order across the failover ($(tail -1 "$tmp/watch"))"

probe_clean "$tmp/watch"
ok $? "no sanitizer report from the probe"
etcd_finish
