# SPDX-License-Identifier: ISC
# lib-fleet.sh: several kmsauthzd hosts of one fleet on this machine,
# for the fleet-mode scenarios (tests/fleet/1xx-*.sh; sourced after
# tests/regress/lib.sh and tests/fleet/lib-etcd.sh, POSIX sh).  Each
# host NAME has its own directory $tmp/NAME (kmsauthzd.conf, q.sock,
# a.sock, state/, err: its stderr, pid).  Every host is killed when the
# test exits.
#
#   host_config NAME [LINE...]      the host's kmsauthzd.conf: its sockets
#                                   and state, etcd_endpoints = $ETCD_ALL,
#                                   admin_config = $tmp/admin.conf; a
#                                   "key = value" LINE adds or replaces
#   fleet_up MEMBERS NAME...        etcd_cluster MEMBERS, then every NAME
#                                   configured and started
#   start_host NAME                 start it, wait until it answers PING
#   stop_host NAME [SIG]            signal (TERM), wait; its exit status
#   host_status NAME                the admin Status answer (JSON)
#   hget NAME FIELD                 a scalar field of Status ("Generation",
#                                   "State", "AppliedRevision", ...)
#   host_serving NAME [REV]         serving (at AppliedRevision REV)
#   hosts_converged REV NAME...     every host serving at REV
#   host_export NAME                its ExportBundle (the state alone)
#   actl NAME CALL ARGS...          kmsauthzctl CALL on the host's admin
#                                   socket, the answer in $tmp/ans
#   acode                           the Code of $tmp/ans, or OK
#   agen                            the Generation of $tmp/ans
#   qcheck NAME P A R [ARGS...]     kmsauthzctl check on the host's query
#                                   socket: the decision (ALLOW, ...)
#   fleetload ARGS...               tests/fleet/fleetload.py
#   etcd_rev                        etcd's current revision
#   hosts_in_step NAME...           every host serving at etcd_rev
#   host_log NAME REGEX             lines of the host's stderr that match
#   ecount PREFIX                   how many keys etcd holds under PREFIX
#   stop_at_staging PID REV         SIGSTOP PID at the first data set
#                                   staged after revision REV (a watch
#                                   from REV + 1: no race); the set's id
#                                   and its staging value in $tmp/staged
#   ok_todo STATUS DESC REASON      a TAP TODO test (a known bug)
#   ok_racy_todo STATUS DESC REASON the same for a bug a race shows: a
#                                   pass is a plain ok (no XPASS)

FLEETLOAD=$top_srcdir/tests/fleet/fleetload.py
FLEET_ACCT=1000000000000000
fleet_hosts=
fleet_pids=
export PYTHONPATH="$top_srcdir/bindings/python${PYTHONPATH:+:$PYTHONPATH}"

fleet_admin_conf() {
	[ -f "$tmp/admin.conf" ] && return 0
	{
		echo "account = $FLEET_ACCT"
		echo "region = cn-hangzhou"
	} >"$tmp/admin.conf"
}

host_config() {
	_hn=$1
	shift
	_hd=$tmp/$_hn
	mkdir -p "$_hd/state"
	fleet_admin_conf
	{
		for _hl in "query_socket = $_hd/q.sock" \
		    "admin_socket = $_hd/a.sock" \
		    "state_directory = $_hd/state" "threads = 2" \
		    "log_verbose = 1" "admin_config = $tmp/admin.conf" \
		    "etcd_endpoints = $ETCD_ALL" "etcd_timeout = 3"; do
			_hk=${_hl%% =*}
			for _hx in "$@"; do
				case $_hx in
				"$_hk "*|"$_hk="*) _hl="# (set below) $_hk" ;;
				esac
			done
			echo "$_hl"
		done
		for _hx in "$@"; do
			echo "$_hx"
		done
	} >"$_hd/kmsauthzd.conf"
	case " $fleet_hosts " in
	*" $_hn "*) ;;
	*) fleet_hosts="$fleet_hosts $_hn" ;;
	esac
}

# fleet_up MEMBERS NAME...: an etcd cluster of MEMBERS and the hosts
# NAME... with the default configuration, each started; a failure ends
# the test.
fleet_up() {
	_fm=$1
	shift
	etcd_cluster "$_fm" || { ok 1 "etcd starts"; fleet_finish; }
	for _fh in "$@"; do
		host_config "$_fh"
		start_host "$_fh" || { ok 1 "host $_fh starts"; fleet_finish; }
	done
}

host_pid() {
	cat "$tmp/$1/pid" 2>/dev/null
}

# start_host NAME: 0 once it answers PING on its query socket (20 s).
start_host() {
	"$KMSAUTHZD" -f -c "$tmp/$1/kmsauthzd.conf" 2>>"$tmp/$1/err" &
	echo $! >"$tmp/$1/pid"
	fleet_pids="$fleet_pids $!"
	wait_until 20 _host_up "$1" $!
}
_host_up() {
	kill -0 "$2" 2>/dev/null || return 0	# dead: stop waiting
	"$KZCLIENT" ping "$tmp/$1/q.sock" 2>/dev/null
}
host_alive() {
	_ha=$(host_pid "$1")
	[ -n "$_ha" ] && kill -0 "$_ha" 2>/dev/null
}

# stop_host NAME [SIG]: signal (TERM) and wait (KILL after 20 s); the
# daemon's exit status.
stop_host() {
	_sp=$(host_pid "$1")
	[ -n "$_sp" ] || return 0
	kill -"${2:-TERM}" "$_sp" 2>/dev/null
	wait_until 20 pid_gone "$_sp" || kill -KILL "$_sp" 2>/dev/null
	wait "$_sp" 2>/dev/null
	_ss=$?
	rm -f "$tmp/$1/pid"
	return $_ss
}

stop_hosts() {
	for _h in $fleet_hosts; do
		stop_host "$_h"
	done
}

host_status() {
	"$KMSAUTHZCTL" Status --socket "$tmp/$1/a.sock" \
	    2>/dev/null
}

# hget NAME FIELD: a number, boolean or simple string field of Status.
hget() {
	host_status "$1" | sed -n "s/.*\"$2\": *\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"
}

# hjson NAME PYEXPR: a value of Status (d) by a Python expression.
hjson() {
	host_status "$1" | python3 -c "import json,sys
d=json.load(sys.stdin)
v=$2
print(json.dumps(v) if not isinstance(v, str) else v)" 2>/dev/null
}

host_serving() {
	_st=$(host_status "$1")
	case $_st in
	*'"State":"serving"'*) ;;
	*) return 1 ;;
	esac
	[ -z "${2:-}" ] && return 0
	case $_st in
	*"\"AppliedRevision\":$2,"*) return 0 ;;
	esac
	return 1
}

host_state_is() {
	case $(host_status "$1") in
	*"\"State\":\"$2\""*) return 0 ;;
	esac
	return 1
}

# hosts_converged REV NAME...: every host serving at AppliedRevision REV.
hosts_converged() {
	_hr=$1
	shift
	for _h in "$@"; do
		host_serving "$_h" "$_hr" || return 1
	done
	return 0
}

# hosts_in_step NAME...: every host serving at etcd's current revision
# (each scenario's last write touches the live data set).
hosts_in_step() {
	_hr=$(etcd_rev)
	[ -n "$_hr" ] && hosts_converged "$_hr" "$@"
}

actl() {
	_an=$1
	shift
	"$KMSAUTHZCTL" "$@" --socket "$tmp/$_an/a.sock" >"$tmp/ans" 2>&1
}

acode() {
	_ac=$(sed -n 's/.*"Code":"\([^"]*\)".*/\1/p' "$tmp/ans")
	echo "${_ac:-OK}"
}

agen() {
	sed -n 's/.*"Generation":\([0-9]*\).*/\1/p' "$tmp/ans"
}

# qcheck NAME PRINCIPAL ACTION RESOURCE [ARGS...]: the decision.
qcheck() {
	_qn=$1
	_qp=$2
	_qa=$3
	_qr=$4
	shift 4
	"$KMSAUTHZCTL" check --socket "$tmp/$_qn/q.sock" --principal "$_qp" \
	    --action "$_qa" --resource "$_qr" "$@" 2>"$tmp/qcheck.err" |
	    sed -n 's/.*"Decision":"\([A-Z_]*\)".*/\1/p'
}

fleetload() {
	FLEET_ETCD=${FLEET_ETCD:-$ETCD_ALL} FLEET_TMP=$tmp \
	    python3 "$FLEETLOAD" "$@"
}

etcd_rev() {
	etcd_ctl get /kmsauthz/current -w json 2>/dev/null |
	    sed -n 's/.*"revision":\([0-9]*\).*/\1/p'
}

ecount() {
	_ec=$(etcd_ctl get --prefix "$1" --keys-only --limit 1 -w json \
	    2>/dev/null | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
	echo "${_ec:-0}"
}

stop_at_staging() {
	rm -f "$tmp/staged" "$tmp/watch.fifo"
	mkfifo "$tmp/watch.fifo"
	ETCDCTL_API=3 "$ETCDCTL" --endpoints "$ETCD_ALL" watch --prefix \
	    /kmsauthz/staging/ --rev $(($2 + 1)) >"$tmp/watch.fifo" 2>/dev/null &
	_sw=$!
	fleet_pids="$fleet_pids $_sw"
	{
		read -r _ev && read -r _sk && read -r _sv &&
		    kill -STOP "$1" && echo "${_sk#/kmsauthz/staging/} $_sv" \
		    >"$tmp/staged.new" && mv "$tmp/staged.new" "$tmp/staged"
		cat >/dev/null
	} <"$tmp/watch.fifo" &
	_sr=$!
	wait_until 60 test -s "$tmp/staged"
	_ss=$?
	kill "$_sw" 2>/dev/null
	wait "$_sw" "$_sr" 2>/dev/null
	return $_ss
}

host_log() {
	grep -E "$2" "$tmp/$1/err" 2>/dev/null
}

# host_export NAME: the host's ExportBundle, without its RequestId and
# Generation (the state alone).
host_export() {
	"$KMSAUTHZCTL" ExportBundle --socket "$tmp/$1/a.sock" 2>&1 |
	    sed -e 's/"RequestId":"[^"]*",//' -e 's/"Generation":[0-9]*,//'
}

# Sanitizer reports in any host's stderr.
fleet_sanitizer_clean() {
	_fc=0
	for _h in $fleet_hosts; do
		if grep -E 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' \
		    "$tmp/$_h/err" >/dev/null 2>&1; then
			diag "host $_h:"
			grep -E -A30 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' \
			    "$tmp/$_h/err" | sed 's/^/# /'
			_fc=1
		fi
	done
	return $_fc
}

# Ends a scenario: hosts stopped, members stopped, sanitizer check last;
# a failed test shows each host's last lines.
fleet_finish() {
	stop_hosts
	etcd_stop_all
	fleet_sanitizer_clean
	ok $? "no sanitizer report in any host's stderr"
	if [ $tap_failed -ne 0 ]; then
		for _h in $fleet_hosts; do
			diag "host $_h stderr (last 25 lines):"
			tail -25 "$tmp/$_h/err" 2>/dev/null | sed 's/^/#   /'
		done
		if [ -n "${FLEET_KEEP:-}" ]; then
			diag "kept: $tmp"
			trap - EXIT
			exit 1
		fi
	fi
	cleanup
	exit $tap_failed
}

fleet_cleanup() {
	for _p in $fleet_pids; do
		kill -KILL "$_p" 2>/dev/null
	done
	etcd_cleanup
}
trap 'fleet_cleanup' EXIT

# ok_todo STATUS DESCRIPTION REASON: a test of a known daemon bug (TAP
# TODO: a failure is expected and does not fail the script; a pass is
# reported, XPASS, so that the TODO is removed once it is fixed).
ok_todo() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2 # TODO $3"
	else
		echo "not ok $tap_n - $2 # TODO $3"
	fi
}

ok_racy_todo() {
	if [ "$1" -eq 0 ]; then
		ok 0 "$2"
	else
		ok_todo 1 "$2" "$3"
	fi
}
