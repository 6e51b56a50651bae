#!/bin/sh
# SPDX-License-Identifier: ISC
# No function in src/ is longer than 150 lines (CONTRIBUTING.md, Style).
# A function is counted in KNF layout: from its name at the start of a
# line to its closing brace in column 0.  The five longest are printed
# as TAP comments; FUNCLEN_MAX changes the limit.
: "${top_srcdir:=.}" "${FUNCLEN_MAX:=150}"
echo "1..1"
lens=$(find "$top_srcdir/src" -name '*.c' | sort | xargs awk '
FNR == 1 { name = ""; open = 0 }
/^[A-Za-z_][A-Za-z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name); at = FNR }
/^\{/ && name != "" { open = 1 }
/^\}/ && open {
	f = FILENAME; sub(/.*\/src\//, "src/", f)
	printf "%d %s:%d %s\n", FNR - at + 1, f, at, name
	open = 0; name = ""
}' | sort -rn)
echo "$lens" | head -5 | sed 's/^/# /'
over=$(echo "$lens" | awk -v max="$FUNCLEN_MAX" '$1 > max' | head -3)
if [ -n "$lens" ] && [ -z "$over" ]; then
	echo "ok 1 - $(echo "$lens" | wc -l) functions, none over $FUNCLEN_MAX lines"
else
	echo "not ok 1 - over $FUNCLEN_MAX lines:" $over
fi
