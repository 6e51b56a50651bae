#!/bin/sh
# The systemd units as installed ("make install DESTDIR=..."): paths
# substituted, files in the right directories, and systemd-analyze
# verify clean on them (a broken copy must not be: the check bites).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 ||
    skip_all "systemd-analyze not installed"
plan 7

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
