#!/bin/sh
# SPDX-License-Identifier: ISC
# Bootstrap, configure and build into a build directory.
# usage: scripts/build.sh BUILDDIR [configure options...]
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
[ -x "$top/configure" ] && [ "$top/configure" -nt "$top/configure.ac" ] ||
    (cd "$top" && autoreconf -fi)
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" -q "$@"
fi
make -j"$(nproc)" >/dev/null
