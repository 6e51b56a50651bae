#!/bin/sh
# SPDX-License-Identifier: ISC
# kmsauthzctl check/ping/status against bench/echo-server (a stand-in
# daemon answering every CHECK with one fixed answer).
: "${top_builddir:=.}"
ctl="$top_builddir/src/ctl/kmsauthzctl"
srv="$top_builddir/bench/echo-server"
T=$(mktemp -d "${TMPDIR:-/tmp}/test-ctl-online.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
start() {	# start SOCKET DECISION
	"$srv" -s "$1" -d "$2" -g 5 &
	pids="$pids $!"
	i=0
	while [ ! -S "$1" ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
n=0
t() {	# t WANT_EXIT WANT_STDOUT DESCRIPTION -- command...
	want=$1 out=$2 desc=$3
	shift 4
	n=$((n + 1))
	got=$("$@" 2>"$T/err")
	rc=$?
	if [ "$rc" -eq "$want" ] && { [ "$out" = "*" ] || [ "$got" = "$out" ]; }; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (exit $rc, stdout '$got', stderr '$(cat "$T/err")')"
	fi
}
R="--principal acs:ram::123:user/a --action kms:Encrypt --resource acs:kms:cn-hangzhou:123:key/k"
echo "1..17"
start "$T/allow.sock" allow
start "$T/deny.sock" explicit
start "$T/none.sock" implicit
start "$T/inval.sock" invalid
# shellcheck disable=SC2086
{
t 0 pong "ping" -- "$ctl" ping --socket "$T/allow.sock"
t 0 '*' "status" -- "$ctl" status --socket "$T/allow.sock"
t 0 '{"Decision":"ALLOW","Reason":"allowed-by-identity-policy"}' \
    "check allowed exits 0" -- "$ctl" check $R --socket "$T/allow.sock"
t 0 '{"Decision":"ALLOW","Reason":"allowed-by-identity-policy","MatchedStatements":[]}' \
    "check --explain lists MatchedStatements" -- \
    "$ctl" check $R --explain --socket "$T/allow.sock"
t 0 '*' "check with source IP, context and time" -- "$ctl" check $R \
    --source-ip ::ffff:10.0.0.1 --context acs:SecureTransport=true \
    --context k=v=w --time 2026-01-01T00:00:00Z --socket "$T/allow.sock"
t 1 '{"Decision":"EXPLICIT_DENY","Reason":"explicit-deny"}' \
    "check explicitly denied exits 1" -- "$ctl" check $R --socket "$T/deny.sock"
t 1 '{"Decision":"IMPLICIT_DENY","Reason":"no-matching-allow"}' \
    "check implicitly denied exits 1" -- "$ctl" check $R --socket "$T/none.sock"
t 2 '{"Decision":"IMPLICIT_DENY","Reason":"invalid-request"}' \
    "check answered invalid-request: printed, exits 2 (as simulate)" -- \
    "$ctl" check $R --socket "$T/inval.sock"
t 0 pong "KMSAUTHZ_SOCKET names the default socket" -- \
    env KMSAUTHZ_SOCKET="$T/allow.sock" "$ctl" ping
t 2 '' "no daemon: exit 2, nothing printed" -- \
    "$ctl" check $R --socket "$T/nothing.sock"
t 2 '' "ping without a daemon exits 2" -- "$ctl" ping --socket "$T/nothing.sock"
t 2 '' "an invalid --source-ip is a usage error" -- \
    "$ctl" check $R --source-ip 1.2.3 --socket "$T/allow.sock"
t 2 '' "an invalid --time is a usage error" -- \
    "$ctl" check $R --time yesterday --socket "$T/allow.sock"
t 2 '' "a missing --resource is a usage error" -- "$ctl" check \
    --principal p --action a --socket "$T/allow.sock"
t 2 '' "--context without = is a usage error" -- \
    "$ctl" check $R --context novalue --socket "$T/allow.sock"
t 2 '' "a duplicate --context is a usage error" -- \
    "$ctl" check $R --context a=1 --context a=2 --socket "$T/allow.sock"
t 2 '' "a principal over the limit is refused" -- "$ctl" check \
    --principal "$(printf '%01100d' 0)" --action a --resource r \
    --socket "$T/allow.sock"
}
