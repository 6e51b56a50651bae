#!/bin/sh
# SPDX-License-Identifier: ISC
# check-format.sh: verifies the structure of the conformance tables
# (tests/conformance/*.json and tests/conformance/invalid-bundles/*.json),
# not their answers: required fields, known decisions and reasons, unique
# case ids, decision/reason agreement, every Why citing a rule, at least
# 150 cases in all.  TAP.
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=$top/tests/conformance
exec python3 - "$dir" <<'PYEOF'
import json, os, sys, re

d = sys.argv[1]
REASONS = {
    "allowed-by-identity-policy": "ALLOW", "allowed-by-key-policy": "ALLOW",
    "allowed-by-both": "ALLOW", "allowed-as-account-root": "ALLOW",
    "explicit-deny": "EXPLICIT_DENY", "no-matching-allow": "IMPLICIT_DENY",
    "cross-account-needs-identity-allow": "IMPLICIT_DENY",
    "cross-account-needs-key-policy-allow": "IMPLICIT_DENY",
    "key-not-found": "IMPLICIT_DENY", "invalid-request": "IMPLICIT_DENY"}
BUNDLE_FIELDS = {"FormatVersion", "Instances", "Keys", "Aliases", "Policies",
                 "Users", "Roles", "Groups"}
REQ_FIELDS = {"Principal", "Action", "Resource", "SourceIp", "Context",
              "CurrentTime"}
results = []
def ok(cond, what):
    results.append((bool(cond), what))
    return bool(cond)

def dupkeys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in object: %r" % keys)
    return dict(pairs)

def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=dupkeys), None
    except Exception as e:
        return None, str(e)

def check_matched(m, where, errs):
    if not isinstance(m, list):
        errs.append(where + ": Matched not a list"); return
    seen = set()
    for e in m:
        if not isinstance(e, dict) or not set(e) <= {"Source", "Index", "Sid"}:
            errs.append(where + ": bad Matched entry %r" % (e,)); continue
        src, idx = e.get("Source"), e.get("Index")
        if not isinstance(src, str) or not re.match(r"^(policy|key)/.+", src):
            errs.append(where + ": bad Source %r" % (src,))
        if not isinstance(idx, int) or isinstance(idx, bool) or idx < 0:
            errs.append(where + ": bad Index %r" % (idx,))
        if "Sid" in e and not isinstance(e["Sid"], str):
            errs.append(where + ": bad Sid")
        t = (src, idx, e.get("Sid"))
        if t in seen:
            errs.append(where + ": duplicate Matched entry")
        seen.add(t)

total = 0
allids = {}
files = sorted(f for f in os.listdir(d) if f.endswith(".json"))
ok(files, "conformance case files present")
for fn in files:
    doc, err = load(os.path.join(d, fn))
    if not ok(doc is not None, "%s: valid JSON%s" % (fn, "" if err is None else " (" + err + ")")):
        continue
    errs = []
    if not isinstance(doc, dict) or set(doc) != {"Description", "Bundle", "Cases"}:
        errs.append("top level must be exactly Description, Bundle, Cases")
        doc = doc if isinstance(doc, dict) else {}
    b = doc.get("Bundle")
    if not isinstance(b, dict) or not set(b) <= BUNDLE_FIELDS or b.get("FormatVersion") != 1:
        errs.append("Bundle: not an object of known fields with FormatVersion 1")
    cases = doc.get("Cases")
    if not isinstance(cases, list) or not cases:
        errs.append("Cases: not a non-empty list"); cases = []
    for i, c in enumerate(cases):
        w = "Cases[%d]" % i
        if not isinstance(c, dict) or set(c) != {"Id", "Why", "Request", "Expect"}:
            errs.append(w + ": must have exactly Id, Why, Request, Expect"); continue
        cid = c["Id"]
        if not isinstance(cid, str) or not cid:
            errs.append(w + ": bad Id"); continue
        w = "%s (%s)" % (w, cid)
        if cid in allids:
            errs.append(w + ": Id also used in " + allids[cid])
        allids[cid] = fn
        if not isinstance(c["Why"], str) or len(c["Why"]) < 5 or "\n" in c["Why"]:
            errs.append(w + ": Why must be a one-line reason")
        elif not re.search(r"§[1-6]|docs/semantics\.md", c["Why"]):
            errs.append(w + ": Why must cite its rule (§N of docs/semantics.md, or docs/semantics.md)")
        r = c["Request"]
        if not isinstance(r, dict) or not {"Principal", "Action", "Resource", "CurrentTime"} <= set(r) or not set(r) <= REQ_FIELDS:
            errs.append(w + ": Request needs Principal, Action, Resource, CurrentTime and nothing unknown")
        else:
            for k in ("Principal", "Action", "Resource", "CurrentTime", "SourceIp"):
                if k in r and not isinstance(r[k], str):
                    errs.append(w + ": Request." + k + " not a string")
            ctx = r.get("Context", {})
            if not isinstance(ctx, dict) or not all(isinstance(v, (str, int, float, bool)) and v is not None for v in ctx.values()):
                errs.append(w + ": Context must map names to strings, numbers or booleans")
        e = c["Expect"]
        if not isinstance(e, dict) or set(e) != {"Decision", "Reason", "Matched"}:
            errs.append(w + ": Expect must have exactly Decision, Reason, Matched"); continue
        if e["Reason"] not in REASONS:
            errs.append(w + ": unknown Reason %r" % (e["Reason"],))
        elif REASONS[e["Reason"]] != e["Decision"]:
            errs.append(w + ": Decision %r does not go with Reason %r" % (e["Decision"], e["Reason"]))
        check_matched(e["Matched"], w, errs)
        if e["Decision"] == "IMPLICIT_DENY" and e["Matched"]:
            errs.append(w + ": IMPLICIT_DENY lists no statements")
        if e["Decision"] == "EXPLICIT_DENY" and not e["Matched"]:
            errs.append(w + ": EXPLICIT_DENY must list the denying statements")
        if e["Reason"] in ("allowed-by-identity-policy", "allowed-by-key-policy", "allowed-by-both") and not e["Matched"]:
            errs.append(w + ": ALLOW by a policy must list the allowing statements")
    total += len(cases)
    ok(not errs, "%s: %d cases well-formed%s" % (fn, len(cases), "".join("\n# " + x for x in errs[:20])))
ok(total >= 150, "at least 150 cases in all (%d)" % total)

# etc/example-bundle.json is the bundle of examples.json, byte for byte in meaning.
ex, err = load(os.path.join(d, "..", "..", "etc", "example-bundle.json"))
exc, _ = load(os.path.join(d, "examples.json"))
ok(ex is not None and exc is not None and ex == exc.get("Bundle"),
   "etc/example-bundle.json is valid JSON and is the Bundle of examples.json")

# Invalid bundles: {"Description", "Bundle" or "BundleText", "Errors": [{"Path", "Code"?}]}
idir = os.path.join(d, "invalid-bundles")
ifiles = sorted(f for f in os.listdir(idir) if f.endswith(".json")) if os.path.isdir(idir) else []
ok(len(ifiles) >= 30, "at least 30 invalid bundles (%d)" % len(ifiles))
for fn in ifiles:
    doc, err = load(os.path.join(idir, fn))
    if not ok(doc is not None, "invalid-bundles/%s: valid JSON%s" % (fn, "" if err is None else " (" + err + ")")):
        continue
    errs = []
    if not isinstance(doc, dict):
        errs.append("not an object"); doc = {}
    keys = set(doc)
    if not (keys == {"Description", "Bundle", "Errors"} or keys == {"Description", "BundleText", "Errors"}):
        errs.append("must be exactly Description, Errors and one of Bundle/BundleText")
    if "BundleText" in doc and not isinstance(doc["BundleText"], str):
        errs.append("BundleText must be a string")
    ers = doc.get("Errors")
    if not isinstance(ers, list) or not ers:
        errs.append("Errors must be a non-empty list")
    else:
        for e in ers:
            if not isinstance(e, dict) or "Path" not in e or not set(e) <= {"Path", "Code"} or not isinstance(e["Path"], str) \
               or ("Code" in e and not isinstance(e["Code"], str)):
                errs.append("bad Errors entry %r" % (e,))
    ok(not errs, "invalid-bundles/%s well-formed%s" % (fn, "".join("\n# " + x for x in errs)))

print("1..%d" % len(results))
for i, (good, what) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if good else "not ok", i, what))
sys.exit(0)
PYEOF
