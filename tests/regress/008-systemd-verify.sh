#!/bin/sh
# SPDX-License-Identifier: ISC
# The systemd units as installed ("make install DESTDIR=..."): paths
# substituted, files in the right directories, and systemd-analyze
# verify clean on them (a broken copy must not be: the check bites).
# The paths agree: the sockets the socket units listen on are in the
# service's RuntimeDirectory, the store is its StateDirectory (passed
# with -d ${STATE_DIRECTORY}), and the installed daemon's compiled
# defaults, the tmpfiles and sysusers files name the same directories,
# whatever the prefix.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 ||
    skip_all "systemd-analyze not installed"
plan 14

d=$tmp/dest
make -C "$top_builddir" install DESTDIR="$d" >"$tmp/install.log" 2>&1
ok $? "make install DESTDIR=... succeeds"

unitdir=$(find "$d" -type d -path '*/lib/systemd/system' | head -1)
[ -f "$unitdir/kmsauthzd.service" ] && [ -f "$unitdir/kmsauthzd.socket" ] &&
    [ -f "$unitdir/kmsauthzd-admin.socket" ]
ok $? "the three units are installed (${unitdir#$d})"

find "$d" -path '*/sysusers.d/kmsauthzd.conf' | grep . >/dev/null &&
    find "$d" -path '*/tmpfiles.d/kmsauthzd.conf' | grep . >/dev/null
ok $? "sysusers.d and tmpfiles.d files are installed"

sbin=$(sed -n 's|^ExecStart=\([^ ]*\) .*|\1|p' "$unitdir/kmsauthzd.service")
[ -x "$d$sbin" ] && ! grep '@[a-z]*@' "$unitdir"/kmsauthzd* >/dev/null
ok $? "ExecStart names the installed daemon ($sbin), no @var@ left"

svc=$unitdir/kmsauthzd.service
unitval() {
	sed -n "s|^$1=||p" "$2" | head -1
}
sdir=/var/lib/$(unitval StateDirectory "$svc")
rdir=/run/$(unitval RuntimeDirectory "$svc")
qlisten=$(unitval ListenStream "$unitdir/kmsauthzd.socket")
alisten=$(unitval ListenStream "$unitdir/kmsauthzd-admin.socket")
diag "StateDirectory $sdir, RuntimeDirectory $rdir, sockets $qlisten $alisten"
[ "${qlisten%/*}" = "$rdir" ] && [ "${alisten%/*}" = "$rdir" ] &&
    [ "$rdir" = /run/kmsauthzd ]
ok $? "both socket units listen in the service's RuntimeDirectory"

unitval ExecStart "$svc" | grep -F -- ' -d ${STATE_DIRECTORY}' >/dev/null &&
    [ "$sdir" = /var/lib/kmsauthzd ]
ok $? "ExecStart passes -d \${STATE_DIRECTORY} (StateDirectory $sdir)"

# The installed daemon's compiled defaults (-n -v prints them).
"$d$sbin" -n -v -c /dev/null >"$tmp/defaults" 2>&1
sed 's/^/# /' "$tmp/defaults"
grep -Fx "state_directory = $sdir" "$tmp/defaults" >/dev/null &&
    grep -Fx "query_socket = $qlisten" "$tmp/defaults" >/dev/null &&
    grep -Fx "admin_socket = $alisten" "$tmp/defaults" >/dev/null
ok $? "the daemon's defaults are the units' paths (not the prefix's)"

tmpf=$(find "$d" -path '*/tmpfiles.d/kmsauthzd.conf' | head -1)
sysu=$(find "$d" -path '*/sysusers.d/kmsauthzd.conf' | head -1)
grep -E "^d $sdir " "$tmpf" >/dev/null &&
    grep -E "^d $rdir " "$tmpf" >/dev/null &&
    grep -E "^u kmsauthzd .* $sdir\$" "$sysu" >/dev/null
ok $? "tmpfiles and sysusers name the same directories"

# The documented audit_file (admin.conf.example) is writable under the
# unit: /var/log/kmsauthzd is its LogsDirectory.
ex=$(find "$d" -path '*/kmsauthz/admin.conf.example' | head -1)
af=$(sed -n 's/^audit_file = //p' "$ex")
ldir=/var/log/$(unitval LogsDirectory "$svc")
[ -n "$ex" ] && [ "${af%/*}" = "$ldir" ] &&
    grep -q '^ProtectSystem=strict' "$svc"
ok $? "admin.conf.example is installed; its audit_file $af is in the unit's LogsDirectory $ldir"
man3=$(find "$d" -type d -path '*/man/man3' | head -1)
[ -f "$man3/kmsauthz.3" ] && [ -L "$man3/kmsauthz_check.3" ] &&
    [ "$(readlink "$man3/kmsauthz_check.3")" = kmsauthz.3 ] &&
    [ "$(ls "$man3" | grep -c '^kmsauthz_.*\.3$')" -ge 21 ]
ok $? "man 3 kmsauthz_check: a link per public function ($(ls "$man3" | grep -c '^kmsauthz_'))"
find "$d" -path '*/doc/*/admin-api.md' | grep . >/dev/null &&
    find "$d" -path '*/man5/kmsauthz-admin.conf.5' | grep . >/dev/null
ok $? "docs/admin-api.md and kmsauthz-admin.conf(5) are installed"

# systemd-analyze --root resolves every path inside the destination:
# give it the few things a real root has (kill, the standard targets).
mkdir -p "$d/bin" "$d/lib/systemd/system"
cp /bin/kill "$d/bin/"
cp /lib/systemd/system/*.target /lib/systemd/system/*.slice \
    "$d/lib/systemd/system/" 2>/dev/null
# Units are looked up on systemd's search path inside the root; a
# prefix off that path (distcheck's) is reached through /etc.
sysdir=$d/etc/systemd/system
mkdir -p "$sysdir"
cp "$unitdir"/kmsauthzd.service "$unitdir"/kmsauthzd.socket \
    "$unitdir"/kmsauthzd-admin.socket "$sysdir/"
unitdir=$sysdir
mandir=$(find "$d" -type d -name man -path '*/share/man' | head -1)
MANPATH=$mandir systemd-analyze verify --root="$d" \
    "$unitdir/kmsauthzd.service" "$unitdir/kmsauthzd.socket" \
    "$unitdir/kmsauthzd-admin.socket" >"$tmp/verify.out" 2>&1
st=$?
[ $st -eq 0 ] && [ ! -s "$tmp/verify.out" ]
ok $? "systemd-analyze verify is clean on the installed units"
sed 's/^/# /' "$tmp/verify.out"

sed 's/^Type=notify/Typo=notify/' "$unitdir/kmsauthzd.service" \
    >"$unitdir/kmsauthzd-broken.service"
systemd-analyze verify --man=no --root="$d" \
    "$unitdir/kmsauthzd-broken.service" >"$tmp/broken.out" 2>&1
grep -F "Typo" "$tmp/broken.out" >/dev/null
ok $? "verify reports a broken copy (the check is meaningful)"
finish
