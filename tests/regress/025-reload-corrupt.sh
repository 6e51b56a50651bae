#!/bin/sh
# SPDX-License-Identifier: ISC
# SIGHUP on a store that no longer reads: a malformed record written into
# the live LMDB by another process (mdb_load, from lmdb-utils) makes the
# re-read fail.  The daemon logs why, keeps serving the world it had (same
# generation, same answers, the connection of a pipelining client kept),
# counts the reload, and still commits admin changes on that world; a
# second SIGHUP fails the same way.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
command -v mdb_load >/dev/null 2>&1 || skip_all "mdb_load (lmdb-utils) not installed"
plan 11

C=$KMSAUTHZCTL
A="--socket $tmp/a.sock"
ACCT=1192853035118888
KEY=acs:kms:cn-hangzhou:$ACCT:key/key-hzz6304944631ejqjx0002

generation() {
	"$KZCLIENT" status "$tmp/q.sock" | sed -n 's/^generation=//p'
}
# answers FILE: two checks of the README (alice allowed, eve denied).
answers() {
	{
		"$C" check --socket "$tmp/q.sock" --explain \
		    --principal "acs:ram::$ACCT:user/alice" \
		    --action kms:Decrypt --resource "$KEY"
		echo " rc=$?"
		"$C" check --socket "$tmp/q.sock" \
		    --principal acs:ram::2222222222222222:user/eve \
		    --action kms:Decrypt --resource "$KEY"
		echo " rc=$?"
	} >"$1" 2>&1
}
# reloads N: wait (5 s at most) until the log shows N finished reloads.
reloads() {
	i=0
	while [ "$(grep -c 'reload done' "$tmp/daemon.err")" -lt "$1" ] &&
	    [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

write_config "seed_bundle = $top_srcdir/etc/example-bundle.json"
start_daemon
ok $? "daemon starts, seeded with etc/example-bundle.json"
gen0=$(generation)
answers "$tmp/before"
grep -q ' rc=0' "$tmp/before" && grep -q ' rc=1' "$tmp/before"
ok $? "before: alice is allowed, eve denied (generation $gen0)"

# An alias record whose LMDB key lacks its region/account/name parts.
printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n bogus\n key-x\nDATA=END\n' |
    mdb_load -s aliases "$tmp/state"
ok $? "a malformed alias record is written into the live store"

"$top_builddir/tests/regress/libe2e" load "$tmp/q.sock" 1500 \
    >"$tmp/load.out" 2>&1 &
load=$!
cge() { ge "$(qstat connections)" "$1"; }
wait_until 30 cge 2	# the load and the status probe itself
kill -HUP "$daemon_pid"
reloads 1
wait $load
st=$?
diag "$(cat "$tmp/load.out")"
[ $st -eq 0 ]
ok $? "a pipelining connection kept checking across the failed reload, every answer right"

grep -q "reload: store not re-read ($tmp/state: aliases \"bogus\": malformed): still serving generation $gen0" \
    "$tmp/daemon.err"
ok $? "the failed re-read is logged with the record and the generation kept"

[ "$(generation)" = "$gen0" ]
ok $? "STATUS still reports generation $gen0"

answers "$tmp/after"
cmp -s "$tmp/before" "$tmp/after"
ok $? "the same answers after the failed reload"

out=$("$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}')
case $out in
*'"Reloads":1'*) ok 0 "the admin Status counts the reload" ;;
*) diag "$out"; ok 1 "the admin Status counts the reload" ;;
esac

# shellcheck disable=SC2086
out=$("$C" TagResource --KeyId key-hzz6304944631ejqjx0002 \
    --Tags '[{"TagKey":"after","TagValue":"reload"}]' $A 2>&1)
gen1=$(generation)
[ "$gen1" = $((gen0 + 1)) ]
ok $? "an admin change still commits on the served world (generation $gen1; $out)"

kill -HUP "$daemon_pid"
reloads 2
grep -q "reload: store not re-read (.*): still serving generation $gen1" \
    "$tmp/daemon.err" && [ "$(generation)" = "$gen1" ]
ok $? "a second SIGHUP fails alike and keeps generation $gen1"

finish
