#!/bin/sh
# libkmsauthz exports kmsauthz_* only, and has soname libkmsauthz.so.1.
echo "1..3"
lib=$(ls "$top_builddir"/src/lib/.libs/libkmsauthz.so.*.*.* 2>/dev/null | head -n 1)
if [ -z "$lib" ]; then
	echo "not ok 1 - libkmsauthz.so built"
	echo "not ok 2 - exported symbols # no library"
	echo "not ok 3 - soname # no library"
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
