#!/bin/sh
# SPDX-License-Identifier: ISC
# The Python client (bindings/python) under pytest against the real
# daemon (tests/python/test_*.py), reported as TAP: one line per pytest
# test case (tests/python/junit2tap.py reads pytest's JUnit XML), a line
# for pytest's exit status (5, "no tests collected", fails), and one for
# "pip install ./bindings/python" into a temporary directory.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys, pytest
sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip_all "no python3 (3.9 or later) with pytest (python3-pytest)"
[ -x "$KMSAUTHZD" ] || skip_all "kmsauthzd not built"

export PYTHONDONTWRITEBYTECODE=1
# The client must not depend on the harness's sanitizer settings for
# Python itself; the daemon keeps them (its stderr is checked).
# A hung test must fail, not stall make check.
to=
command -v timeout >/dev/null 2>&1 && to="timeout 900"
(cd "$tmp" && PYTHONPATH="$top_srcdir/bindings/python" \
    $to "$PY" -m pytest -p no:cacheprovider -q -rfE \
    --junitxml="$tmp/junit.xml" "$top_srcdir/tests/python") \
    >"$tmp/pytest.out" 2>&1
st=$?

"$PY" "$top_srcdir/tests/python/junit2tap.py" "$tmp/junit.xml" 1 \
    >"$tmp/tap.out" 2>"$tmp/tap.err"
conv=$?
n=$(grep -c '^\(not \)\{0,1\}ok ' "$tmp/tap.out")
plan $((n + 3))
cat "$tmp/tap.out"
tap_n=$n
grep -q '^not ok ' "$tmp/tap.out" && tap_failed=1
[ $conv -eq 0 ] && [ "$n" -gt 0 ]
ok $? "pytest reported test cases ($n)"
[ $st -eq 0 ]
ok $? "pytest exits 0 (it exited $st; 5 is 'no tests collected')"
if [ $st -ne 0 ] || [ $conv -ne 0 ]; then
	tail -40 "$tmp/pytest.out" | sed 's/^/# /'
	sed 's/^/# /' "$tmp/tap.err"
fi

# pip install ./bindings/python: from a copy (the source tree may be
# read-only), without the network, into a private target.
if "$PY" -m pip --version >/dev/null 2>&1; then
	cp -R "$top_srcdir/bindings/python" "$tmp/pysrc"
	chmod -R u+w "$tmp/pysrc"
	"$PY" -m pip install -q --no-deps --no-build-isolation --no-index \
	    --disable-pip-version-check --root-user-action=ignore \
	    --target "$tmp/site" "$tmp/pysrc" >"$tmp/pip.out" 2>&1 &&
	    (cd / && PYTHONPATH="$tmp/site" "$PY" -c '
import sys, kmsauthz
assert kmsauthz.__file__.startswith(sys.argv[1]), kmsauthz.__file__
assert kmsauthz.Client and kmsauthz.AsyncClient and kmsauthz.AdminClient
' "$tmp/site") >>"$tmp/pip.out" 2>&1
	st=$?
	ok $st "pip install ./bindings/python, then import kmsauthz from there"
	[ $st -eq 0 ] || sed 's/^/# /' "$tmp/pip.out"
else
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - pip install ./bindings/python # SKIP pip not installed"
fi
cleanup
exit $tap_failed
