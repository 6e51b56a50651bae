#!/bin/sh
# SPDX-License-Identifier: ISC
# soak.sh (make soak; not part of make check): the real daemon under a
# mixed load for SOAK_SECONDS (600): SOAK_CONNECTIONS (4) query
# connections checking every answer against the decision expected before
# and after each change, and one admin connection making a steady stream
# of changes (SetKeyPolicy, CreateUser, DeleteUser).  Prints VmRSS
# samples and the error and wrong-answer counts; fails on any error, any
# wrong answer, a sanitizer report, or resident memory growing more than
# SOAK_RSS_GROWTH_KB (32768) after warm-up.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
SECS=${SOAK_SECONDS:-600}
CONNS=${SOAK_CONNECTIONS:-4}
plan 3
# A small quarantine, so that ASan's own caching does not read as growth.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
write_config "threads = 2"
start_daemon
ok $? "daemon started ($KMSAUTHZD)"
diag "soak: $SECS s, $CONNS query connections, one admin connection"
python3 "$top_srcdir/tests/regress/kzload.py" soak "$tmp/q.sock" \
    "$tmp/a.sock" "$daemon_pid" "$SECS" "$CONNS"
ok $? "no error, no wrong answer, resident memory flat after warm-up"
"$KZCLIENT" status "$tmp/q.sock" | sed 's/^/# /'
finish
