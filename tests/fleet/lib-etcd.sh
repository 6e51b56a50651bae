# SPDX-License-Identifier: ISC
# lib-etcd.sh: real etcd members for the tests of tests/fleet/ (sourced
# after tests/regress/lib.sh, POSIX sh).  Debian's etcd 3.4: one member
# or a cluster of three on free loopback ports, each in $tmp/NAME, with
# optional TLS on the client side; waits with deadlines (wait_until),
# never a bare sleep.  Every member is killed when the test exits.
#
#   etcd_certs                      a CA, a server and a client certificate
#                                   in $tmp/pki, and a client of another CA
#   etcd_cluster N [tls]            start N members (names m1..mN), wait
#                                   until each is healthy; $ETCD_ALL is
#                                   their client URLs, comma-separated;
#                                   $ETCD_EXTRA_ARGS go to each member
#   etcd_url NAME                   a member's client URL
#   etcd_start NAME / etcd_kill NAME / etcd_stop NAME
#   etcd_healthy NAME               /health says true
#   etcd_leader                     the name of the leader
#   etcd_ctl ARGS...                etcdctl on every endpoint (TLS, auth)

ETCD=${ETCD:-/usr/bin/etcd}
ETCDCTL=${ETCDCTL:-/usr/bin/etcdctl}
ETCDPROBE=$top_builddir/tests/fleet/etcd-probe
etcd_names=
etcd_pids=
etcd_tls=
ETCD_ALL=
etcd_ctl_user=

etcd_available() {
	[ -x "$ETCD" ] && [ -x "$ETCDCTL" ] && command -v curl >/dev/null &&
	    command -v python3 >/dev/null
}

# A free loopback TCP port (the kernel's choice; etcd takes no port 0).
etcd_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

etcd_certs() {
	_p=$tmp/pki
	mkdir -p "$_p"
	(
	cd "$_p" || exit 1
	for ca in ca other; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout $ca.key -out $ca.crt -days 2 \
		    -subj "/CN=kmsauthz test $ca" 2>/dev/null || exit 1
	done
	# name ca ext: a key and a certificate signed by ca.
	_sign() {
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		    -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" \
		    2>/dev/null || exit 1
		printf '%s\n' "$3" >"$1.ext"
		openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" \
		    -CAcreateserial -out "$1.crt" -days 2 -extfile "$1.ext" \
		    2>/dev/null || exit 1
	}
	_sign server ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
	_sign client ca "extendedKeyUsage=clientAuth"
	_sign intruder other "extendedKeyUsage=clientAuth"
	# A server certificate for another address: a name mismatch.
	_sign wrongip ca "subjectAltName=IP:127.0.0.2
extendedKeyUsage=serverAuth"
	chmod 600 ./*.key
	)
}

etcd_url() {
	cat "$tmp/$1/url"
}

# etcd_start NAME: (re)start a member made by etcd_cluster.
etcd_start() {
	# shellcheck disable=SC2046
	"$ETCD" $(cat "$tmp/$1/args") >>"$tmp/$1/log" 2>&1 &
	echo $! >"$tmp/$1/pid"
	etcd_pids="$etcd_pids $!"
}

etcd_healthy() {
	if [ -n "$etcd_tls" ]; then
		curl -s -m 2 --cacert "$tmp/pki/ca.crt" \
		    --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key" \
		    "$(etcd_url "$1")/health" 2>/dev/null
	else
		curl -s -m 2 "$(etcd_url "$1")/health" 2>/dev/null
	fi | grep -q '"health":"true"'
}

# etcd_cluster N [tls]
etcd_cluster() {
	etcd_tls=${2:-}
	_scheme=http
	[ -n "$etcd_tls" ] && _scheme=https
	_init=
	ETCD_ALL=
	_i=1
	while [ "$_i" -le "$1" ]; do
		_n=m$_i
		mkdir -p "$tmp/$_n"
		_cp=$(etcd_free_port)
		_pp=$(etcd_free_port)
		echo "$_scheme://127.0.0.1:$_cp" >"$tmp/$_n/url"
		echo "http://127.0.0.1:$_pp" >"$tmp/$_n/peer"
		_init=$_init${_init:+,}$_n=http://127.0.0.1:$_pp
		ETCD_ALL=$ETCD_ALL${ETCD_ALL:+,}$_scheme://127.0.0.1:$_cp
		etcd_names="$etcd_names $_n"
		_i=$((_i + 1))
	done
	_token=kmsauthz-$$-$(date +%s%N)
	for _n in $etcd_names; do
		{
			echo "--name $_n --data-dir $tmp/$_n/data"
			echo "--listen-client-urls $(etcd_url $_n)"
			echo "--advertise-client-urls $(etcd_url $_n)"
			echo "--listen-peer-urls $(cat "$tmp/$_n/peer")"
			echo "--initial-advertise-peer-urls $(cat "$tmp/$_n/peer")"
			echo "--initial-cluster $_init"
			echo "--initial-cluster-state new"
			echo "--initial-cluster-token $_token"
			echo "--heartbeat-interval 50 --election-timeout 500"
			echo "--log-level warn --logger zap"
			echo "${ETCD_EXTRA_ARGS:-}"
			if [ -n "$etcd_tls" ]; then
				echo "--cert-file $tmp/pki/server.crt"
				echo "--key-file $tmp/pki/server.key"
				echo "--client-cert-auth"
				echo "--trusted-ca-file $tmp/pki/ca.crt"
			fi
		} >"$tmp/$_n/args"
		etcd_start "$_n"
	done
	for _n in $etcd_names; do
		if ! wait_until 60 etcd_healthy "$_n"; then
			diag "etcd member $_n not healthy after 60 s:"
			tail -20 "$tmp/$_n/log" | sed 's/^/#   /'
			return 1
		fi
	done
}

etcd_kill() {
	[ -f "$tmp/$1/pid" ] || return 0
	kill -KILL "$(cat "$tmp/$1/pid")" 2>/dev/null
	wait "$(cat "$tmp/$1/pid")" 2>/dev/null
	rm -f "$tmp/$1/pid"
}

# etcd_stop NAME: TERM, then KILL after 10 s.
etcd_stop() {
	[ -f "$tmp/$1/pid" ] || return 0
	_sp=$(cat "$tmp/$1/pid")
	kill -TERM "$_sp" 2>/dev/null
	wait_until 10 pid_gone "$_sp" || kill -KILL "$_sp" 2>/dev/null
	wait "$_sp" 2>/dev/null
	rm -f "$tmp/$1/pid"
}

etcd_stop_all() {
	for _n in $etcd_names; do
		etcd_stop "$_n"
	done
}

etcd_ctl() {
	if [ -n "$etcd_tls" ]; then
		set -- --cacert "$tmp/pki/ca.crt" --cert "$tmp/pki/client.crt" \
		    --key "$tmp/pki/client.key" "$@"
	fi
	[ -n "$etcd_ctl_user" ] && set -- --user "$etcd_ctl_user" "$@"
	ETCDCTL_API=3 "$ETCDCTL" --endpoints "$ETCD_ALL" --dial-timeout 3s \
	    --command-timeout 10s "$@"
}

# The name of the member every member names as the leader.
etcd_leader() {
	for _n in $etcd_names; do
		[ -f "$tmp/$_n/pid" ] || continue
		_st=$(curl -s -m 2 "$(etcd_url "$_n")/v3/maintenance/status" \
		    -d '{}' 2>/dev/null)
		_me=$(echo "$_st" | sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p')
		_ld=$(echo "$_st" | sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p')
		if [ -n "$_me" ] && [ "$_me" = "$_ld" ]; then
			echo "$_n"
			return 0
		fi
	done
	return 1
}

# probe ARGS...: etcd-probe on every endpoint, its output in $tmp/out.
probe() {
	ETCD_ENDPOINTS=${ETCD_ENDPOINTS:-$ETCD_ALL} "$ETCDPROBE" "$@" \
	    >"$tmp/out" 2>&1
}

# Fails the test when the probe's output shows a sanitizer report.
probe_clean() {
	! grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"
}

# Ends a test: every member stopped, then lib.sh's finish.
etcd_finish() {
	etcd_stop_all
	finish
}

# Whatever happened, no member outlives the test (the pid files may
# be gone with $tmp: the pids are kept here too).
etcd_cleanup() {
	for _p in $etcd_pids; do
		kill -KILL "$_p" 2>/dev/null
	done
	cleanup
}
trap 'etcd_cleanup' EXIT
trap 'exit 1' INT TERM
