#!/bin/sh
# SPDX-License-Identifier: ISC
# The conformance tables (tests/conformance/*.json) answered over the
# socket: for each table a daemon seeded with its bundle, every case
# asked with "kmsauthzctl check --explain", the answer compared with the
# table's Expect (Decision, Reason, Matched as a set).  A request the
# wire cannot carry (a source address or time that does not parse: the
# protocol sends an address as bytes and a time as seconds) must be
# refused by the client, never answered, and is expected invalid-request.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/regress/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
[ -x "$KMSAUTHZCTL" ] || skip_all "kmsauthzctl not built"
tables=$(ls "$top_srcdir"/tests/conformance/*.json)
n=0
for t in $tables; do
	n=$((n + 2))
done
plan $((n + 1))

for t in $tables; do
	name=$(basename "$t" .json)
	python3 - "$t" "$tmp/bundle.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
json.dump(d["Bundle"], open(sys.argv[2], "w"))
PY
	# A fresh store per table: the seed is read only into an empty one.
	rm -rf "$tmp/state"
	write_config "seed_bundle = $tmp/bundle.json" "idle_timeout = 0"
	start_daemon
	ok $? "$name: daemon seeded with the table's bundle"
	python3 - "$t" "$KMSAUTHZCTL" "$tmp/q.sock" >"$tmp/conf.out" <<'PY'
import concurrent.futures, json, os, subprocess, sys
table, ctl, sock = sys.argv[1:4]
# Skip libtool's wrapper script (a shell per call): run the real binary
# against the uninstalled library.
real = os.path.join(os.path.dirname(ctl), ".libs", os.path.basename(ctl))
lib = os.path.join(os.path.dirname(ctl), "..", "lib", ".libs")
if os.access(real, os.X_OK) and os.path.isdir(lib):
    ctl = real
    os.environ["LD_LIBRARY_PATH"] = lib + ":" + \
        os.environ.get("LD_LIBRARY_PATH", "")
bad = 0
unsendable = 0
cases = json.load(open(table))["Cases"]

def ask(c):
    r = c["Request"]
    argv = [ctl, "check", "--socket", sock, "--explain",
            "--principal", r["Principal"], "--action", r["Action"],
            "--resource", r["Resource"], "--time", r["CurrentTime"]]
    if "SourceIp" in r:
        argv += ["--source-ip", r["SourceIp"]]
    for k, v in r.get("Context", {}).items():
        # A number or boolean travels as its JSON text, as simulate reads it.
        argv += ["--context", "%s=%s" % (k, v if isinstance(v, str) else json.dumps(v))]
    return subprocess.run(argv, capture_output=True, text=True)

# Several clients at once: the daemon's workers serve them in parallel.
with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    procs = list(pool.map(ask, cases))
for c, p in zip(cases, procs):
    e = c["Expect"]
    want = (e["Decision"], e["Reason"],
            sorted(json.dumps(m, sort_keys=True) for m in e["Matched"]))
    try:
        a = json.loads(p.stdout)
        got = (a["Decision"], a["Reason"],
               sorted(json.dumps(m, sort_keys=True)
                      for m in a.get("MatchedStatements", [])))
    except Exception:
        got = ("exit %d" % p.returncode, p.stderr.strip(), [])
    if (p.returncode == 2 and want[:2] == ("IMPLICIT_DENY",
            "invalid-request") and ("not an IPv4 or IPv6 address" in
            p.stderr or "not an RFC 3339 time" in p.stderr)):
        unsendable += 1
        continue
    if got != want:
        bad += 1
        print("# %s: want %s got %s" % (c["Id"], want, got))
print("# %d cases, %d differ, %d refused by the client (not sendable)"
      % (len(cases), bad, unsendable))
sys.exit(1 if bad else 0)
PY
	st=$?
	cat "$tmp/conf.out"
	ok $st "$name: every case answered over the socket as the table says"
	stop_daemon
done
finish
