#!/bin/sh
# SPDX-License-Identifier: ISC
# Crash safety: a writer commits numbered changes and records each
# acknowledgement; it is killed with SIGKILL at random moments; every
# round the store is reopened and checked (tests/store/crash-writer.c).
# On a slow machine (a sanitizer build under load) the random rounds may
# end before enough changes were committed to mean anything: rounds with
# a longer life follow until they were (the plan is printed at the end).
ROUNDS=${CRASH_ROUNDS:-60}
W=${top_builddir:-.}/tests/store/crash-writer
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
i=1

# round N DELAY-SECONDS
round() {
	"$W" write "$T/db" "$T/acks" 2>"$T/err" &
	pid=$!
	sleep "$2"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	if out=$("$W" verify "$T/db" "$T/acks" 2>&1); then
		echo "ok $1 - round $1 (killed after $2 s): $out"
	else
		echo "not ok $1 - round $1 (killed after $2 s): $out"
		cat "$T/err"
	fi
}

while [ $i -le $ROUNDS ]; do
	# 5-200 ms: early rounds land in start-up, later ones mid-commit.
	ms=$(( ($(od -An -N2 -tu2 /dev/urandom) % 196) + 5 ))
	round $i "$(printf '0.%03d' $ms)"
	i=$((i + 1))
done
extra=0
while [ "$(tail -n 1 "$T/acks" 2>/dev/null || echo 0)" -lt $((ROUNDS / 2)) ] &&
    [ $extra -lt 20 ]; do
	round $i 1
	i=$((i + 1))
	extra=$((extra + 1))
done
last=$(tail -n 1 "$T/acks" 2>/dev/null)
if [ "${last:-0}" -ge $((ROUNDS / 2)) ]; then
	echo "ok $i - $last changes acknowledged over $((i - 1)) kills"
else
	echo "not ok $i - only ${last:-0} changes acknowledged over $((i - 1)) kills"
fi
echo "1..$i"
