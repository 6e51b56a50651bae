#!/bin/sh
# SPDX-License-Identifier: ISC
# Run every libFuzzer target of tests/fuzz for a while, from its corpus.
# usage: scripts/fuzz.sh BUILDDIR [SECONDS] [TARGET...]
# Configures BUILDDIR with clang --enable-fuzzing (ASan+UBSan+libFuzzer,
# from Debian's libclang-rt-14-dev), builds only the fuzz targets, runs
# each for SECONDS (30) with its dictionary, new inputs going to a
# scratch directory (the committed corpus is only read), and writes one
# automake-style BUILDDIR/tests/fuzz/run-NAME.trs per target so the
# results count with the others.  A crash, leak, timeout or sanitizer
# report fails the target; its input is printed (hex) and kept in
# BUILDDIR/tests/fuzz/artifacts/ to be added to the corpus.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
secs=${2:-30}
shift $(($# >= 2 ? 2 : 1))
[ -x "$top/configure" ] && [ "$top/configure" -nt "$top/configure.ac" ] ||
    (cd "$top" && autoreconf -fi)
mkdir -p "$dir"
cd "$dir" || exit 2
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" -q --enable-fuzzing CC=clang || exit 2
fi
if [ $# -eq 0 ]; then
	for c in "$top"/tests/fuzz/corpus/*/; do
		set -- "$@" "$(basename "$c")"
	done
fi
bins=
for t in "$@"; do
	bins="$bins tests/fuzz/fuzz-$t"
done
echo "== fuzz: build"
# shellcheck disable=SC2086
if ! make -j"$(nproc)" $bins >build.out 2>&1; then
	tail -30 build.out
	echo "== fuzz: BUILD FAILED"
	exit 1
fi
mkdir -p tests/fuzz/artifacts
status=0
for t in "$@"; do
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/kzfuzz-$t.XXXXXX")
	log=tests/fuzz/run-$t.log
	trs=tests/fuzz/run-$t.trs
	start=$(date +%s)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    nice "tests/fuzz/fuzz-$t" -max_total_time="$secs" \
	    -dict="$top/tests/fuzz/fuzz-$t.dict" -max_len=65536 -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="tests/fuzz/artifacts/$t-" \
	    "$scratch" "$top/tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	elapsed=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		res=PASS
		echo "   fuzz $t: ${runs:-?} executions in ${elapsed}s, no finding"
	else
		res=FAIL
		status=1
		echo "   fuzz $t: FAILED after ${runs:-?} executions (exit $rc)"
		grep -E -A25 'ERROR: |runtime error|==[0-9]+==|deadly signal' \
		    "$log" | head -60 | sed 's/^/     /'
		for a in tests/fuzz/artifacts/"$t"-*; do
			[ -f "$a" ] || continue
			echo "     input $a (copy it into tests/fuzz/corpus/$t/):"
			od -An -tx1 -v "$a" | head -40 | sed 's/^/     /'
		done
	fi
	printf ':test-result: %s\n:global-test-result: %s\n' "$res" "$res" \
	    >"$trs"
	rm -rf "$scratch"
done
exit $status
