#!/bin/sh
# SPDX-License-Identifier: ISC
# pam_kmsauthz.so end to end: pamtester runs PAM services from a private
# directory under pam_wrapper (no /etc/pam.d) against the real kmsauthzd
# seeded with tests/pam/bundle.json: allow, implicit and explicit deny,
# cross-account, the principal map, {rhost} as the source IP of an
# IpAddress condition, context templates, the daemon down and a daemon
# that never answers under on_error=deny and ignore, and every bad
# argument (a service error, never a grant).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

MOD=$top_builddir/src/pam/.libs/pam_kmsauthz.so
ACCT=1192853035118888
PRINC="principal=acs:ram::$ACCT:user/{user}"
ACT="action=ecs:Login"
RES="resource=acs:ecs:cn-hangzhou:$ACCT:instance/{hostname}"

[ -f "$MOD" ] || skip_all "pam_kmsauthz.so not built (configure --without-pam or no libpam headers)"
command -v pamtester >/dev/null 2>&1 || skip_all "pamtester not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
if LD_PRELOAD=libpam_wrapper.so true 2>&1 | grep -q 'cannot be preloaded'
then
	skip_all "libpam_wrapper.so not installed (libpam-wrapper)"
fi
PERMIT=
for d in /lib/*/security /usr/lib/*/security /lib/security \
    /usr/lib/security /lib64/security; do
	[ -f "$d/pam_permit.so" ] && [ -f "$d/pam_deny.so" ] &&
	    PERMIT=$d/pam_permit.so DENY=$d/pam_deny.so && break
done
[ -n "$PERMIT" ] || skip_all "pam_permit.so and pam_deny.so not found"

# A sanitizer build: the module needs the ASan runtime loaded first in
# pamtester (an uninstrumented program), and pam_wrapper without
# RTLD_DEEPBIND (pam_wrapper(1)), which the sanitizers refuse.
PRELOAD=libpam_wrapper.so
if nm -D --undefined-only "$MOD" 2>/dev/null | grep -q '__asan_'; then
	cc=$(sed -n 's/^CC = //p' "$top_builddir/Makefile" | awk '{print $1}')
	rt=
	for n in "libclang_rt.asan-$(uname -m).so" libasan.so; do
		f=$($cc -print-file-name="$n" 2>/dev/null)
		case $f in /*) [ -f "$f" ] && rt=$f && break ;; esac
	done
	[ -n "$rt" ] || skip_all "sanitizer build: no shared ASan runtime to preload into pamtester"
	PRELOAD="$rt libpam_wrapper.so"
	# pam_wrapper 1.1.4 (Debian 12) reads the switch under uid_wrapper's
	# name; later versions under its own.
	export PAM_WRAPPER_DISABLE_DEEPBIND=1 UID_WRAPPER_DISABLE_DEEPBIND=1
	# pamtester and libpam are not ours: their leaks are not either.
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
fi

plan 58

mkdir -p "$tmp/svc"
# svc NAME ARG...: the service file NAME, one account line for the module
# (required), plus "permit" or "deny" lines given as arguments "+permit",
# "+deny" after it.
svc() {
	name=$1
	shift
	line="account required $MOD"
	tail=
	for a in "$@"; do
		case $a in
		+permit) tail="${tail}account required $PERMIT
" ;;
		+deny) tail="${tail}account required $DENY
" ;;
		*) line="$line $a" ;;
		esac
	done
	printf '%s\n%s' "$line" "$tail" >"$tmp/svc/$name"
}

# pt SERVICE USER [-I item=value]...: pamtester acct_mgmt under
# pam_wrapper; $res is "OK" or pamtester's error text, $tmp/pt.log
# holds everything it printed (pam_syslog lines included).
pt() {
	s=$1 u=$2
	shift 2
	LD_LIBRARY_PATH=$top_builddir/src/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
	LD_PRELOAD=$PRELOAD PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$tmp/svc \
	    PAM_WRAPPER_DEBUGLEVEL=2 pamtester "$@" "$s" "$u" acct_mgmt \
	    >"$tmp/pt.log" 2>&1
	rc=$?
	cat "$tmp/pt.log" >>"$tmp/pt.all"
	if [ $rc -eq 0 ]; then
		res=OK
	else
		res=$(sed -n 's/^pamtester: //p' "$tmp/pt.log" | tail -n 1)
		[ -n "$res" ] || res="exit $rc"
	fi
}
logged() {
	grep -F -- "$1" "$tmp/pt.log" >/dev/null
}
# is WANT DESCRIPTION [LOG-TEXT]: $res is WANT (and the log has LOG-TEXT).
is() {
	if [ "$res" = "$1" ] && { [ -z "$3" ] || logged "$3"; }; then
		ok 0 "$2"
	else
		ok 1 "$2"
		diag "result: $res (wanted $1${3:+, log: $3})"
		sed 's/^/#   /' "$tmp/pt.log"
	fi
}
DENIED="Permission denied"
SVCERR="Error in service module"
UNKNOWN="User not known to the underlying authentication module"

write_config "seed_bundle = $top_srcdir/tests/pam/bundle.json" \
    "idle_timeout = 0"
start_daemon
ok $? "daemon seeded with tests/pam/bundle.json"
Q="socket=$tmp/q.sock"

svc login "$Q" "$PRINC" "$ACT" "$RES"
pt login alice
is OK "alice (identity policy allows ecs:Login on instance/*): PAM_SUCCESS"
pt login bob
is "$DENIED" "bob (no policy): PAM_PERM_DENIED" \
    "denied: principal=acs:ram::$ACCT:user/bob action=ecs:Login resource=acs:ecs:cn-hangzhou:$ACCT:instance/$(hostname) decision=IMPLICIT_DENY reason=no-matching-allow"
pt login eve
is "$DENIED" "eve (an explicit Deny beside the Allow): PAM_PERM_DENIED" \
    "decision=EXPLICIT_DENY reason=explicit-deny"
pt login nobody-here
is "$DENIED" "a user RAM does not know: PAM_PERM_DENIED" \
    "decision=IMPLICIT_DENY reason=no-matching-allow"
pt login 'a:b'
is "$UNKNOWN" "a user name with ':' (would reshape the ARN): PAM_USER_UNKNOWN" \
    "has characters an ARN cannot take"
pt login 'x*'
is "$UNKNOWN" "a user name with '*': PAM_USER_UNKNOWN"

# principal_map: the map wins, a missing user falls back to the template
# or, without one, is unknown.
printf '%s\n' "# local user   RAM principal" \
    "root-alice     acs:ram::$ACCT:user/alice" \
    "	bella  acs:ram::1903253031268888:user/bella   " \
    "" \
    "partner-bob    acs:ram::1903253031268888:user/bob" >"$tmp/map"
chmod 644 "$tmp/map"
svc mapped "$Q" "principal_map=$tmp/map" "$ACT" "$RES"
svc mapped-tmpl "$Q" "principal_map=$tmp/map" "$PRINC" "$ACT" "$RES"
pt mapped root-alice
is OK "map: root-alice acts as user/alice: PAM_SUCCESS"
pt mapped bella
is "$DENIED" "cross-account: bella of another account, allowed by her own policy, on this account's instance: PAM_PERM_DENIED" \
    "principal=acs:ram::1903253031268888:user/bella action=ecs:Login resource=acs:ecs:cn-hangzhou:$ACCT:instance/$(hostname) decision=IMPLICIT_DENY reason=cross-account-needs-key-policy-allow"
pt mapped alice
is "$UNKNOWN" "map without template: a user missing from the map is PAM_USER_UNKNOWN" \
    "is not in $tmp/map"
pt mapped-tmpl alice
is OK "map with template: a user missing from the map falls back to the template"
pt mapped-tmpl bella
is "$DENIED" "map with template: the map wins over the template" \
    "principal=acs:ram::1903253031268888:user/bella"

# {rhost} as the source IP against an IpAddress condition.
pt login carol -I rhost=10.1.2.3
is OK "carol from 10.1.2.3 (IpAddress 10.0.0.0/8): PAM_SUCCESS"
pt login carol -I rhost=192.0.2.1
is "$DENIED" "carol from 192.0.2.1: PAM_PERM_DENIED" "reason=no-matching-allow"
pt login carol -I rhost=2001:db8::5
is OK "carol from 2001:db8::5 (IpAddress 2001:db8::/32): PAM_SUCCESS"
pt login carol -I rhost=::ffff:10.9.8.7
is OK "carol from ::ffff:10.9.8.7 (IPv4-mapped): PAM_SUCCESS"
pt login carol -I rhost=10.example.com
is "$DENIED" "carol from a host name (no source IP): PAM_PERM_DENIED"
pt login carol
is "$DENIED" "carol without PAM_RHOST: PAM_PERM_DENIED"
svc rhost-res "$Q" "$PRINC" "$ACT" \
    "resource=acs:ecs:cn-hangzhou:$ACCT:instance/{rhost}" debug
pt rhost-res alice -I rhost=10.1.2.3
is OK "{rhost} in a template, debug logs the request and the ALLOW" \
    "allowed: principal=acs:ram::$ACCT:user/alice action=ecs:Login resource=acs:ecs:cn-hangzhou:$ACCT:instance/10.1.2.3 decision=ALLOW reason=allowed-by-identity-policy"

# Context templates ({service}, {tty}) against a StringEquals condition.
svc pamk-ctx "$Q" "$PRINC" "$ACT" "$RES" 'context=pam:Service={service}' \
    'context=pam:Tty={tty}'
pt pamk-ctx dan -I tty=/dev/pts/7
is OK "context pam:Service={service} and pam:Tty={tty} satisfy the condition"
pt pamk-ctx dan -I tty=/dev/pts/8
is "$DENIED" "another tty: the condition fails: PAM_PERM_DENIED"

# An expansion over the protocol's limits is denied, not cut (a long
# PAM_RHOST: libpam itself cuts service file lines at 1,024 bytes).
long=$(printf '%0600d' 0)
svc long "$Q" "$PRINC" "$ACT" \
    "resource=acs:ecs:cn-hangzhou:$ACCT:instance/{rhost}{rhost}"
pt long alice -I "rhost=$long"
is "$DENIED" "a resource expanding past 1,024 bytes: PAM_PERM_DENIED" \
    "over 1024 bytes: denied"
svc longctx "$Q" "$PRINC" "$ACT" "$RES" 'context=k={rhost}'
pt longctx alice -I "rhost=$long"
is "$DENIED" "a context value expanding past 512 bytes: PAM_PERM_DENIED" \
    "context k over 512 bytes: denied"

# A daemon that never answers: the deadline, then on_error.
python3 "$top_srcdir/tests/pam/silent-server.py" "$tmp/silent.sock" \
    "$tmp/silent.ready" &
silent_pid=$!
wait_until 10 test -f "$tmp/silent.ready"
ok $? "a server that accepts and never answers is listening"
svc silent "socket=$tmp/silent.sock" "$PRINC" "$ACT" "$RES" timeout_ms=300 \
    +permit
svc silent-ignore "socket=$tmp/silent.sock" "$PRINC" "$ACT" "$RES" \
    timeout_ms=300 on_error=ignore +permit
t0=$(date +%s%N)
pt silent alice
t1=$(date +%s%N)
is "$DENIED" "no answer within timeout_ms=300, on_error=deny: PAM_PERM_DENIED" \
    "timed out: denied (on_error=deny)"
ms=$(( (t1 - t0) / 1000000 ))
[ $ms -ge 300 ] && [ $ms -lt 5000 ]
ok $? "the deadline is kept: $ms ms for timeout_ms=300"
pt silent-ignore alice
is OK "no answer, on_error=ignore: PAM_IGNORE, the next module (pam_permit) decides" \
    "timed out: ignored (on_error=ignore)"
kill "$silent_pid"
wait "$silent_pid" 2>/dev/null

# Every bad argument: PAM_SERVICE_ERR with a log line naming it, for a
# user the daemon would allow.
bad() {
	desc=$1 want=$2
	shift 2
	svc bad "$@"
	pt bad alice
	is "$SVCERR" "bad argument: $desc" "$want"
}
bad "an unknown argument" 'unknown argument "bogus=1"' "$Q" "$PRINC" "$ACT" \
    "$RES" bogus=1
bad "an unknown flag" 'unknown argument "nodebug"' "$Q" "$PRINC" "$ACT" \
    "$RES" nodebug
bad "an unknown template variable" 'resource: unknown variable {host}' \
    "$Q" "$PRINC" "$ACT" "resource=acs:ecs:cn-hangzhou:$ACCT:instance/{host}"
bad "an unknown variable in a context template" \
    'context: unknown variable {pid}' "$Q" "$PRINC" "$ACT" "$RES" \
    'context=k={pid}'
bad "an unterminated '{'" "principal: unterminated '{'" "$Q" \
    "principal=acs:ram::$ACCT:user/{user" "$ACT" "$RES"
bad "a stray '}'" "action: '}' without '{'" "$Q" "$PRINC" "action=ecs:Login}" \
    "$RES"
bad "timeout_ms=0" 'timeout_ms=0: not a number' "$Q" "$PRINC" "$ACT" "$RES" \
    timeout_ms=0
bad "timeout_ms=-5" 'timeout_ms=-5: not a number' "$Q" "$PRINC" "$ACT" \
    "$RES" timeout_ms=-5
bad "timeout_ms=1s" 'timeout_ms=1s: not a number' "$Q" "$PRINC" "$ACT" \
    "$RES" timeout_ms=1s
bad "on_error=allow" 'on_error=allow: not deny or ignore' "$Q" "$PRINC" \
    "$ACT" "$RES" on_error=allow
bad "no action=" 'action= is required' "$Q" "$PRINC" "$RES"
bad "no resource=" 'resource= is required' "$Q" "$PRINC" "$ACT"
bad "neither principal= nor principal_map=" \
    'neither principal= nor principal_map= given' "$Q" "$ACT" "$RES"
bad "an empty socket=" 'socket= is empty' socket= "$PRINC" "$ACT" "$RES"
bad "principal= twice" 'principal= given twice' "$Q" "$PRINC" "$PRINC" \
    "$ACT" "$RES"
bad "context= without KEY=" 'context=nokey: not KEY=TEMPLATE' "$Q" "$PRINC" \
    "$ACT" "$RES" context=nokey
bad "two context keys equal but for case" 'context=K= given twice' "$Q" \
    "$PRINC" "$ACT" "$RES" context=k=1 context=K=2
bad "a relative principal_map=" 'principal_map=map: not an absolute path' \
    "$Q" principal_map=map "$ACT" "$RES"
bad "a missing principal_map file" "principal_map=$tmp/none: No such file" \
    "$Q" "principal_map=$tmp/none" "$PRINC" "$ACT" "$RES"
cp "$tmp/map" "$tmp/map-ww"
chmod 666 "$tmp/map-ww"
bad "a world-writable principal_map" "principal_map=$tmp/map-ww: not a regular file owned by root, writable by its owner only" \
    "$Q" "principal_map=$tmp/map-ww" "$PRINC" "$ACT" "$RES"
printf 'alice acs:ram::%s:user/alice extra\n' "$ACCT" >"$tmp/map-bad"
bad "a malformed principal_map line" "principal_map=$tmp/map-bad:1: not \"USER ARN\"" \
    "$Q" "principal_map=$tmp/map-bad" "$PRINC" "$ACT" "$RES"
printf 'alice acs:ram::%s:user/alice\nalice acs:ram::%s:user/bob\n' "$ACCT" \
    "$ACCT" >"$tmp/map-dup"
bad "a user listed twice in principal_map" "principal_map=$tmp/map-dup:2: user alice listed twice" \
    "$Q" "principal_map=$tmp/map-dup" "$PRINC" "$ACT" "$RES"
{ printf 'zed '; printf '%03000d\n' 0; } >"$tmp/map-long"
bad "a principal_map line over 2,048 bytes" "principal_map=$tmp/map-long:1: line over 2048 bytes" \
    "$Q" "principal_map=$tmp/map-long" "$PRINC" "$ACT" "$RES"
head -c 1048577 /dev/zero | tr '\0' '#' >"$tmp/map-big"
bad "a principal_map over 1 MiB" "principal_map=$tmp/map-big: not a regular file" \
    "$Q" "principal_map=$tmp/map-big" "$PRINC" "$ACT" "$RES"

# The daemon down: on_error=deny denies, ignore lets the stack decide.
stop_daemon
ok $? "daemon stopped"
svc down "$Q" "$PRINC" "$ACT" "$RES" +permit
svc down-ignore "$Q" "$PRINC" "$ACT" "$RES" on_error=ignore +permit
svc down-ignore-deny "$Q" "$PRINC" "$ACT" "$RES" on_error=ignore +deny
svc down-ignore-alone "$Q" "$PRINC" "$ACT" "$RES" on_error=ignore
pt down alice
is "$DENIED" "daemon down, on_error=deny (default): PAM_PERM_DENIED" \
    "kmsauthzd at $tmp/q.sock: cannot connect to kmsauthzd: denied (on_error=deny)"
pt down-ignore alice
is OK "daemon down, on_error=ignore, then pam_permit: PAM_IGNORE lets pam_permit grant" \
    "cannot connect to kmsauthzd: ignored (on_error=ignore)"
pt down-ignore-deny alice
is "Authentication failure" "daemon down, on_error=ignore, then pam_deny: pam_deny's own answer"
pt down-ignore-alone alice
[ "$res" != OK ]
ok $? "daemon down, on_error=ignore alone in the stack: PAM_IGNORE is no grant ($res)"

! grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/pt.all" \
    >/dev/null
ok $? "no sanitizer report from the module in pamtester"
finish
