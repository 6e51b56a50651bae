#!/bin/sh
# SPDX-License-Identifier: ISC
# The whole test suite, from a fresh Debian 12 machine (as root):
#   1. install the packages it needs;
#   2. gcc -Werror build + make check;
#   3. clang ASan+UBSan -Werror build + make check;
#   4. clang --enable-tsan build: the concurrency scenarios under
#      ThreadSanitizer (when KMSAUTHZ_TSAN is not 0);
#   5. clang --enable-fuzzing build: every libFuzzer target of tests/fuzz
#      for KMSAUTHZ_FUZZ_SECONDS (30) seconds from its corpus (when
#      KMSAUTHZ_FUZZ is not 0); a crash, leak or sanitizer report fails;
#   6. make distcheck (when KMSAUTHZ_DISTCHECK is not 0).
# Ends with "N passed, N failed" counted from the real TAP results, and
# exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh || exit 2
status=0
for b in gcc asan; do
	dir=$top/_build/$b
	case $b in
	gcc)	opts="--enable-werror CC=gcc" ;;
	asan)	opts="--enable-werror --enable-asan CC=clang" ;;
	esac
	echo "== $b: build"
	if ! sh scripts/build.sh "$dir" $opts; then
		echo "== $b: BUILD FAILED"
		status=1
		continue
	fi
	find "$dir" -name '*.trs' -delete
	echo "== $b: make check"
	# The admin update storm (tests/regress/201) runs its full 1,000
	# SetKeyPolicy calls in the gcc build; 250 under the sanitizers.
	# The kill -9 rounds of tests/regress/101: 4 in gcc, 2 otherwise.
	case $b in
	gcc)	storm=1000 rounds=4 ;;
	*)	storm=250 rounds=2 ;;
	esac
	if ! KMSAUTHZ_STORM=$storm KMSAUTHZ_CRASH_ROUNDS=$rounds \
	    make -C "$dir" -j"$(nproc)" check \
	    >"$dir/check.out" 2>&1; then
		status=1
		grep -E '^(FAIL|ERROR|XPASS)' "$dir/check.out" | head -50 ||
		    tail -30 "$dir/check.out"	# no test failed: a build error
		for f in $(grep -l ':test-result: \(FAIL\|ERROR\|XPASS\)' \
		    $(find "$dir" -name '*.trs') 2>/dev/null); do
			log=${f%.trs}.log
			echo "--- $log"
			grep -v '^ok ' "$log" | tail -40
		done
	fi
	grep -E '^# (TOTAL|PASS|FAIL|SKIP|ERROR)' "$dir/check.out" |
	    sed "s/^/   $b /"
done
# ThreadSanitizer: the concurrency scenarios (workers, SIGHUP, pause and
# resume, admin changes published while queries run, a 300-change
# storm) in a clang --enable-tsan build; any report fails the scenario.
TSAN_TESTS="tests/regress/002-basic.sh tests/regress/004-many.sh
 tests/regress/006-signals.sh tests/regress/020-pause-resume.sh
 tests/regress/021-library.sh tests/regress/022-reload-store.sh
 tests/regress/024-drain-emfile.sh tests/regress/026-admin-lockout.sh
 tests/regress/104-hostile-clients.sh tests/regress/201-admin-api.sh
 tests/regress/040-metrics.sh tests/regress/041-decision-log.sh
 tests/regress/035-min-generation.sh tests/fleet/101-fleet-basic.sh
 tests/fleet/102-fleet-storm.sh tests/fleet/104-fleet-etcd-down.sh
 tests/fleet/105-fleet-kill9.sh"
if [ "${KMSAUTHZ_TSAN:-1}" != 0 ]; then
	dir=$top/_build/tsan
	echo "== tsan: build"
	if ! sh scripts/build.sh "$dir" --enable-werror --enable-tsan \
	    CC=clang; then
		echo "== tsan: BUILD FAILED"
		status=1
	else
		find "$dir" -name '*.trs' -delete
		echo "== tsan: make check (concurrency scenarios)"
		# ThreadSanitizer runs the daemon 5-15 times slower: a
		# well-behaved client may wait longer than the 1 s of the
		# other builds.
		if ! KMSAUTHZ_STORM=300 KMSAUTHZ_CRASH_ROUNDS=2 \
		    KZLOAD_MAXLAT=3 TSAN_OPTIONS="second_deadlock_stack=1" \
		    make -C "$dir" -j"$(nproc)" check TESTS="$(echo $TSAN_TESTS)" \
		    >"$dir/check.out" 2>&1; then
			status=1
			grep -E '^(FAIL|ERROR|XPASS)' "$dir/check.out" | head -50
			for f in $(grep -l ':test-result: \(FAIL\|ERROR\)' \
			    $(find "$dir" -name '*.trs') 2>/dev/null); do
				echo "--- ${f%.trs}.log"
				grep -v '^ok ' "${f%.trs}.log" | tail -60
			done
		fi
		grep -E '^# (TOTAL|PASS|FAIL|SKIP|ERROR)' "$dir/check.out" |
		    sed "s/^/   tsan /"
	fi
fi
if [ "${KMSAUTHZ_FUZZ:-1}" != 0 ]; then
	sh scripts/fuzz.sh "$top/_build/fuzz" "${KMSAUTHZ_FUZZ_SECONDS:-30}" ||
	    status=1
fi
if [ "${KMSAUTHZ_DISTCHECK:-1}" != 0 ]; then
	echo "== make distcheck"
	if ! KMSAUTHZ_STORM=250 KMSAUTHZ_CRASH_ROUNDS=2 \
	    make -C "$top/_build/gcc" distcheck \
	    >"$top/_build/distcheck.out" 2>&1; then
		tail -40 "$top/_build/distcheck.out"
		echo "== distcheck FAILED"
		status=1
	fi
fi
pass=0 fail=0 skip=0
for f in $(find "$top/_build/gcc" "$top/_build/asan" "$top/_build/tsan" \
    "$top/_build/fuzz" \
    -name '*.trs' 2>/dev/null); do
	p=$(grep -c '^:test-result: PASS' "$f")
	x=$(grep -c '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$f")
	s=$(grep -c '^:test-result: \(SKIP\|XFAIL\)' "$f")
	pass=$((pass + p)) fail=$((fail + x)) skip=$((skip + s))
done
[ "$status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1	# a build or distcheck failure
[ "$pass" -eq 0 ] && status=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
