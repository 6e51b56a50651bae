#!/bin/sh
# SPDX-License-Identifier: ISC
# kmsauthzctl validate's warnings (policy_lint): each document of
# tests/policy/lint gives exactly the warnings lint-expect.tsv lists, as
# WARNING<TAB>CODE<TAB>PATH<TAB>REASON lines before OK, exit 0; exit 1
# with --strict when there is any; an invalid document is still only its
# errors; and a typo'd action names the action it meant.
: "${top_srcdir:=.}" "${top_builddir:=.}"
CTL="$top_builddir/src/ctl/kmsauthzctl"
P="$top_srcdir/tests/policy"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
tab=$(printf '\t')
n=0
t() {	# t STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
cases=$(grep -v '^#' "$P/lint-expect.tsv" | grep -c .)
echo "1..$((cases * 2 + 4))"

grep -v '^#' "$P/lint-expect.tsv" | grep . >"$T/cases"
while IFS="$tab" read -r file kind account rest; do
	set -- --kind "$kind"
	[ "$account" != - ] && set -- "$@" --account "$account"
	"$CTL" validate "$@" "$P/lint/$file" >"$T/out" 2>&1
	rc=$?
	printf '%s\n' "$rest" | tr "$tab" '\n' | grep . >"$T/want" || : >"$T/want"
	grep '^WARNING' "$T/out" | cut -f2,3 | tr "$tab" ' ' >"$T/got"
	[ $rc -eq 0 ] && [ "$(tail -1 "$T/out")" = OK ] &&
	    cmp -s "$T/want" "$T/got"
	t $? "$file ($kind, account $account): $(tr '\n' ';' <"$T/got")"
	"$CTL" validate --strict "$@" "$P/lint/$file" >/dev/null 2>&1
	rc=$?
	if [ -s "$T/want" ]; then [ $rc -eq 1 ]; else [ $rc -eq 0 ]; fi
	t $? "$file --strict: exit $rc"
done <"$T/cases"

"$CTL" validate --kind ram "$P/lint/typo-action.json" >"$T/out"
grep -q "^WARNING${tab}UnknownAction${tab}Statement\[0\]\.Action\[0\]${tab}kms:Decrpyt is not a KMS API action; did you mean kms:Decrypt?\$" "$T/out"
t $? "a typo names the action it meant"
# An invalid document: its errors alone, exit 1 (warnings need validity).
printf '%s' '{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrpyt"}]}' >"$T/bad.json"
"$CTL" validate --kind ram "$T/bad.json" >"$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && ! grep -q WARNING "$T/out" && grep -q '^InvalidParameter' "$T/out"
t $? "an invalid document: its errors only, exit $rc"
"$CTL" validate --kind ram --account 12x "$P/lint/clean.json" >/dev/null 2>&1
[ $? -eq 2 ]
t $? "--account takes an account id"
# Many copies of one mistake: at most 100 listed, then the count.
python3 -c 'import json
print(json.dumps({"Version": "1", "Statement": [{"Effect": "Allow",
    "Action": "kms:Decrpyt", "Resource": "*", "Sid": "s%d" % i}
    for i in range(150)]}))' >"$T/many.json"
"$CTL" validate --kind ram --max-bytes 65536 "$T/many.json" >"$T/out"
[ "$(grep -c '^WARNING' "$T/out")" -eq 101 ] &&
    grep -q "^WARNING${tab}TooManyWarnings${tab}-${tab}" "$T/out"
t $? "warnings are bounded: 100 and a count ($(grep -c '^WARNING' "$T/out") lines)"
