#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Turns pytest's JUnit XML into TAP lines, one per test case.

usage: junit2tap.py JUNIT.XML FIRST-NUMBER
Prints "ok N - name" / "not ok N - name" (failures and errors, with the
message as # lines) / "ok N - name # SKIP reason"; exits 1 when the file
holds no test case at all.
"""
import sys
import xml.etree.ElementTree as ET

path, n = sys.argv[1], int(sys.argv[2])
cases = list(ET.parse(path).getroot().iter("testcase"))
for tc in cases:
    name = "%s::%s" % (tc.get("classname", "").split(".")[-1],
                       tc.get("name", "?"))
    name = name.replace("#", "%23")
    bad = tc.find("failure")
    if bad is None:
        bad = tc.find("error")
    skip = tc.find("skipped")
    if bad is not None:
        print("not ok %d - %s" % (n, name))
        text = (bad.get("message") or "") + "\n" + (bad.text or "")
        for line in text.strip().splitlines()[-40:]:
            print("# " + line)
    elif skip is not None:
        print("ok %d - %s # SKIP %s" % (n, name,
                                        (skip.get("message") or "")[:200]
                                        .replace("\n", " ")))
    else:
        print("ok %d - %s" % (n, name))
    n += 1
sys.exit(0 if cases else 1)
