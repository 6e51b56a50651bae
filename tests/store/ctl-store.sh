#!/bin/sh
# SPDX-License-Identifier: ISC
# kmsauthzctl import / export / backup on a store directory: exit codes,
# refusals that change nothing, deterministic export, the round trip.
CTL=${top_builddir:-.}/src/ctl/kmsauthzctl
W=${top_builddir:-.}/tests/store/crash-writer
SRC=${top_srcdir:-.}
B=$SRC/etc/example-bundle.json
T=$(mktemp -d)
holder=
trap '[ -n "$holder" ] && kill -KILL $holder 2>/dev/null; rm -rf "$T"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$T/err"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
echo "1..32"

"$CTL" import --db "$T/a" "$B" >"$T/out" 2>"$T/err"
check "import into a new directory" '[ $? -eq 0 ] && [ -f "$T/a/data.mdb" ]'
"$CTL" export --db "$T/a" >"$T/e1" 2>"$T/err"
check "export" '[ $? -eq 0 ] && [ -s "$T/e1" ]'
"$CTL" export --db "$T/a" >"$T/e1b" 2>"$T/err"
check "export twice: same bytes" 'cmp -s "$T/e1" "$T/e1b"'
"$CTL" import --db "$T/b" "$T/e1" >"$T/out" 2>"$T/err"
"$CTL" export --db "$T/b" >"$T/e2" 2>"$T/err"
check "export, import, export: same bytes" 'cmp -s "$T/e1" "$T/e2"'

# RAM policy versions (the Versions form): every version, its id and
# CreateDate survive export, import, export byte for byte; a policy whose
# only version is v1 is exported flat.
V=$SRC/tests/store/versions-bundle.json
"$CTL" import --db "$T/v" "$V" >"$T/out" 2>"$T/err" &&
    "$CTL" export --db "$T/v" >"$T/v1" 2>"$T/err"
check "versions: import and export" '[ $? -eq 0 ]'
check "... every version with its id, default flag and date" \
    'tr -d " \n" <"$T/v1" | grep -q "\"PolicyName\":\"Versioned\",\"Account\":\"[0-9]*\",\"Versions\":\[{\"VersionId\":\"v1\",\"IsDefaultVersion\":false,\"CreateDate\":\"2026-01-02T03:04:05Z\",.*{\"VersionId\":\"v3\",\"IsDefaultVersion\":true,\"CreateDate\":\"2026-02-03T04:05:06.250Z\",.*{\"VersionId\":\"v4\",\"IsDefaultVersion\":false,\"CreateDate\":" &&
     tr -d " \n" <"$T/v1" | grep -q "\"PolicyName\":\"OneFirstVersion\",\"Account\":\"[0-9]*\",\"PolicyDocument\"" &&
     tr -d " \n" <"$T/v1" | grep -q "\"PolicyName\":\"OneLaterVersion\",\"Account\":\"[0-9]*\",\"Versions\":\[{\"VersionId\":\"v2\""'
"$CTL" import --db "$T/v2" "$T/v1" >"$T/out" 2>"$T/err"
"$CTL" export --db "$T/v2" >"$T/v2e" 2>>"$T/err"
check "versions: export, import, export: same bytes" 'cmp -s "$T/v1" "$T/v2e"'

"$CTL" import --db "$T/a" "$B" >"$T/out" 2>"$T/err"
rc=$?
"$CTL" export --db "$T/a" >"$T/e3" 2>>"$T/err"
check "a non-empty store is refused without --replace (exit 2)" \
    '[ $rc -eq 2 ] && grep -q "not empty" "$T/err"'
check "... and left as it was" 'cmp -s "$T/e1" "$T/e3"'

printf '{"FormatVersion":1}' >"$T/empty.json"
"$CTL" import --db "$T/a" --replace "$T/empty.json" >"$T/out" 2>"$T/err"
rc=$?
"$CTL" export --db "$T/a" >"$T/e4" 2>>"$T/err"
check "--replace swaps the whole state" \
    '[ $rc -eq 0 ] && ! cmp -s "$T/e1" "$T/e4" && grep -q "generation 2" "$T/out"'
"$CTL" import --db "$T/a" --replace "$B" >"$T/out" 2>"$T/err"
"$CTL" export --db "$T/a" >"$T/e5" 2>>"$T/err"
check "--replace back: same export as at first" 'cmp -s "$T/e1" "$T/e5"'

# A rejected bundle: exit 1, every error listed, nothing changed.
cat >"$T/bad.json" <<'J'
{"FormatVersion":1,
 "Keys":[{"KeyId":"k1","Region":"r","Creator":"111","KeyState":"Bogus"}],
 "Policies":[{"PolicyName":"P","Account":"111","PolicyDocument":{"Version":"2","Statement":[]}}]}
J
"$CTL" import --db "$T/a" --replace "$T/bad.json" >"$T/out" 2>"$T/err"
rc=$?
"$CTL" export --db "$T/a" >"$T/e6" 2>>"$T/err"
check "an invalid bundle: exit 1" '[ $rc -eq 1 ]'
check "... every error listed" '[ $(grep -c . "$T/err") -ge 2 ] && grep -q "Keys\[0\]" "$T/err" && grep -q "Policies\[0\]" "$T/err"'
check "... and nothing changed" 'cmp -s "$T/e1" "$T/e6"'
"$CTL" import --db "$T/never" "$T/bad.json" >"$T/out" 2>"$T/err"
check "a rejected bundle creates no store" '[ $? -eq 1 ] && [ ! -e "$T/never" ]'

"$CTL" import "$B" >"$T/out" 2>"$T/err"
check "usage: no --db (exit 2)" '[ $? -eq 2 ]'
"$CTL" import --db "$T/a" >"$T/out" 2>"$T/err"
check "usage: no file (exit 2)" '[ $? -eq 2 ]'
"$CTL" import --db "$T/c" "$T/missing.json" >"$T/out" 2>"$T/err"
check "a missing file (exit 2)" '[ $? -eq 2 ] && grep -q "missing.json" "$T/err"'
"$CTL" export --db "$T/nothing" >"$T/out" 2>"$T/err"
check "export of no store (exit 2, path named)" \
    '[ $? -eq 2 ] && grep -q "$T/nothing" "$T/err"'
mkdir "$T/foreign" && echo hi >"$T/foreign/notes"
"$CTL" import --db "$T/foreign" "$B" >"$T/out" 2>"$T/err"
check "a foreign directory is refused (exit 2) and untouched" \
    '[ $? -eq 2 ] && grep -q "not a kmsauthz store" "$T/err" && [ ! -e "$T/foreign/data.mdb" ]'

# A second writer is refused and told the holder's pid.
"$W" write "$T/held" "$T/acks" 2>/dev/null &
holder=$!
i=0
while [ ! -s "$T/acks" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$CTL" import --db "$T/held" --replace "$B" >"$T/out" 2>"$T/err"
check "import into a held store: exit 2 naming the holder's pid" \
    '[ $? -eq 2 ] && grep -q "pid $holder" "$T/err"'
# export and backup work beside the writer.
"$CTL" export --db "$T/held" >"$T/eh" 2>"$T/err"
check "export beside a running writer" '[ $? -eq 0 ] && [ -s "$T/eh" ]'
"$CTL" backup --db "$T/held" "$T/bk" >"$T/out" 2>"$T/err"
rc=$?
kill -KILL $holder; wait $holder 2>/dev/null; holder=
"$W" verify "$T/bk" /dev/null >"$T/out" 2>"$T/err"
vrc=$?
check "backup beside a running writer is a consistent store" \
    '[ $rc -eq 0 ] && [ $vrc -eq 0 ]'
"$CTL" backup --db "$T/a" "$T/bk" >"$T/out" 2>"$T/err"
check "backup refuses a destination holding a store" \
    '[ $? -eq 2 ] && grep -q "already holds" "$T/err"'
"$CTL" backup --db "$T/a" "$T/bk2" >"$T/out" 2>"$T/err" &&
    "$CTL" export --db "$T/bk2" >"$T/e7" 2>>"$T/err"
check "backup, export of the copy: same bytes" 'cmp -s "$T/e1" "$T/e7"'

# A failed import leaves nothing it created: the commit fails (a file
# size limit, SIGXFSZ ignored so that write returns EFBIG) after DIR and
# a new store were made.
awk 'BEGIN {
	printf "{\"FormatVersion\":1,\"Instances\":[{\"InstanceId\":\"kst-1\",";
	printf "\"State\":\"Enabled\",\"ShareQuota\":5}],\"Keys\":[";
	for (i = 0; i < 3000; i++)
		printf "%s{\"KeyId\":\"key-%06d\",\"Region\":\"cn-hangzhou\",\"Creator\":\"1192853035118888\",\"DKMSInstanceId\":\"kst-1\",\"KeyState\":\"Enabled\",\"Tags\":{\"Project\":\"p%d\"}}", i ? "," : "", i, i;
	printf "]}\n";
}' >"$T/big.json"
(trap '' XFSZ; ulimit -f 256; exec "$CTL" import --db "$T/lim" "$T/big.json") \
    >"$T/out" 2>"$T/err"
rc=$?
check "an import that fails after creating DIR: exit 2, the cause named" \
    '[ $rc -eq 2 ] && grep -q "import failed" "$T/err"'
check "... and DIR is gone" '[ ! -e "$T/lim" ]'
mkdir "$T/lim2"
(trap '' XFSZ; ulimit -f 256; exec "$CTL" import --db "$T/lim2" "$T/big.json") \
    >"$T/out" 2>"$T/err"
check "... into an empty DIR that was there: DIR kept, empty" \
    '[ $? -eq 2 ] && [ -d "$T/lim2" ] && [ -z "$(ls -A "$T/lim2")" ]'
"$CTL" import --db "$T/lim3" "$T/big.json" >"$T/out" 2>"$T/err"
check "... and the same import without the limit works" '[ $? -eq 0 ]'

# Identifiers a later change would refuse are refused on import.
sed 's/"KeyId": "\(key-[^"]*\)"/"KeyId": "\1'"$(printf '%0400d' 0)"'"/' "$B" \
    >"$T/longid.json"
"$CTL" import --db "$T/longid" "$T/longid.json" >"$T/out" 2>"$T/err"
check "a 404-byte KeyId: exit 1, the key named, no DIR" \
    '[ $? -eq 1 ] && grep -q "Keys\[0\]" "$T/err" && [ ! -e "$T/longid" ]'

# A damaged data.mdb: refused with the file and the cause, never a
# crash (SIGBUS, exit 135), nothing changed.
cp -R "$T/a" "$T/tr"
sz=$(wc -c <"$T/tr/data.mdb")
truncate -s $((sz - 4096)) "$T/tr/data.mdb"
"$CTL" export --db "$T/tr" >"$T/out" 2>"$T/err"
e=$?
"$CTL" import --db "$T/tr" --replace "$B" >"$T/out" 2>>"$T/err"
rc=$?
check "one page short: export and import --replace exit 2, file named" \
    '[ $e -eq 2 ] && [ $rc -eq 2 ] && grep -q "$T/tr/data.mdb: truncated" "$T/err" &&
     [ $(wc -c <"$T/tr/data.mdb") -eq $((sz - 4096)) ]'
: >"$T/tr/data.mdb"
"$CTL" export --db "$T/tr" >"$T/out" 2>"$T/err"
e=$?
"$CTL" import --db "$T/tr" --replace "$B" >"$T/out" 2>>"$T/err"
rc=$?
check "empty data.mdb: refused (not re-initialised), the cause named" \
    '[ $e -eq 2 ] && [ $rc -eq 2 ] && [ $(grep -c "data.mdb: empty (0 bytes)" "$T/err") -eq 2 ] &&
     [ ! -s "$T/tr/data.mdb" ]'
