#!/bin/sh
# Build everything and run kmsauthz on its embedded default, from a fresh
# Debian 12 machine (as root).  Until the daemon exists, this runs the
# offline tools on the examples in etc/.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh
sh scripts/build.sh "$top/_build/gcc" --enable-werror CC=gcc
ctl=$top/_build/gcc/src/ctl/kmsauthzctl
echo "== kmsauthzctl $("$ctl" version)"
