#!/bin/sh
# SPDX-License-Identifier: ISC
# SIGHUP re-reads the store: a new world from LMDB, published whole,
# while a client keeps one connection busy with pipelined checks.  The
# connection stays open, every answer is right before, during and after
# the reloads, the generation is the store's, and the re-read is logged.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 7

write_config "seed_bundle = $top_srcdir/etc/example-bundle.json"
start_daemon
ok $? "daemon starts, seeded with etc/example-bundle.json"
gen0=$("$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^generation=//p')

"$top_builddir/tests/regress/libe2e" load "$tmp/q.sock" 3000 \
    >"$tmp/load.out" 2>&1 &
load=$!
cge() { ge "$(qstat connections)" "$1"; }
reloads() { ge "$(log_count 'reload done')" "$1"; }
wait_until 30 cge 2	# the load and the status probe itself
for i in 1 2 3; do
	kill -HUP "$daemon_pid"
	wait_until 30 reloads $i
done
wait $load
st=$?
diag "$(cat "$tmp/load.out")"
[ $st -eq 0 ]
ok $? "a connection kept checking across 3 SIGHUPs, every answer right"

grep -q "generations $gen0\\.\\.$gen0\$" "$tmp/load.out"
ok $? "answers carry the store's generation ($gen0) throughout"

n=$(grep -c "reload: store re-read, serving generation $gen0" "$tmp/daemon.err")
[ "$n" -eq 3 ]
ok $? "each SIGHUP re-read the store (logged $n times)"

gen=$("$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^generation=//p')
[ "$gen" = "$gen0" ]
ok $? "STATUS reports generation $gen after the reloads"

# The daemon's own count of reloads agrees.
out=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}')
case $out in
*'"Reloads":3'*) ok 0 "the admin Status counts 3 reloads" ;;
*) diag "$out"; ok 1 "the admin Status counts 3 reloads" ;;
esac
finish
