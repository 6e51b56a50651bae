#!/bin/sh
# SPDX-License-Identifier: ISC
# 1,000 concurrent connections, all answered, all counted, then gone;
# and the connection caps refuse the one too many with a BUSY error.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"
plan 6

# 1,000 client fds in kzclient and 1,000 in the daemon (both children
# of this shell): raise the soft limit as far as the hard one allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 1100 ]; then
	skip_all "open-file limit $(ulimit -n) is below 1100"
fi

write_config "max_connections = 1100" "max_connections_per_uid = 1100" \
    "threads = 4"
start_daemon
ok $? "daemon starts with max_connections 1100"

KZ_HOLD=2 "$KZCLIENT" many "$tmp/q.sock" 1000 >"$tmp/many.out" &
many=$!
cge() { ge "$(qstat connections)" "$1"; }
cle() { le "$(qstat connections)" "$1"; }
wait_until 30 cge 1000
conns=$(qstat connections)
wait $many
ok $? "1000 concurrent connections each answered ($(cat "$tmp/many.out"))"
[ "${conns:-0}" -ge 1000 ]
ok $? "STATUS counted them while open ($conns)"

wait_until 30 cle 2
conns=$(qstat connections)
[ "${conns:-99}" -le 2 ]
ok $? "all released after they close ($conns)"

stop_daemon
# Caps: 3 per uid; the fourth connection is told BUSY (5) and closed.
write_config "max_connections = 10" "max_connections_per_uid = 3"
start_daemon
# Held long enough for a loaded machine; stopped once the check is done.
# The daemon logs each query connection it set up (log_verbose 1): a
# probe would be one more connection of the same uid.
q0=$(log_count 'query connection from')
KZ_HOLD=30 "$KZCLIENT" many "$tmp/q.sock" 3 >/dev/null &
many=$!
qin() { ge "$(log_count 'query connection from')" $((q0 + 3)); }
wait_until 30 qin
out=$("$KZCLIENT" send "$tmp/q.sock" "4b5a01000002000000000001 00000000")
kill $many 2>/dev/null
wait $many 2>/dev/null
case $out in
"ERROR 5 closed") ok 0 "max_connections_per_uid refuses with BUSY" ;;
*) diag "$out"; ok 1 "max_connections_per_uid refuses with BUSY" ;;
esac
finish
