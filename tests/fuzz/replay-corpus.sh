#!/bin/sh
# SPDX-License-Identifier: ISC
# Replays every fuzz corpus (tests/fuzz/corpus/NAME/) through its
# tests/fuzz/replay-NAME binary: one TAP line per corpus.  A corpus
# without a replay binary, an empty corpus or a crash is a failure.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"

set -- "$top_srcdir"/tests/fuzz/corpus/*/
if [ ! -d "$1" ]; then
	echo "1..0 # SKIP no corpus"
	exit 0
fi
echo "1..$#"
i=0
for dir in "$@"; do
	i=$((i + 1))
	name=$(basename "$dir")
	bin="$top_builddir/tests/fuzz/replay-$name"
	if [ ! -x "$bin" ]; then
		echo "not ok $i - $name: no $bin"
		continue
	fi
	if out=$("$bin" "$dir" 2>&1); then
		echo "ok $i - $name: $(printf '%s\n' "$out" | tail -n 1)"
	else
		echo "not ok $i - $name"
		printf '%s\n' "$out" | tail -n 40 | sed 's/^/# /'
	fi
done
