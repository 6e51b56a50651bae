#!/bin/sh
# SPDX-License-Identifier: ISC
# kmsauthzctl import, export, backup and verify --db, run as root, refuse
# a store directory or store file another user owns, or that group or
# others may write (exit 2, the path, owner and mode named), and follow
# no symbolic link of another user's; root's own store still works.
CTL=$(cd "${top_builddir:-.}" && pwd)/src/ctl/kmsauthzctl
B=$(cd "${top_srcdir:-.}" && pwd)/etc/example-bundle.json
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root to give files to another uid"
	exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=1; echo "not ok $n - $1"; sed 's/^/# /' "$T/err"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
# refused DESC PATTERN CMD...: exit 2 and stderr matching PATTERN.
refused() {
	d=$1
	p=$2
	shift 2
	"$@" >/dev/null 2>"$T/err"
	st=$?
	if [ $st -eq 2 ] && grep -E -q -- "$p" "$T/err"; then
		ok "$d"
		sed 's/^/#   /' "$T/err"
	else
		echo "# exit $st" >>"$T/err"
		nok "$d"
	fi
}
echo "1..14"

D=$T/db
"$CTL" import --db "$D" "$B" >/dev/null 2>"$T/err"
check "import as root: a new store, its directory 0700, data.mdb 0600" \
    '[ $? -eq 0 ] && [ "$(stat -c %a "$D")" = 700 ] && [ "$(stat -c %a "$D/data.mdb")" = 600 ]'
"$CTL" export --db "$D" >"$T/before" 2>"$T/err"
check "export of root's own store" '[ $? -eq 0 ] && [ -s "$T/before" ]'

chown 65534 "$D"
refused "export: a directory owned by uid 65534" \
    "$D: owned by uid 65534 \\(not 0\\), mode 0700: refusing to use it" \
    "$CTL" export --db "$D"
refused "backup: the same" "$D: owned by uid 65534" \
    "$CTL" backup --db "$D" "$T/bk1"
check "... no backup made" '[ ! -e "$T/bk1" ]'
refused "import --replace: the same" "$D: owned by uid 65534" \
    "$CTL" import --db "$D" --replace "$B"
"$CTL" verify --db "$D" >/dev/null 2>"$T/err"
check "verify: the same, exit 2" '[ $? -eq 2 ] && grep -q "owned by uid 65534" "$T/err"'
chown 0 "$D"

chmod 0777 "$D"
refused "a directory writable by others" \
    "$D: owned by uid 0, mode 0777, writable by others" \
    "$CTL" export --db "$D"
chmod 0700 "$D"
chown 65534 "$D/data.mdb"
refused "data.mdb owned by uid 65534" "$D/data.mdb: owned by uid 65534" \
    "$CTL" export --db "$D"
chown 0 "$D/data.mdb"
chmod 0620 "$D/kmsauthz.lock"
refused "kmsauthz.lock writable by its group" \
    "$D/kmsauthz.lock: .*writable by its group" \
    "$CTL" import --db "$D" --replace "$B"
chmod 0600 "$D/kmsauthz.lock"
mv "$D/data.mdb" "$T/data.mdb" && ln -s "$T/data.mdb" "$D/data.mdb"
refused "data.mdb a symbolic link" "$D/data.mdb: a symbolic link" \
    "$CTL" export --db "$D"
rm "$D/data.mdb" && mv "$T/data.mdb" "$D/data.mdb"
ln -s "$D" "$T/link" && chown -h 65534 "$T/link"
refused "a directory named through another user's symbolic link" \
    "$T/link: a symbolic link owned by uid 65534" "$CTL" export --db "$T/link"
rm "$T/link" && ln -s "$D" "$T/link"
"$CTL" export --db "$T/link" >"$T/after" 2>"$T/err"
check "root's own symbolic link is followed" '[ $? -eq 0 ] && cmp -s "$T/before" "$T/after"'
"$CTL" export --db "$D" >"$T/after" 2>"$T/err"
check "the store unchanged through every refusal" 'cmp -s "$T/before" "$T/after"'
exit 0
