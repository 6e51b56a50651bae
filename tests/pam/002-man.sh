#!/bin/sh
# SPDX-License-Identifier: ISC
# pam_kmsauthz(8) passes mandoc's linter: no warning or error (STYLE
# notes about pages not installed on this machine do not count).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
if ! command -v mandoc >/dev/null 2>&1; then
	echo "1..0 # SKIP mandoc not installed"
	exit 0
fi
echo "1..1"
if out=$(mandoc -Tlint -W warning "$top_srcdir/man/pam_kmsauthz.8" 2>&1) &&
    [ -z "$out" ]; then
	echo "ok 1 - mandoc -Tlint -W warning man/pam_kmsauthz.8 is clean"
else
	echo "not ok 1 - mandoc -Tlint -W warning man/pam_kmsauthz.8"
	echo "$out" | sed 's/^/# /'
fi
