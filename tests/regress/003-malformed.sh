#!/bin/sh
# SPDX-License-Identifier: ISC
# Every malformed frame is refused (ERROR then close, or close) while a
# second client, connected throughout, keeps being served.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

write_config
if ! start_daemon; then
	plan 1
	ok 1 "daemon starts"
	finish
fi
# kzclient prints the plan (with our 2 extra tests) and its results.
KZ_PLAN_EXTRA=2 "$KZCLIENT" malformed "$tmp/q.sock" "$tmp/a.sock" \
    >"$tmp/tap"
[ $? -eq 0 ] || tap_failed=1
cat "$tmp/tap"
tap_n=$(grep -c '^\(not \)\{0,1\}ok ' "$tmp/tap")
"$KZCLIENT" ping "$tmp/q.sock"
ok $? "the daemon still answers a new client afterwards"
finish
