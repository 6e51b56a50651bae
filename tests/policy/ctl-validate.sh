#!/bin/sh
# SPDX-License-Identifier: ISC
# kmsauthzctl validate: output format and exit codes (0 valid, 1 invalid,
# 2 usage or I/O), and agreement with tests/policy/expect.tsv for every
# document of the tables.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
CTL="$top_builddir/src/ctl/kmsauthzctl"
P="$top_srcdir/tests/policy"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT

n=0
fails=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
}
# check NAME WANT_RC WANT_STDOUT_FILE_OR_- CMD...
run() {
	"$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}

echo "1..15"

run "$CTL" validate --kind key "$P/valid/key/default-key-policy.json"
if [ "$(cat "$T/rc")" = 0 ] && [ "$(cat "$T/out")" = OK ]; then
	ok "valid key policy: OK, exit 0"
else
	notok "valid key policy: OK, exit 0"
fi

run "$CTL" validate --kind ram - <"$P/valid/ram/page-custom-source-ip.json"
if [ "$(cat "$T/rc")" = 0 ] && [ "$(cat "$T/out")" = OK ]; then
	ok "standard input"
else
	notok "standard input"
fi

run "$CTL" validate --kind ram "$P/invalid/ram/many-violations.json"
tab=$(printf '\t')
if [ "$(cat "$T/rc")" = 1 ] && [ "$(wc -l <"$T/out")" -eq 9 ] &&
    ! grep -v "^InvalidParameter${tab}[^${tab}]*${tab}[^${tab}][^${tab}]*\$" "$T/out" >/dev/null; then
	ok "invalid: one CODE TAB PATH TAB REASON line per violation, exit 1"
else
	notok "invalid: one CODE TAB PATH TAB REASON line per violation, exit 1"
	sed 's/^/# /' "$T/out"
fi

run "$CTL" validate --kind key "$P/invalid/key/json-empty-file.json"
if [ "$(cat "$T/rc")" = 1 ] && grep -q "^InvalidParameter$tab-$tab" "$T/out"; then
	ok "a document-level violation has path -"
else
	notok "a document-level violation has path -"
fi

# The kind matters: a valid RAM policy is no key policy.
run "$CTL" validate --kind key "$P/valid/ram/page-custom-all-kms-resources.json"
if [ "$(cat "$T/rc")" = 1 ]; then
	ok "kind key on a RAM policy: exit 1"
else
	notok "kind key on a RAM policy: exit 1"
fi

run "$CTL" validate --kind ram --max-bytes 6143 "$P/valid/ram/size-exactly-6144.json"
r1=$(cat "$T/rc")
run "$CTL" validate --kind ram --max-bytes 7000 "$P/invalid/ram/size-6145.json"
r2=$(cat "$T/rc")
if [ "$r1" = 1 ] && [ "$r2" = 0 ]; then
	ok "--max-bytes sets the RAM limit"
else
	notok "--max-bytes sets the RAM limit ($r1 $r2)"
fi

for args in "validate" "validate --kind key" "validate --kind foo $P/valid/key/default-key-policy.json" \
    "validate $P/valid/key/default-key-policy.json" \
    "validate --kind key $P/valid/key/default-key-policy.json extra" \
    "validate --kind key --max-bytes 100 $P/valid/key/default-key-policy.json" \
    "validate --kind ram --max-bytes x1 $P/valid/key/default-key-policy.json"; do
	# shellcheck disable=SC2086
	run "$CTL" $args
	if [ "$(cat "$T/rc")" = 2 ] && [ -s "$T/err" ]; then
		ok "usage error, exit 2: $args"
	else
		notok "usage error, exit 2: $args"
	fi
done

run "$CTL" validate --kind key "$T/does-not-exist.json"
if [ "$(cat "$T/rc")" = 2 ] && [ -s "$T/err" ]; then
	ok "unreadable file: exit 2"
else
	notok "unreadable file: exit 2"
fi

# Every table document: OK for valid/ (after its warnings, if any), the
# paths of expect.tsv for invalid/, in order.
bad=0
for f in "$P"/valid/key/*.json "$P"/valid/ram/*.json "$P"/invalid/key/*.json "$P"/invalid/ram/*.json; do
	rel=${f#"$P"/}
	kind=$(echo "$rel" | cut -d/ -f2)
	"$CTL" validate --kind "$kind" "$f" >"$T/out" 2>"$T/err"
	rc=$?
	case $rel in
	valid/*)
		# Valid: OK last, after any warnings (tests/policy/ctl-lint.sh).
		if [ $rc != 0 ] || [ "$(tail -1 "$T/out")" != OK ] ||
		    [ "$(grep -vc '^WARNING	' "$T/out")" != 1 ]; then
			echo "# $rel: exit $rc"
			bad=$((bad + 1))
		fi
		;;
	*)
		grep -v '^#' "$P/expect.tsv" | awk -F'\t' -v f="${rel#invalid/}" \
		    '$1 == f { print $2 "\t" $3 }' >"$T/want"
		cut -f1,2 "$T/out" >"$T/got"
		if [ $rc != 1 ] || ! cmp -s "$T/want" "$T/got"; then
			echo "# $rel: exit $rc, paths differ from expect.tsv"
			bad=$((bad + 1))
		fi
		;;
	esac
done
if [ $bad = 0 ]; then
	ok "every table document, through kmsauthzctl"
else
	notok "every table document, through kmsauthzctl ($bad differ)"
fi
[ $fails = 0 ]
