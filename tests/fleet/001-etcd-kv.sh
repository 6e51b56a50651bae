#!/bin/sh
# SPDX-License-Identifier: ISC
# The etcd client (src/fleet/) against one real etcd member: endpoint
# lists, status, put and range, a txn whose comparison fails, the
# answer size limit, a paged walk of 2,500 keys at one revision while
# another client writes, a watch that resumes after the member
# restarts, compaction reported to a watcher, and an endpoint that
# refuses connections; comparisons over a range of keys; whether a key
# of a range changed between two revisions.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 33

# 1-2: endpoint lists, good and bad (each bad one named, and why).
"$ETCDPROBE" parse 'http://127.0.0.1:2379, https://[::1]:2379,http://etcd.example:1' >"$tmp/out"
grep -q '^ok 3$' "$tmp/out"
ok $? "a list of three endpoints is read"
bad=0
for e in 'ftp://127.0.0.1:2379' 'http://127.0.0.1' 'http://127.0.0.1:0' \
    'http://127.0.0.1:2379/v3' 'http://:2379' 'http://[::1:2379' \
    'http://127.0.0.1:2379,' 'http://a:1,https://b:99999'; do
	"$ETCDPROBE" parse "$e" >"$tmp/out"
	rc=$?
	if [ $rc -ne 2 ] || ! grep -q '^error: \(endpoint "\|empty endpoint\)' "$tmp/out"; then
		diag "$e: $(cat "$tmp/out")"
		bad=1
	fi
done
n17=
for i in $(seq 17); do n17="$n17${n17:+,}http://127.0.0.1:$((2000 + i))"; done
"$ETCDPROBE" parse "$n17" >"$tmp/out"
grep -q '^error: more than 16 endpoints' "$tmp/out" || bad=1
ok $bad "bad endpoint lists are refused with the endpoint and the reason"

etcd_cluster 1 || { ok 1 "etcd starts"; etcd_finish; }
E=$ETCD_ALL

# 3: status.
probe status
grep -q "^cluster=[0-9]* member=[0-9]* leader=[0-9]* rev=[0-9]* version=3\." "$tmp/out"
ok $? "status: cluster, member, leader, revision, version"

# 4-5: put and range.
probe put fleet/a hello && grep -q '^rev=[0-9]* succeeded=1$' "$tmp/out"
ok $? "put through a txn"
rev=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
probe get fleet/a && grep -q "^fleet/a=hello create=$rev mod=$rev version=1$" "$tmp/out"
ok $? "range finds the key, its value and revisions"

# 6: a range with no key: the gateway leaves "kvs" out.
probe get fleet/none && grep -q '^rev=[0-9]* count=0 kvs=0 more=0' "$tmp/out"
ok $? "a range with no key"

# 7-8: txn comparisons: a stale mod_revision fails (a result, not an error).
probe cas fleet/a $((rev - 1)) stale && grep -q '^rev=[0-9]* succeeded=0$' "$tmp/out"
ok $? "a txn whose MOD comparison fails: succeeded=0"
probe cas fleet/a "$rev" fresh && grep -q '^rev=[0-9]* succeeded=1$' "$tmp/out" &&
    probe get fleet/a && grep -q '^fleet/a=fresh ' "$tmp/out"
ok $? "the same txn at the right mod_revision succeeds"

# 9: a future revision: invalid, with etcd's message and code.
ETCD_REV=999999 probe get fleet/a
grep -q "^error invalid: $E: /v3/kv/range: HTTP 400: etcdserver: mvcc: required revision is a future revision (code 11)" "$tmp/out"
ok $? "a future revision: invalid, etcd's message ($(cat "$tmp/out"))"

# 10: an answer over the size limit.
probe putn fleet/big/ 20 >/dev/null
ETCD_RESPONSE_MAX=200 probe get fleet/big/ +
rc=$?
[ $rc -eq 2 ] && grep -q "^error protocol: $E: /v3/kv/range: answer longer than 200 bytes" "$tmp/out"
ok $? "an answer over the size limit is refused"

# 11: unavailable: a closed port, the cause named.
port=$(etcd_free_port)
ETCD_ENDPOINTS=http://127.0.0.1:$port "$ETCDPROBE" get fleet/a >"$tmp/out" 2>&1
grep -q "^error unavailable: http://127.0.0.1:$port: cannot connect: connection refused or reset$" "$tmp/out"
ok $? "a closed port: unavailable, and why ($(cat "$tmp/out"))"

# 12: the next endpoint after a dead one.
ETCD_ENDPOINTS=http://127.0.0.1:$port,$E "$ETCDPROBE" get fleet/a >"$tmp/out" 2>&1
grep -q '^fleet/a=fresh ' "$tmp/out"
ok $? "a read goes on to the next endpoint"

# 13-15: 2,500 keys walked in pages of 100 at one revision while another
# client changes and adds keys between pages: exactly the 2,500, in
# order, all with their first value.
probe putn fleet/walk/ 2500 && grep -q '^rev=' "$tmp/out"
ok $? "2,500 keys written"
probe walk fleet/walk/ 100 2500
rc=$?
grep -q '^walk rev=[0-9]* keys=2500 pages=25$' "$tmp/out" && [ $rc -eq 0 ]
ok $? "a paged walk sees one revision while writes go on ($(grep '^walk' "$tmp/out"))"
probe get fleet/walk/ + && grep -q '^rev=[0-9]* count=2525 ' "$tmp/out"
ok $? "the writes between pages happened (2,525 keys now)"

# 16-19: a watch from a revision: events in order, across a restart.
probe put fleet/w/0 start
wrev=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
ETCD_ENDPOINTS=$E "$ETCDPROBE" watch fleet/w/ "$wrev" 8 >"$tmp/watch" 2>&1 &
wpid=$!
for i in 1 2 3; do probe put fleet/w/$i v$i; done
wait_until 20 grep -qs 'fleet/w/3=v3' "$tmp/watch"
ok $? "the watch delivers the events"
etcd_kill m1
wait_until 20 grep -qs '^trouble unavailable: ' "$tmp/watch"
ok $? "the watch reports the broken stream"
etcd_start m1
wait_until 60 etcd_healthy m1
for i in 4 5 6 7; do probe put fleet/w/$i v$i; done
wait_until 30 pid_gone "$wpid"
wait "$wpid"
rc=$?
grep '^rev=' "$tmp/watch" | sed 's/^rev=\([0-9]*\) put fleet\/w\/\([0-9]\)=.*/\1 \2/' >"$tmp/revs"
# Every key once, in order, revisions consecutive from wrev.
awk -v r="$wrev" '$1 != r + NR - 1 || $2 != NR - 1 { bad = 1 } END { exit bad || NR != 8 }' "$tmp/revs"
ok $? "after the restart the watch resumed at the next revision: each once, in order"
[ $rc -eq 0 ] && grep -q '^watched 8 events' "$tmp/watch"
ok $? "the watch ends cleanly ($(tail -1 "$tmp/watch"))"

# 20-23: compaction reported to a watcher.
probe put fleet/c/x 1 && crev=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
probe put fleet/c/x 2 && probe put fleet/c/x 3
probe compact $((crev + 1)) && grep -q '^compacted rev=' "$tmp/out"
ok $? "compaction through the client"
probe watch fleet/c/ "$crev" 5
rc=$?
grep -q "^end compacted compact=$((crev + 1)): $E: /v3/watch: revision $crev is compacted" "$tmp/out" && [ $rc -eq 3 ]
ok $? "a watch from a compacted revision ends with the compact revision"
probe watch fleet/c/ "$((crev + 1))" 2 && grep -q '^rev=.* put fleet/c/x=3$' "$tmp/out"
ok $? "a watch from the compact revision works"

ETCD_REV=$crev probe get fleet/c/x
grep -q "^error compacted: $E: /v3/kv/range: HTTP 400: etcdserver: mvcc: required revision has been compacted" "$tmp/out"
ok $? "a range at a compacted revision: compacted"

# 24-26: a comparison over a range: its range_end in base64 beside the
# key; it holds on an empty range, fails once a key under the prefix is
# at or past the revision, and a key at the range end is outside.
"$ETCDPROBE" rjson fleet/r/ >"$tmp/out" 2>&1 &&
    grep -q '^{"compare":\[{"key":"ZmxlZXQvci8=","range_end":"ZmxlZXQvcjA=","target":"MOD","result":"LESS","mod_revision":"7"}\],"success":\[{"request_put":{"key":"ZmxlZXQvci8=","value":"dg=="}}\]}$' "$tmp/out"
ok $? "a range comparison's JSON: key, range_end (the prefix's end), MOD LESS ($(cat "$tmp/out"))"
probe rcas fleet/r/ 1 fleet/r/a 1 && grep -q '^rev=[0-9]* succeeded=1$' "$tmp/out"
ok $? "MOD < 1 over an empty range holds (a key at its defaults)"
rrev=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
probe put fleet/r0 outside &&
    probe rcas fleet/r/ "$rrev" fleet/r/b 1 && grep -q '^rev=[0-9]* succeeded=0$' "$tmp/out" &&
    probe rcas fleet/r/ "$((rrev + 1))" fleet/r/b 1 && grep -q '^rev=[0-9]* succeeded=1$' "$tmp/out"
ok $? "MOD < R over the range fails with a key changed at R, holds below it; the key at the range end is not in it"

# 27-28: a lease: granted, a key put on it, kept alive, revoked (the
# key goes with it), then gone: a keep-alive answers no TTL and a put
# on it is refused with etcd's reason.
probe lease fleet/l/k v 30
rc=$?
grep -q '^granted ttl=30$' "$tmp/out" && grep -q '^put rev=' "$tmp/out" &&
    grep -q '^kept ttl=30 same=1$' "$tmp/out" && grep -q '^revoked rev=' "$tmp/out" &&
    grep -q '^kept ttl=0$' "$tmp/out" && [ $rc -eq 2 ] &&
    grep -q "^error .*: $E: /v3/kv/txn: .*requested lease not found" "$tmp/out"
ok $? "a lease granted, kept alive, revoked; then gone: no TTL, a put on it refused ($(tail -1 "$tmp/out"))"
probe get fleet/l/k && ! grep -q 'fleet/l/k' "$tmp/out"
ok $? "the key put on the lease went with it"

# 29-31: whether a key of a range changed in (AFTER, UPTO]: one key,
# without its value, of a range bounded by mod_revision (the fields as
# etcd 3.4's RangeRequest names them; not count_only, whose count etcd
# does not filter); keys outside the range, changed past UPTO or at
# AFTER are not seen; a bad request is refused before it is sent.
"$ETCDPROBE" cjson fleet/m/ >"$tmp/out" 2>&1 &&
    grep -q '^{"key":"ZmxlZXQvbS8=","range_end":"ZmxlZXQvbTA=","limit":"1","keys_only":true,"min_mod_revision":"7","max_mod_revision":"9"}$' "$tmp/out"
ok $? "a changed range's JSON: limit 1, keys_only, min_mod_revision AFTER + 1, max_mod_revision UPTO ($(cat "$tmp/out"))"
probe put fleet/m/a 1 && m1=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
probe put fleet/m0 outside && probe put fleet/m/b 1 && probe put fleet/m/b 2 &&
    m2=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out") && probe put fleet/m/c 1 &&
    m3=$(sed -n 's/^rev=\([0-9]*\).*/\1/p' "$tmp/out")
bad=0
for c in "$((m1 - 1)) $m3 1 fleet/m/a@$m1" "$((m1 - 1)) $m1 1 fleet/m/a@$m1" \
    "$m1 $m2 1 fleet/m/b@$m2" "$m1 $((m2 - 1)) 0 -@0" "$m2 $m3 1 fleet/m/c@$m3" \
    "$m3 $((m3 + 5)) 0 -@0"; do
	set -- $c
	probe changed fleet/m/ "$1" "$2" &&
	    grep -q "^rev=$m3 kvs=$3 first=$4 value=0\$" "$tmp/out" ||
	    { bad=1; diag "($1, $2]: want $3 $4: $(cat "$tmp/out")"; }
done
[ $bad -eq 0 ]
ok $? "keys of fleet/m/ changed in (AFTER, UPTO] (revisions $m1..$m3): the first found, none outside the range, past UPTO or at AFTER"
probe changed fleet/m/ 5 5
[ $? -eq 2 ] && grep -q '^error invalid: changed: no key, or not 0 <= after < upto$' "$tmp/out"
ok $? "an empty span is refused: $(cat "$tmp/out")"

probe_clean "$tmp/watch"
ok $? "no sanitizer report from the probe"
etcd_finish
