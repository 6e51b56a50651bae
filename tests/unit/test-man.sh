#!/bin/sh
# SPDX-License-Identifier: ISC
# The manual pages: mandoc -Tlint clean (warnings and above) on every
# page; kmsauthz(3)'s NAME section and its installed links are exactly
# the exported functions; kmsauthzctl(1) has an entry for every command
# kmsauthzctl knows; kmsauthzd.conf(5) names every configuration key;
# every cross-reference to one of ours names a page that exists.
: "${top_srcdir:=.}" "${top_builddir:=.}"
man=$top_srcdir/man
ctl=$top_builddir/src/ctl/kmsauthzctl
echo "1..6"
n=0
t() {	# t STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
if ! command -v mandoc >/dev/null; then
	for i in 1 2 3 4 5 6; do echo "ok $i # SKIP mandoc not installed"; done
	exit 0
fi

out=$(for f in "$man"/*.[0-9]; do mandoc -Tlint -Wwarning "$f" 2>&1; done)
[ -z "$out" ]
t $? "mandoc -Tlint -Wwarning: every page clean${out:+: $(echo "$out" | head -3)}"

names=$(sed -n 's/^\.Nm \(kmsauthz_[a-z_]*\).*/\1/p' "$man/kmsauthz.3" | sort)
exported=$(sed -n 's/^KMSAUTHZ_EXPORT .*[ *]\(kmsauthz_[a-z_]*\)(.*/\1/p' \
    "$top_srcdir/include/kmsauthz.h" | sort)
[ -n "$names" ] && [ "$names" = "$exported" ]
t $? "kmsauthz(3) NAME lists exactly the exported functions ($(echo $names | wc -w))"
links=$(sed -n '/^KMSAUTHZ_MLINKS/,/^[a-z]/p' \
    "$top_srcdir/src/lib/Makefile.inc" | tr ' \t\\' '\n\n\n' |
    grep '^kmsauthz_' | sort)
[ "$links" = "$exported" ]
t $? "a man link is installed for every public function"

missing=
for c in $("$ctl" help | sed -n 's/^  kmsauthzctl \([A-Za-z-]*\).*/\1/p'); do
	grep -q "^\.It Cm $(echo "$c" | sed 's/-/\\\\-/g')\( \|$\)" \
	    "$man/kmsauthzctl.1" || missing="$missing $c"
done
[ -z "$missing" ]
t $? "kmsauthzctl(1) describes every command${missing:+; missing:$missing}"

keys=$("$top_builddir/src/daemon/kmsauthzd" -n -v -c /dev/null 2>/dev/null |
    sed -n 's/^\([a-z_]*\) = .*/\1/p')
missing=
for k in $keys; do
	grep -q "^\.It Cm $k " "$man/kmsauthzd.conf.5" || missing="$missing $k"
done
[ -n "$keys" ] && [ -z "$missing" ]
t $? "kmsauthzd.conf(5) documents every key ($(echo $keys | wc -w))${missing:+; missing:$missing}"

bad=
for x in $(cat "$man"/*.[0-9] | sed -n 's/^\.Xr \(kmsauthz[a-z._\\-]*\) \([0-9]\).*/\1.\2/p' |
    sed 's/\\//g' | sort -u); do
	[ -f "$man/$x" ] || bad="$bad $x"
done
[ -z "$bad" ]
t $? "every .Xr to one of ours names a page that exists${bad:+; missing:$bad}"
