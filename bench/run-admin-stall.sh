#!/bin/sh
# SPDX-License-Identifier: ISC
# make bench-admin-stall: kmsauthzd on a temporary directory, then
# bench-admin-stall.py: connect+PING latency on the query socket while
# the largest ImportBundle one admin frame carries is answered, beside
# the same with no import (BENCH_ROUNDS imports, default 4).
: "${top_builddir:=.}" "${top_srcdir:=.}"
d=$(mktemp -d "${TMPDIR:-/tmp}/kzstall.XXXXXX") || exit 1
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$d"' EXIT INT TERM
mkdir "$d/state"
printf 'query_socket = %s/q.sock\nadmin_socket = %s/a.sock\nstate_directory = %s/state\nthreads = 1\n' \
    "$d" "$d" "$d" >"$d/k.conf"
"$top_builddir/src/daemon/kmsauthzd" -f -c "$d/k.conf" 2>"$d/err" &
pid=$!
i=0
until "$top_builddir/tests/regress/kzclient" ping "$d/q.sock" 2>/dev/null; do
	[ $i -ge 200 ] && { echo "the daemon did not start" >&2; exit 1; }
	i=$((i + 1))
	sleep 0.05
done
python3 "$top_srcdir/bench/bench-admin-stall.py" "$d/q.sock" "$d/a.sock" \
    "${BENCH_ROUNDS:-4}"
