#!/bin/sh
# SPDX-License-Identifier: ISC
# Permission failures as a real unprivileged user.  As root, chmod proves
# nothing (root ignores it), so every case runs kmsauthzctl as uid/gid
# 65534 through setpriv.  Each refusal must exit 2 naming the path and
# the cause, and leave the store exactly as it was.
CTL=$(cd "${top_builddir:-.}" && pwd)/src/ctl/kmsauthzctl
B=$(cd "${top_srcdir:-.}" && pwd)/etc/example-bundle.json
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	echo "1..0 # SKIP needs root and setpriv to become an unprivileged user"
	exit 0
fi
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
chmod 0755 "$T"
cp "$B" "$T/bundle.json" && chmod 0644 "$T/bundle.json"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
if ! nobody test -x "$CTL"; then
	echo "1..0 # SKIP $CTL is not reachable for uid 65534"
	exit 0
fi
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$T/err"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
echo "1..9"

# A store of root's (0700): the unprivileged user can neither read nor
# write it.
"$CTL" import --db "$T/root" "$T/bundle.json" >/dev/null 2>&1
"$CTL" export --db "$T/root" >"$T/before" 2>/dev/null
nobody "$CTL" export --db "$T/root" >"$T/out" 2>"$T/err"
check "export of a store it may not read: exit 2, path and cause" \
    '[ $? -eq 2 ] && grep -q "$T/root" "$T/err" && grep -q "Permission denied" "$T/err"'
nobody "$CTL" import --db "$T/root" --replace "$T/bundle.json" >"$T/out" 2>"$T/err"
check "import into a store it may not write: exit 2, path and cause" \
    '[ $? -eq 2 ] && grep -q "$T/root" "$T/err" && grep -q "Permission denied" "$T/err"'
"$CTL" export --db "$T/root" >"$T/after" 2>/dev/null
check "... the store is unchanged" 'cmp -s "$T/before" "$T/after"'

# A directory it may not create.
mkdir "$T/rootonly" && chmod 0755 "$T/rootonly"
nobody "$CTL" import --db "$T/rootonly/db" "$T/bundle.json" >"$T/out" 2>"$T/err"
check "a store directory it cannot create: exit 2, path and cause" \
    '[ $? -eq 2 ] && grep -q "$T/rootonly/db" "$T/err" && grep -q "Permission denied" "$T/err" && [ ! -e "$T/rootonly/db" ]'

# Its own store, made read-only.
mkdir "$T/own" && chown 65534:65534 "$T/own"
nobody "$CTL" import --db "$T/own/db" "$T/bundle.json" >"$T/out" 2>"$T/err"
check "its own store: import works" '[ $? -eq 0 ]'
nobody "$CTL" export --db "$T/own/db" >"$T/before" 2>"$T/err"
chmod 0555 "$T/own/db" && chmod 0444 "$T/own/db"/*
nobody "$CTL" import --db "$T/own/db" --replace "$T/bundle.json" >"$T/out" 2>"$T/err"
check "import into its read-only store: exit 2, path and cause" \
    '[ $? -eq 2 ] && grep -q "$T/own/db" "$T/err" && grep -q "Permission denied" "$T/err"'
chmod 0700 "$T/own/db" && chmod 0600 "$T/own/db"/*
nobody "$CTL" backup --db "$T/own/db" "$T/rootonly/bk" >"$T/out" 2>"$T/err"
check "backup into a directory it may not write: exit 2, path and cause" \
    '[ $? -eq 2 ] && grep -q "$T/rootonly/bk" "$T/err" && grep -q "Permission denied" "$T/err"'
nobody "$CTL" export --db "$T/own/db" >"$T/after" 2>"$T/err"
check "... the store is unchanged" 'cmp -s "$T/before" "$T/after"'
nobody "$CTL" import --db "$T/own/db" --replace "$T/bundle.json" >"$T/out" 2>"$T/err"
check "... and writable again once its modes are" '[ $? -eq 0 ]'
