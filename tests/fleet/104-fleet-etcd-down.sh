#!/bin/sh
# SPDX-License-Identifier: ISC
# Fleet mode with etcd gone: three hosts (fleet_max_staleness 2) and the
# only etcd member stopped.  Queries go on being answered from the last
# applied world on every host with no error (a checker runs throughout,
# and a consistency token at the served generation is answered); admin
# reads are answered; admin changes are refused with ServiceUnavailable
# (503) naming the cause; Status says Connected false with the last
# error, then stale once fleet_max_staleness has passed.  etcd back:
# every host is connected and serving again, changes made through each
# host work, and the hosts converge.
. "${top_srcdir:-.}/tests/regress/lib.sh"
. "${top_srcdir:-.}/tests/fleet/lib-etcd.sh"
. "${top_srcdir:-.}/tests/fleet/lib-fleet.sh"
etcd_available || skip_all "etcd, etcdctl, curl or python3 missing"
plan 14

etcd_cluster 1 || { ok 1 "etcd starts"; fleet_finish; }
for h in A B C; do
	host_config $h "fleet_max_staleness = 2"
	start_host $h || { ok 1 "host $h starts"; fleet_finish; }
done
fleetload setup "$tmp/A/a.sock" && wait_until 20 hosts_in_step A B C
ok $? "three hosts serving the storm's names (revision $(etcd_rev))"
g=$(etcd_rev)
for h in A B C; do
	fleetload checks "$tmp/$h/q.sock" 5 2000 >"$tmp/before.$h" 2>&1
done
grep -q '^ALLOW ' "$tmp/before.A" && cmp -s "$tmp/before.A" "$tmp/before.B" &&
    cmp -s "$tmp/before.A" "$tmp/before.C"
ok $? "2,000 checks answered alike on A, B and C at generation $g"

fleetload checker "$tmp/stop" "$tmp/checker" "$tmp/A/q.sock" \
    "$tmp/B/q.sock" "$tmp/C/q.sock" &
ckpid=$!
down_at=$(date +%s)
etcd_stop m1
disconnected() {
	for h in A B C; do
		case $(host_status $h) in
		*'"Connected":false'*'"LastError":"'*) ;;
		*) return 1 ;;
		esac
	done
}
wait_until 20 disconnected
ok $? "etcd stopped: every host says Connected false, with the last error ($(hjson B 'd["Fleet"].get("LastError")'))"

# 4-6: changes refused, reads answered, tokens at the served generation.
bad=0
for h in A B C; do
	actl $h TagResource --KeyId tk-1 --Tags '[{"TagKey":"down","TagValue":"'$h'"}]'
	if [ "$(acode)" != ServiceUnavailable ] || ! grep -q '"HttpStatus":503' "$tmp/ans" ||
	    ! grep -q '"Detail":"fleet: .*connect' "$tmp/ans"; then
		bad=1
		diag "$h: $(cat "$tmp/ans")"
	fi
done
[ $bad -eq 0 ]
ok $? "TagResource through each host: ServiceUnavailable (503), the cause in Detail ($(sed -n 's/.*"Detail":"\([^"]*\)".*/\1/p' "$tmp/ans"))"
bad=0
for h in A B C; do
	actl $h DescribeKey --KeyId sk-1 && [ "$(acode)" = OK ] &&
	    actl $h GetKeyPolicy --KeyId sk-2 && [ "$(acode)" = OK ] &&
	    actl $h ListKeys --PageSize 100 && grep -q '"TotalCount":44' "$tmp/ans" &&
	    actl $h GetPolicy --PolicyName rp-1 && [ "$(acode)" = OK ] || {
		bad=1
		diag "$h: $(cat "$tmp/ans")"
	}
done
[ $bad -eq 0 ]
ok $? "admin reads are answered on every host (DescribeKey, GetKeyPolicy, ListKeys, GetPolicy)"
bad=0
for h in A B C; do
	fleetload checks "$tmp/$h/q.sock" 5 2000 "$g" >"$tmp/down.$h" 2>&1 || bad=1
	cmp -s "$tmp/before.A" "$tmp/down.$h" || bad=1
done
[ $bad -eq 0 ]
ok $? "with etcd down, the same 2,000 checks (token: generation $g) answer the same on every host"

stale_all() {
	for h in A B C; do
		host_state_is $h stale || return 1
	done
}
wait_until 20 stale_all
ok $? "after fleet_max_staleness (2 s) every host is stale ($(($(date +%s) - down_at)) s down)"
[ "$(hget A AppliedRevision)" = "$g" ] && [ "$(hget C Generation)" = "$g" ]
ok $? "...still at revision $g"
actl B CreateUser --UserName down
[ "$(acode)" = ServiceUnavailable ]
ok $? "a change through a stale host: ServiceUnavailable"

# 10-13: etcd back.
etcd_start m1
wait_until 30 etcd_healthy m1
reconnected() {
	for h in A B C; do
		case $(host_status $h) in
		*'"State":"serving"'*'"Connected":true'*) ;;
		*) return 1 ;;
		esac
		case $(host_status $h) in
		*'"LastError"'*) return 1 ;;
		esac
	done
}
wait_until 30 reconnected
ok $? "etcd back: every host connected and serving again"
touch "$tmp/stop"
wait $ckpid
sed 's/^/# /' "$tmp/checker"
grep -q '^checks=[1-9][0-9]* errors=0 backwards=0$' "$tmp/checker"
ok $? "no query error on any host while etcd was down ($(head -1 "$tmp/checker"))"
bad=0
for h in A B C; do
	actl $h TagResource --KeyId tk-1 --Tags '[{"TagKey":"back","TagValue":"'$h'"}]'
	[ "$(acode)" = OK ] || { bad=1; diag "$h: $(cat "$tmp/ans")"; }
done
g2=$(agen)
[ $bad -eq 0 ] && [ "$g2" -gt "$g" ]
ok $? "a change through each host works again (last at generation $g2)"
wait_until 20 hosts_in_step A B C
actl A ListResourceTags --KeyId tk-1
ta=$(cat "$tmp/ans" | sed 's/"RequestId":"[^"]*",//')
actl C ListResourceTags --KeyId tk-1
tc=$(cat "$tmp/ans" | sed 's/"RequestId":"[^"]*",//')
hosts_in_step A B C && [ "$ta" = "$tc" ] && echo "$ta" | grep -q '"TagKey":"back","TagValue":"C"' &&
    ! echo "$ta" | grep -q '"TagKey":"down"'
ok $? "the hosts converge at revision $(etcd_rev); no refused change was applied ($ta)"
fleet_finish
