# SPDX-License-Identifier: ISC
# lib.sh: helpers for the end-to-end scenarios (sourced, POSIX sh).
#
# Each scenario runs the real kmsauthzd on a fresh temporary directory
# with its own sockets, speaks TAP, and fails when the daemon's stderr
# shows a sanitizer report (Redis's check_sanitizer_errors habit).

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
KMSAUTHZD=$top_builddir/src/daemon/kmsauthzd
KZCLIENT=$top_builddir/tests/regress/kzclient
SDHARNESS=$top_builddir/tests/regress/sdharness
KMSAUTHZCTL=$top_builddir/src/ctl/kmsauthzctl

tap_n=0
tap_failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kzt.XXXXXX") || exit 99
daemon_pid=
daemon_status=

plan() {
	echo "1..$1"
}

# ok CONDITION-EXIT-STATUS DESCRIPTION: "ok $? desc" after a command.
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=1
	fi
}

skip_all() {
	echo "1..0 # SKIP $1"
	cleanup
	exit 0
}

diag() {
	echo "# $*"
}

# The configuration every scenario starts from (5 lines); extra
# "key = value" lines come as arguments, after them.  A default whose key
# an argument sets is left out (then commented, to keep line numbers).
write_config() {
	{
		for d in "query_socket = $tmp/q.sock" \
		    "admin_socket = $tmp/a.sock" \
		    "state_directory = $tmp/state" "threads = 2" \
		    "log_verbose = 1"; do
			k=${d%% =*}
			for l in "$@"; do
				case $l in
				"$k "*|"$k="*) d="# (set below) $k" ;;
				esac
			done
			echo "$d"
		done
		for l in "$@"; do
			echo "$l"
		done
	} >"$tmp/kmsauthzd.conf"
	mkdir -p "$tmp/state"
}

# wait_until SECS CMD...: run CMD every 50 ms until it succeeds, for at
# most SECS seconds (a deadline, never a bare sleep: a loaded machine
# must not turn a sleep into a failure); 0 once it held, 1 at the
# deadline.
wait_until() {
	_wu_n=$(($1 * 20))
	shift
	until "$@"; do [ $_wu_n -le 0 ] && return 1; _wu_n=$((_wu_n - 1)); sleep 0.05; done
	return 0
}

# pid_gone PID: true once the process PID has exited.
pid_gone() {
	! kill -0 "$1" 2>/dev/null
}

# signed_past_floor KEYFILE CMD...: CMD run with KMSAUTHZ_ADMIN_KEY=KEYFILE,
# its answer in $tmp/ans, tried again for up to 10 s while the daemon
# refuses it as signed before its start (the floor is start + 2 s).
signed_past_floor() {
	_spf_key=$1
	shift
	wait_until 10 _spf_try "$_spf_key" "$@"
}
_spf_try() {
	_spf_k=$1
	shift
	KMSAUTHZ_ADMIN_KEY="$_spf_k" "$@" >"$tmp/ans" 2>&1
	! grep -q 'signed before the daemon started' "$tmp/ans"
}

# qstat NAME: a field of the query socket's STATUS (connections=...).
qstat() {
	"$KZCLIENT" status "$tmp/q.sock" 2>/dev/null | sed -n "s/^$1=//p"
}

# astat NAME: a counter of the admin Status answer.
astat() {
	"$KZCLIENT" admin "$tmp/a.sock" '{"Action":"Status"}' 2>/dev/null |
	    tr ',' '\n' | sed -n "s/.*\"$1\": *\\([0-9]*\\).*/\\1/p"
}

# ge A B: A >= B, both numbers (an empty A is 0).
ge() {
	[ "${1:-0}" -ge "$2" ]
}
le() {
	[ "${1:-999999}" -le "$2" ]
}

# log_count REGEX: lines of the daemon's stderr that match.
log_count() {
	grep -c -E "$1" "$tmp/daemon.err" 2>/dev/null || true
}

# Poll until the daemon answers PING: KMSAUTHZ_START_TIMEOUT seconds
# (30) at most, or until the daemon exits; a loaded machine (sanitizers,
# the stress run) may take far longer than usual to start one.
wait_for_socket() {
	_wfs_end=$(($(date +%s) + ${KMSAUTHZ_START_TIMEOUT:-30}))
	while [ "$(date +%s)" -le "$_wfs_end" ]; do
		if "$KZCLIENT" ping "$1" 2>/dev/null; then
			return 0
		fi
		if [ -n "$daemon_pid" ] && ! kill -0 "$daemon_pid" 2>/dev/null
		then
			return 1
		fi
		sleep 0.05
	done
	return 1
}

# start_daemon [ARGS...]: foreground daemon on $tmp/kmsauthzd.conf.
start_daemon() {
	"$KMSAUTHZD" -f -c "$tmp/kmsauthzd.conf" "$@" \
	    2>>"$tmp/daemon.err" &
	daemon_pid=$!
	wait_for_socket "$tmp/q.sock"
}

# stop_daemon [SIGNAL]: signal, wait, keep the exit status.
stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	kill -"${1:-TERM}" "$daemon_pid" 2>/dev/null
	wait "$daemon_pid"
	daemon_status=$?
	daemon_pid=
	return $daemon_status
}

check_sanitizer() {
	if grep -E 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' \
	    "$tmp/daemon.err" >/dev/null 2>&1; then
		grep -E -A30 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' \
		    "$tmp/daemon.err" | sed 's/^/# /'
		return 1
	fi
	return 0
}

cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill -KILL "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}

# Ends a scenario: the sanitizer check is its last test.
finish() {
	stop_daemon >/dev/null 2>&1
	check_sanitizer
	ok $? "no sanitizer report in the daemon's stderr"
	if [ $tap_failed -ne 0 ] && [ -f "$tmp/daemon.err" ]; then
		diag "daemon stderr (last 30 lines):"
		tail -30 "$tmp/daemon.err" | sed 's/^/#   /'
	fi
	cleanup
	exit $tap_failed
}

trap 'cleanup; exit 1' INT TERM
