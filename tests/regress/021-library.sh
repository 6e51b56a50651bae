#!/bin/sh
# SPDX-License-Identifier: ISC
# libkmsauthz end to end: tests/regress/libe2e (the public API only)
# against the real daemon seeded with etc/example-bundle.json: sync check
# with EXPLAIN, batch at its limit and past it, pipelined and
# non-blocking checks verified against the expected decisions, an
# over-long principal, connect failures and the connect timeout.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 16

write_config "seed_bundle = $top_srcdir/etc/example-bundle.json"
start_daemon
ok $? "daemon starts, seeded with etc/example-bundle.json"

"$top_builddir/tests/regress/libe2e" "$tmp/q.sock" "$tmp" >"$tmp/e2e.out" 2>&1
st=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok 0 "${line#ok - }" ;;
	"not ok - "*) ok 1 "${line#not ok - }" ;;
	*) diag "$line" ;;
	esac
done <"$tmp/e2e.out"
[ $st -eq 0 ]
ok $? "libe2e exits 0"
finish
