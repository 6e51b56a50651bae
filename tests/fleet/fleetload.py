#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""fleetload.py: load, checks and verification for the fleet-mode
scenarios (tests/fleet/1xx-*.sh; python3, standard library and
bindings/python, found through PYTHONPATH).

    fleetload.py setup ASOCK                     the storm's instance, keys,
                                                 users and policies
    fleetload.py storm OUT N ASOCK...            N changes through the hosts'
                                                 admin sockets (two writer
                                                 threads each), one JSON line
                                                 per outcome in OUT (until
                                                 $FLEET_STOPFILE exists)
    fleetload.py checker STOPFILE OUT QSOCK...   checks on every host until
                                                 STOPFILE exists; a summary
                                                 line in OUT
    fleetload.py checks QSOCK SEED N [MINGEN]    N seeded checks (storm's
                                                 names), one answer a line
    fleetload.py verify OUT [lenient]            every acknowledged change of
                                                 OUT against etcd's history
    fleetload.py readable                        every key of the prefix is
                                                 readable JSON
    fleetload.py etcdput KEY VALUE / etcddel KEY
    fleetload.py bundle PATH N TAG               a bundle of N keys and N
                                                 users named after TAG
    fleetload.py current                         the live data set's id
    fleetload.py after OUT TIME                  per host: acknowledged and
                                                 refused after TIME
    fleetload.py proposals                       etcd's committed proposals
    fleetload.py race SEED ASOCK CALL JSON...    the calls (one a triple:
                                                 admin socket, call, its
                                                 parameters as a JSON
                                                 object) at once, each
                                                 through its own client; a
                                                 line each, in order: "OK"
                                                 or the code and detail
    fleetload.py invariants < EXPORT             an ExportBundle answer:
                                                 every reference resolves,
                                                 no limit or quota passed

etcd is reached through its JSON gateway ($FLEET_ETCD: the client URLs,
comma-separated, plain http; the first that answers).  Admin changes are
made as the test's uid (root: the superuser).  Every command prints
"# ..." diagnostics and exits 0 when every check held, 1 otherwise.
"""
import base64
import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request

import kmsauthz

ACCT = "1000000000000000"	# lib-fleet.sh's admin.conf
REGION = "cn-hangzhou"
PREFIX = "/kmsauthz/"
NSK = 4		# keys whose key policies every writer sets
NTK = 40	# keys that get the unique tags
NUSERS = 12
NRP = 3		# RAM policies whose versions every writer changes
ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
           "kms:DescribeKey"]


def karn(kid):
    return "acs:kms:%s:%s:key/%s" % (REGION, ACCT, kid)


def uarn(n):
    return "acs:ram::%s:user/u%d" % (ACCT, n)


def diag(msg):
    print("# " + msg, flush=True)


# --- etcd's JSON gateway ------------------------------------------------

def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def unb64(s):
    return base64.b64decode(s) if s else b""


def prefix_end(p):
    b = bytearray(p.encode())
    b[-1] += 1
    return bytes(b)


def gateway(path, doc):
    last = None
    for ep in os.environ["FLEET_ETCD"].split(","):
        req = urllib.request.Request(ep + path, json.dumps(doc).encode(),
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        except (OSError, urllib.error.URLError) as e:
            last = e
    raise RuntimeError("etcd unreachable: %s" % last)


def rng(key, end=None, rev=0):
    doc = {"key": b64(key)}
    if end is not None:
        doc["range_end"] = b64(end)
    if rev:
        doc["revision"] = str(rev)
    a = gateway("/v3/kv/range", doc)
    kvs = []
    for kv in a.get("kvs", []):
        kvs.append((unb64(kv["key"]).decode(), unb64(kv.get("value")),
                    int(kv.get("mod_revision", 0))))
    return int(a["header"]["revision"]), kvs


def current():
    _, kvs = rng(PREFIX + "current")
    if not kvs:
        return None
    return json.loads(kvs[0][1])["Data"]


# --- the storm ------------------------------------------------------------

def admin(path):
    return kmsauthz.AdminClient(path, timeout=60.0)


def setup(asock):
    a = admin(asock)
    a.call("CreateInstance", InstanceId="kst-storm", ShareQuota="100")
    for i in range(NSK):
        a.call("CreateKey", DKMSInstanceId="kst-storm", KeyId="sk-%d" % i)
    for i in range(NTK):
        a.call("CreateKey", DKMSInstanceId="kst-storm", KeyId="tk-%d" % i)
    for u in range(NUSERS):
        a.call("CreateUser", UserName="u%d" % u)
    for p in range(NRP):
        a.call("CreatePolicy", PolicyName="rp-%d" % p,
               PolicyDocument=ram_doc(p, 0, "setup"))
        for u in range(p, NUSERS, NRP):
            a.call("AttachPolicyToUser", PolicyType="Custom",
                   PolicyName="rp-%d" % p, UserName="u%d" % u)
    a.close()
    return 0


def key_policy(users_decrypt, users_encrypt, sid):
    return json.dumps({"Version": "1", "Statement": [
        {"Sid": sid, "Effect": "Allow",
         "Principal": {"RAM": [uarn(u) for u in users_decrypt]},
         "Action": ["kms:Decrypt"], "Resource": ["*"]},
        {"Effect": "Allow",
         "Principal": {"RAM": [uarn(u) for u in users_encrypt]},
         "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
         "Resource": ["*"]}]}, sort_keys=True)


def ram_doc(p, k, sid):
    return json.dumps({"Version": "1", "Statement": [
        {"Sid": sid.replace("-", ""), "Effect": "Allow",
         "Action": [ACTIONS[(p + k) % len(ACTIONS)]],
         "Resource": [karn("sk-%d" % ((p + k) % NSK)),
                      karn("tk-%d" % ((p * 7 + k) % NTK))]}]},
        sort_keys=True)


class Writer(threading.Thread):
    def __init__(self, wid, nw, asock, n, out, lock):
        super().__init__()
        self.wid, self.nw, self.asock, self.n = wid, nw, asock, n
        self.out, self.lock = out, lock
        self.rnd = random.Random(1000 + wid)
        self.top = [1] * NRP	# the newest version this writer made

    def one(self, i, j):
        r = self.rnd
        w = self.wid
        kind = i % 5
        if kind in (0, 1):
            k = "sk-%d" % r.randrange(NSK)
            doc = key_policy(r.sample(range(NUSERS), 3),
                             r.sample(range(NUSERS), 2), "w%di%d" % (w, i))
            return ("SetKeyPolicy", {"KeyId": k, "Policy": doc},
                    {"key": k, "text": doc})
        if kind == 2:
            p = r.randrange(NRP)
            x = r.random()
            if x < 0.5:
                doc = ram_doc(r.randrange(NRP), r.randrange(50),
                              "w%di%d" % (w, i))
                return ("CreatePolicyVersion",
                        {"PolicyName": "rp-%d" % p, "PolicyDocument": doc,
                         "SetAsDefault": "true" if r.random() < 0.7
                         else "false"},
                        {"policy": "rp-%d" % p, "text": doc})
            v = "v%d" % max(1, self.top[p] - r.randrange(6))
            return ("DeletePolicyVersion" if x < 0.8
                    else "SetDefaultPolicyVersion",
                    {"PolicyName": "rp-%d" % p, "VersionId": v},
                    {"policy": "rp-%d" % p, "version": v})
        # The j-th tag of writer w: the keys in turn (at most 20 each).
        k = "tk-%d" % ((w + j * self.nw) % NTK)
        tk = "w%d-%d" % (w, i)
        tv = "v%d" % r.randrange(10 ** 6)
        return ("TagResource",
                {"KeyId": k, "Tags": json.dumps([{"TagKey": tk,
                                                  "TagValue": tv}])},
                {"key": k, "tag": tk, "value": tv})

    def run(self):
        a = admin(self.asock)
        j = 0
        stop = os.environ.get("FLEET_STOPFILE")
        for i in range(self.n):
            if stop and os.path.exists(stop):
                break
            call, params, what = self.one(i, j)
            if call == "TagResource":
                j += 1
            rec = {"w": self.wid, "i": i, "host": self.asock, "call": call}
            rec.update(what)
            t0 = time.monotonic()
            try:
                ans = a.call(call, **params)
                rec["ok"] = True
                rec["gen"] = ans["Generation"]
                if call == "CreatePolicyVersion":
                    rec["version"] = ans["PolicyVersion"]["VersionId"]
                    p = int(rec["policy"][3:])
                    self.top[p] = max(self.top[p], int(rec["version"][1:]))
            except kmsauthz.AdminError as e:
                rec["ok"] = False
                rec["code"] = e.code
                rec["detail"] = e.detail
            except kmsauthz.Error as e:
                rec["ok"] = False
                rec["code"] = "client"
                rec["detail"] = str(e)
                a.close()
                a = admin(self.asock)
            rec["ms"] = int((time.monotonic() - t0) * 1000)
            rec["t"] = time.time()
            with self.lock:
                self.out.write(json.dumps(rec, sort_keys=True) + "\n")
                self.out.flush()
        a.close()


def storm(out, n, asocks, per_host=2):
    nw = per_host * len(asocks)
    lock = threading.Lock()
    t0 = time.monotonic()
    with open(out, "a") as f:
        ws = [Writer(w, nw, asocks[w % len(asocks)], n // nw + (w < n % nw),
                     f, lock) for w in range(nw)]
        for w in ws:
            w.start()
        for w in ws:
            w.join()
    recs = [json.loads(l) for l in open(out)]
    ok = sum(1 for r in recs if r["ok"])
    codes = {}
    for r in recs:
        if not r["ok"]:
            codes[r["code"]] = codes.get(r["code"], 0) + 1
    diag("%d changes in %.1f s: %d acknowledged, refused %s; slowest "
         "answer %d ms" % (len(recs), time.monotonic() - t0, ok, codes,
                           max(r["ms"] for r in recs)))
    return 0


def after(out, since):
    """Per host: the changes acknowledged after time since, and the
    refusals meanwhile."""
    recs = [json.loads(l) for l in open(out)]
    hosts = sorted(set(r["host"] for r in recs))
    for h in hosts:
        mine = [r for r in recs if r["host"] == h and r["t"] > since]
        print("%s %d %d" % (os.path.basename(os.path.dirname(h)),
                            sum(1 for r in mine if r["ok"]),
                            sum(1 for r in mine if not r["ok"])))
    return 0


# --- checks -------------------------------------------------------------

def check_list(seed, n):
    r = random.Random(seed)
    keys = (["sk-%d" % i for i in range(NSK)] +
            ["tk-%d" % i for i in range(NTK)] + ["nokey", "key-1"] * 3)
    users = (["u%d" % i for i in range(NUSERS + 1)] +
             ["alice", "bob", "carol"] * 3)
    out = []
    for _ in range(n):
        u = r.randrange(len(users) + 1)
        p = ("acs:ram::%s:user/%s" % (ACCT, users[u]) if u < len(users)
             else "acs:ram::1192853035118888:user/u0")
        out.append((p, r.choice(ACTIONS), karn(r.choice(keys))))
    return out


def checks(qsock, seed, n, mingen=None):
    c = kmsauthz.Client(qsock, timeout=30.0)
    lst = check_list(seed, n)
    if mingen is not None:
        c.check(*lst[0], min_generation=mingen)
    res = c.check_batch(lst)
    for (p, a, rs), d in zip(lst, res):
        print("%s %s %d %s %s %s" % (d.decision, d.reason, d.generation,
                                     p, a, rs))
    c.close()
    return 0


def checker(stopfile, out, qsocks):
    stats = {}
    lock = threading.Lock()

    def run(q):
        c = kmsauthz.Client(q, timeout=5.0)
        lst = check_list(hash(q) & 0xffff, 500)
        n = errs = back = 0
        last = 0
        samples = []
        i = 0
        while not os.path.exists(stopfile):
            try:
                d = c.check(*lst[i % len(lst)])
                if d.generation < last:
                    back += 1
                last = max(last, d.generation)
                n += 1
            except kmsauthz.Error as e:
                errs += 1
                if len(samples) < 3:
                    samples.append(str(e))
                c.close()
                c = kmsauthz.Client(q, timeout=5.0)
            i += 1
        c.close()
        with lock:
            stats[q] = (n, errs, back, samples)

    ts = [threading.Thread(target=run, args=(q,)) for q in qsocks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    tot = sum(s[0] for s in stats.values())
    errs = sum(s[1] for s in stats.values())
    back = sum(s[2] for s in stats.values())
    with open(out, "w") as f:
        f.write("checks=%d errors=%d backwards=%d\n" % (tot, errs, back))
        for q, s in sorted(stats.items()):
            f.write("# %s: %d checks, %d errors, %d backwards %s\n"
                    % (q, s[0], s[1], s[2], s[3]))
    return 0


# --- verification -----------------------------------------------------------

def verify(out, lenient=False):
    recs = [json.loads(l) for l in open(out)]
    data = current()
    dp = PREFIX + "data/%s/" % data
    bad = 0

    def fail(msg):
        nonlocal bad
        bad += 1
        if bad <= 10:
            diag(msg)

    acked = [r for r in recs if r["ok"]]
    # Each acknowledged change is in etcd at the revision it answered.
    for r in acked:
        g = r["gen"]
        if r["call"] == "SetKeyPolicy":
            key = dp + "keypolicies/" + r["key"]
            _, kvs = rng(key, rev=g)
            if not kvs or kvs[0][2] != g or \
                    json.loads(kvs[0][1])["Policy"] != r["text"]:
                fail("SetKeyPolicy %s acknowledged at %d: not in etcd at "
                     "%d (%s)" % (r["key"], g, g, kvs))
        elif r["call"] == "TagResource":
            key = dp + "tags/%s/%s" % (r["key"], r["tag"])
            _, kvs = rng(key, rev=g)
            if not kvs or kvs[0][2] != g or \
                    json.loads(kvs[0][1]).get("Value") != r["value"]:
                fail("TagResource %s %s acknowledged at %d: not in etcd "
                     "at %d (%s)" % (r["key"], r["tag"], g, g, kvs))
        elif r["call"] == "CreatePolicyVersion":
            key = dp + "policyversions/%s/%s/%s" % (ACCT, r["policy"],
                                                    r["version"])
            _, kvs = rng(key, rev=g)
            if not kvs or kvs[0][2] != g or \
                    json.loads(kvs[0][1])["Document"] != r["text"]:
                fail("CreatePolicyVersion %s %s acknowledged at %d: not in "
                     "etcd at %d (%s)" % (r["policy"], r["version"], g, g,
                                          kvs))
    # Every acknowledged tag is still there, with its value.
    _, kvs = rng(dp + "tags/", prefix_end(dp + "tags/"))
    tags = {k[len(dp) + 5:]: json.loads(v).get("Value") for k, v, _ in kvs}
    ntags = 0
    for r in acked:
        if r["call"] == "TagResource":
            ntags += 1
            if tags.get("%s/%s" % (r["key"], r["tag"])) != r["value"]:
                fail("tag %s/%s acknowledged at %d is not in the final "
                     "state" % (r["key"], r["tag"], r["gen"]))
    # Each key's final key policy: the acknowledged one with the highest
    # Generation (lenient: or a later change whose answer was lost).
    nkp = 0
    for i in range(NSK):
        k = "sk-%d" % i
        mine = [r for r in acked if r["call"] == "SetKeyPolicy" and
                r["key"] == k]
        if not mine:
            continue
        nkp += len(mine)
        last = max(mine, key=lambda r: r["gen"])
        gens = [r["gen"] for r in mine]
        if len(set(gens)) != len(gens):
            fail("%s: two acknowledged SetKeyPolicy at one Generation" % k)
        _, kvs = rng(dp + "keypolicies/" + k)
        text = json.loads(kvs[0][1])["Policy"] if kvs else None
        if text == last["text"] and kvs[0][2] == last["gen"]:
            continue
        later = [r for r in recs if not r["ok"] and
                 r["call"] == "SetKeyPolicy" and r["key"] == k and
                 r["text"] == text]
        if lenient and kvs and kvs[0][2] > last["gen"] and later:
            diag("%s: final key policy from an unacknowledged change at "
                 "%d (%s)" % (k, kvs[0][2], later[0]["code"]))
            continue
        fail("%s: final key policy (revision %s) is not the acknowledged "
             "one of Generation %d" % (k, kvs[0][2] if kvs else None,
                                        last["gen"]))
    diag("verified %d acknowledged changes (%d tags, %d key policies) "
         "against etcd (data set %s): %d wrong" % (len(acked), ntags, nkp,
                                                   data, bad))
    return 1 if bad else 0


def proposals():
    """The raft proposals etcd committed (a txn whose compares failed is
    one too, but no revision)."""
    n = 0
    for ep in os.environ["FLEET_ETCD"].split(","):
        try:
            with urllib.request.urlopen(ep + "/metrics", timeout=10) as r:
                for l in r.read().decode().splitlines():
                    if l.startswith("etcd_server_proposals_committed_total"):
                        n = max(n, int(float(l.split()[1])))
        except OSError:
            pass
    return n


def readable():
    rev, kvs = rng(PREFIX, prefix_end(PREFIX))
    bad = 0
    for k, v, _ in kvs:
        try:
            o = json.loads(v)
            if not isinstance(o, dict):
                raise ValueError("not an object")
        except ValueError as e:
            bad += 1
            diag("%s: not readable JSON (%s): %r" % (k, e, v[:80]))
    diag("%d keys under %s at revision %d, %d not readable JSON"
         % (len(kvs), PREFIX, rev, bad))
    return 1 if bad or not kvs else 0


# --- races and invariants (111) -------------------------------------------

def race(seed, triples):
    """Each call on a thread of its own, connected beforehand and let go
    by one barrier, in an order the seed shuffles."""
    calls = [(triples[i], triples[i + 1], json.loads(triples[i + 2]))
             for i in range(0, len(triples), 3)]
    clients = [admin(c[0]) for c in calls]
    gate = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def one(i):
        gate.wait()
        try:
            ans = clients[i].call(calls[i][1], **calls[i][2])
            out[i] = "OK %s" % ans.get("Generation")
        except kmsauthz.AdminError as e:
            out[i] = "%s %s" % (e.code, e.detail)
    ts = [threading.Thread(target=one, args=(i,))
          for i in range(len(calls))]
    random.Random(seed).shuffle(ts)
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for c in clients:
        c.close()
    for line in out:
        print(line)
    return 0


def foreign(doc, owner):
    """The accounts other than owner a key policy's principals name."""
    doc = json.loads(doc) if isinstance(doc, str) else doc
    accts = set()
    for st in doc.get("Statement", []):
        ps = st.get("Principal", {})
        ps = ps.get("RAM", []) if isinstance(ps, dict) else [ps]
        for p in [ps] if isinstance(ps, str) else ps:
            f = p.split(":")
            if len(f) >= 4 and f[0] == "acs" and f[3] not in ("", owner):
                accts.add(f[3])
    return accts


def invariants():
    o = json.load(sys.stdin)
    b = o["Bundle"] if isinstance(o["Bundle"], dict) else \
        json.loads(o["Bundle"])
    bad = []
    groups = {(g["Account"], g["GroupName"]) for g in b.get("Groups", [])}
    pols = {(p["Account"], p["PolicyName"]) for p in b.get("Policies", [])}
    for kind, name in (("Users", "UserName"), ("Roles", "RoleName"),
                       ("Groups", "GroupName")):
        for r in b.get(kind, []):
            for g in r.get("Groups", []):
                if (r["Account"], g) not in groups:
                    bad.append("%s %s: no group %s" % (kind, r[name], g))
            for p in r.get("Policies", []):
                if (r["Account"], p) not in pols:
                    bad.append("%s %s: no policy %s" % (kind, r[name], p))
    for p in b.get("Policies", []):
        if len(p.get("Versions", [])) > 5:
            bad.append("policy %s: %d versions" % (p["PolicyName"],
                                                  len(p["Versions"])))
    quota = {i["InstanceId"]: i["ShareQuota"]
             for i in b.get("Instances", [])}
    shared = {}
    for k in b.get("Keys", []):
        if len(k.get("Tags", {})) > 20:
            bad.append("key %s: %d tags" % (k["KeyId"], len(k["Tags"])))
        inst = k.get("DKMSInstanceId")
        if inst is not None and "KeyPolicy" in k:
            shared.setdefault(inst, set()).update(
                foreign(k["KeyPolicy"], k["Creator"]))
    for inst, accts in shared.items():
        if len(accts) > quota.get(inst, 0):
            bad.append("instance %s: %d foreign accounts, quota %d"
                       % (inst, len(accts), quota.get(inst, 0)))
    for line in bad:
        diag(line)
    return 1 if bad else 0


def bundle(path, n, tag):
    """A state of n keys and n users (names carry tag, so that two such
    states differ), written compact: a bulk import of many records."""
    keys = [{"KeyId": "key-%s%06d" % (tag, i), "Region": REGION,
             "Creator": ACCT, "DKMSInstanceId": "kst-" + tag,
             "KeyState": "Enabled"} for i in range(n)]
    users = [{"Account": ACCT, "UserName": "%s%06d" % (tag, i),
              "Groups": [], "Policies": []} for i in range(n)]
    doc = {"FormatVersion": 1, "Keys": keys, "Users": users,
           "Instances": [{"InstanceId": "kst-" + tag, "State": "Enabled",
                          "ShareQuota": 1}]}
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "setup":
        return setup(argv[2])
    if cmd == "storm":
        return storm(argv[2], int(argv[3]), argv[4:])
    if cmd == "checker":
        return checker(argv[2], argv[3], argv[4:])
    if cmd == "checks":
        return checks(argv[2], int(argv[3]), int(argv[4]),
                      int(argv[5]) if len(argv) > 5 else None)
    if cmd == "verify":
        return verify(argv[2], len(argv) > 3 and argv[3] == "lenient")
    if cmd == "readable":
        return readable()
    if cmd == "after":
        return after(argv[2], float(argv[3]))
    if cmd == "race":
        return race(int(argv[2]), argv[3:])
    if cmd == "invariants":
        return invariants()
    if cmd == "proposals":
        print(proposals())
        return 0
    if cmd == "current":
        print(current())
        return 0
    if cmd == "bundle":
        return bundle(argv[2], int(argv[3]), argv[4])
    if cmd == "etcdput":
        gateway("/v3/kv/put", {"key": b64(argv[2]), "value": b64(argv[3])})
        return 0
    if cmd == "etcddel":
        gateway("/v3/kv/deleterange", {"key": b64(argv[2])})
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
