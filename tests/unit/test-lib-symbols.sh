#!/bin/sh
# SPDX-License-Identifier: ISC
# libkmsauthz exports kmsauthz_* only, has soname libkmsauthz.so.1, and
# links nothing but libc (DT_NEEDED; a sanitizer build adds its runtime).
echo "1..4"
lib=$(ls "$top_builddir"/src/lib/.libs/libkmsauthz.so.*.*.* 2>/dev/null | head -n 1)
if [ -z "$lib" ]; then
	echo "not ok 1 - libkmsauthz.so built"
	echo "not ok 2 - exported symbols # no library"
	echo "not ok 3 - soname # no library"
	echo "not ok 4 - links only libc # no library"
	exit 0
fi
echo "ok 1 - libkmsauthz.so built"
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' |
    grep -v '^kmsauthz_' | tr '\n' ' ')
if [ -z "$bad" ]; then
	echo "ok 2 - only kmsauthz_* exported"
else
	echo "not ok 2 - other symbols exported: $bad"
fi
if objdump -p "$lib" | grep -q 'SONAME *libkmsauthz\.so\.1$'; then
	echo "ok 3 - soname libkmsauthz.so.1"
else
	echo "not ok 3 - soname: $(objdump -p "$lib" | grep SONAME)"
fi
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
    tr '\n' ' ')
other=$(for n in $needed; do
	case $n in
	libc.so.*|libasan.so.*|libubsan.so.*) ;;
	*) echo "$n" ;;
	esac
done)
if echo " $needed" | grep -q ' libc\.so\.' && [ -z "$other" ]; then
	echo "ok 4 - links only libc (NEEDED: $needed)"
else
	echo "not ok 4 - links only libc (NEEDED: $needed)"
fi
