#!/bin/sh
# Crash safety: a writer commits numbered changes and records each
# acknowledgement; it is killed with SIGKILL at random moments; every
# round the store is reopened and checked (tests/store/crash-writer.c).
ROUNDS=${CRASH_ROUNDS:-60}
W=${top_builddir:-.}/tests/store/crash-writer
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "1..$((ROUNDS + 1))"
i=1
while [ $i -le $ROUNDS ]; do
	"$W" write "$T/db" "$T/acks" 2>"$T/err" &
	pid=$!
	# 5-200 ms: early rounds land in start-up, later ones mid-commit.
	ms=$(( ($(od -An -N2 -tu2 /dev/urandom) % 196) + 5 ))
	sleep "$(printf '0.%03d' $ms)"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	if out=$("$W" verify "$T/db" "$T/acks" 2>&1); then
		echo "ok $i - round $i (killed after ${ms} ms): $out"
	else
		echo "not ok $i - round $i (killed after ${ms} ms): $out"
		cat "$T/err"
	fi
	i=$((i + 1))
done
last=$(tail -n 1 "$T/acks" 2>/dev/null)
if [ "${last:-0}" -ge $((ROUNDS / 2)) ]; then
	echo "ok $i - $last changes acknowledged over $ROUNDS kills"
else
	echo "not ok $i - only ${last:-0} changes acknowledged"
fi
