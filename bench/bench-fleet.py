#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench-fleet: fleet mode's figures for docs/benchmarks.md (make bench-fleet).

1. Propagation: a three-member etcd cluster on loopback, three daemons;
   N changes (TagResource, one new tag each) through host A; for each,
   from A's answer (its Generation G) to hosts B and C answering a check
   at generation G or later (the MIN_GEN consistency token: a parked
   check is answered the moment the host publishes G).  p50, p99, max.
2. Full sync: a state of K keys (each with a key policy of its own)
   pushed into an empty fleet with kmsauthzctl fleet push, then a new
   host started on an empty state directory: from its start to Status
   serving at the push's revision.
3. The query path under a change storm: bench-load (synchronous p50 and
   pipelined throughput) against a fleet host while changes stream in
   through another host, and against a standalone daemon taking the same
   changes itself, alternately.

Knobs (environment): FLEET_CHANGES (1000), FLEET_SYNC_KEYS (100000),
FLEET_STORM_RATE (changes/s, 20: what one writer through etcd
sustains), FLEET_ROUNDS (3), BENCH_SYNC (20000),
BENCH_SECONDS (3), BENCH_CONNS (4), BENCH_DEPTH (64).
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP_BUILD = os.environ.get("top_builddir", ".")
TOP_SRC = os.environ.get("top_srcdir", ".")
sys.path.insert(0, os.path.join(TOP_SRC, "bindings", "python"))
from kmsauthz import AdminClient, Client  # noqa: E402

DAEMON = os.path.join(TOP_BUILD, "src", "daemon", "kmsauthzd")
CTL = os.path.join(TOP_BUILD, "src", "ctl", "kmsauthzctl")
LOAD = os.path.join(TOP_BUILD, "bench", "bench-load")
WORLD = os.path.join(TOP_BUILD, "bench", "bench-world")
ETCD = os.environ.get("ETCD", "/usr/bin/etcd")
ACCOUNT = "1000000000000000"
ARN = "acs:kms:cn-hangzhou:%s:key/%%s" % ACCOUNT

procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait(cond, secs, what):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            if cond():
                return
        except Exception:
            pass
        time.sleep(0.02)
    raise SystemExit("bench-fleet: %s: not within %ds" % (what, secs))


def etcd_cluster(tmp, n=3):
    names = ["m%d" % i for i in range(1, n + 1)]
    cport = {m: free_port() for m in names}
    pport = {m: free_port() for m in names}
    init = ",".join("%s=http://127.0.0.1:%d" % (m, pport[m]) for m in names)
    for m in names:
        d = os.path.join(tmp, "etcd-" + m)
        os.mkdir(d)
        log = open(os.path.join(d, "log"), "w")
        procs.append(subprocess.Popen([
            ETCD, "--name", m, "--data-dir", os.path.join(d, "data"),
            "--listen-client-urls", "http://127.0.0.1:%d" % cport[m],
            "--advertise-client-urls", "http://127.0.0.1:%d" % cport[m],
            "--listen-peer-urls", "http://127.0.0.1:%d" % pport[m],
            "--initial-advertise-peer-urls",
            "http://127.0.0.1:%d" % pport[m],
            "--initial-cluster", init, "--initial-cluster-state", "new",
            "--initial-cluster-token", "bench-%d" % os.getpid(),
            "--quota-backend-bytes", str(4 << 30)],
            stdout=log, stderr=log))
    eps = ",".join("http://127.0.0.1:%d" % cport[m] for m in names)

    def healthy():
        out = subprocess.run(["curl", "-s", "-m", "1",
                              "http://127.0.0.1:%d/health" % cport[names[0]]],
                             capture_output=True, text=True).stdout
        return '"health":"true"' in out
    wait(healthy, 30, "etcd healthy")
    return eps


def start_host(tmp, name, endpoints, prefix, extra=""):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    conf = os.path.join(d, "kmsauthzd.conf")
    with open(conf, "w") as f:
        f.write("query_socket = %s/q.sock\nadmin_socket = %s/a.sock\n"
                "state_directory = %s/state\nthreads = 2\nlog_verbose = 0\n"
                % (d, d, d))
        if endpoints:
            f.write("etcd_endpoints = %s\netcd_prefix = %s\n"
                    % (endpoints, prefix))
        f.write(extra)
    t0 = time.monotonic()
    p = subprocess.Popen([DAEMON, "-f", "-c", conf],
                         stderr=open(os.path.join(d, "err"), "w"))
    procs.append(p)
    wait(lambda: Client(os.path.join(d, "q.sock")).ping() or True, 60,
         name + " answering")
    return {"name": name, "dir": d, "q": os.path.join(d, "q.sock"),
            "a": os.path.join(d, "a.sock"), "proc": p, "t0": t0}


def status(h):
    return AdminClient(h["a"]).call("Status")


def fleet_serving(h, rev=0):
    f = status(h)["Fleet"]
    return f["State"] == "serving" and f["AppliedRevision"] >= rev


def stop(h):
    h["proc"].terminate()
    h["proc"].wait()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


def propagation(tmp, eps, n):
    hosts = [start_host(tmp, x, eps, "/prop/") for x in ("A", "B", "C")]
    for h in hosts:
        wait(lambda: fleet_serving(h), 60, h["name"] + " serving")
    a = AdminClient(hosts[0]["a"])
    a.call("CreateInstance", InstanceId="kst-1", ShareQuota="10")
    a.call("CreateKey", KeyId="key-p", DKMSInstanceId="kst-1")
    lat = {"B": [], "C": [], "both": []}
    clients = {h["name"]: Client(h["q"], timeout=10.0) for h in hosts[1:]}
    for i in range(n):
        ans = a.call("TagResource", KeyId="key-p",
                     Tags=json.dumps([{"TagKey": "t%d" % (i % 10),
                                       "TagValue": str(i)}]))
        gen = ans["Generation"]
        t0 = time.perf_counter()
        done = {}

        def one(name):
            clients[name].check("acs:ram::%s:user/u" % ACCOUNT,
                                "kms:Encrypt", ARN % "key-p",
                                min_generation=gen)
            done[name] = time.perf_counter() - t0
        ts = [threading.Thread(target=one, args=(x,)) for x in ("B", "C")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for x in ("B", "C"):
            lat[x].append(done[x] * 1e3)
        lat["both"].append(max(done.values()) * 1e3)
    for h in hosts:
        stop(h)
    for k in ("B", "C", "both"):
        print("propagation %s: %d changes, p50 %.2f ms, p99 %.2f ms, "
              "max %.2f ms" % ({"both": "to B and C"}.get(k, "to " + k), n,
                                pct(lat[k], 50), pct(lat[k], 99),
                                max(lat[k])))


def big_bundle(path, nkeys):
    keys = []
    for i in range(nkeys):
        pol = {"Version": "1", "Statement": [{
            "Sid": "k%d" % i, "Effect": "Allow",
            "Principal": {"RAM": ["acs:ram::%s:user/u%d" % (ACCOUNT,
                                                           i % 1000)]},
            "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": ["*"]}]}
        keys.append({"KeyId": "key-%06d" % i, "Region": "cn-hangzhou",
                     "Creator": ACCOUNT, "DKMSInstanceId": "kst-1",
                     "KeyState": "Enabled", "KeyPolicy": pol})
    b = {"FormatVersion": 1,
         "Instances": [{"InstanceId": "kst-1", "State": "Enabled",
                        "ShareQuota": 10}],
         "Keys": keys}
    with open(path, "w") as f:
        json.dump(b, f)


def full_sync(tmp, eps, nkeys):
    bundle = os.path.join(tmp, "big.json")
    big_bundle(bundle, nkeys)
    db = os.path.join(tmp, "bigdb")
    os.mkdir(db, 0o700)
    subprocess.run([CTL, "import", "--db", db, bundle], check=True,
                   stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    out = subprocess.run([CTL, "fleet", "push", "--db", db, "--endpoints",
                          eps, "--prefix", "/sync/"], check=True,
                         capture_output=True, text=True).stdout
    push = json.loads(out)
    print("fleet push: %d records in %.1f s (revision %d)"
          % (push["Records"], time.monotonic() - t0, push["Revision"]))
    h = start_host(tmp, "S", eps, "/sync/")
    wait(lambda: fleet_serving(h, push["Revision"]), 600, "S synced")
    took = time.monotonic() - h["t0"]
    st = status(h)
    print("full sync: %d keys (%d records) into an empty host: serving "
          "at revision %d %.2f s after its start (keys %d)"
          % (nkeys, push["Records"], push["Revision"], took, st["Keys"]))
    stop(h)


def storm_key(world):
    """A key of the world whose instance is Enabled: tags can change."""
    with open(world) as f:
        b = json.load(f)
    on = {i["InstanceId"] for i in b.get("Instances", [])
          if i.get("State", "Enabled") == "Enabled"}
    for k in b["Keys"]:
        if k.get("DKMSInstanceId") in on and \
                k.get("KeyState", "Enabled") == "Enabled":
            return k["KeyId"]
    raise SystemExit("bench-fleet: no key to tag in the world")


def storm(h, key, rate, stop_ev, counts):
    a = AdminClient(h["a"])
    i = 0
    period = 1.0 / rate
    nxt = time.monotonic()
    while not stop_ev.is_set():
        try:
            a.call("TagResource", KeyId=key,
                   Tags=json.dumps([{"TagKey": "s%d" % (i % 10),
                                     "TagValue": str(i)}]))
            counts[0] += 1
        except Exception as e:
            if counts[1] == 0:
                print("storm: %s" % e)
            counts[1] += 1
        i += 1
        nxt += period
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)


def cpu_s(pids):
    """CPU seconds (user + system) the processes pids have used."""
    t = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                w = f.read().rsplit(")", 1)[1].split()
            t += int(w[11]) + int(w[12])
        except OSError:
            pass
    return t / os.sysconf("SC_CLK_TCK")


def load(label, sock, reqs):
    out = subprocess.run([LOAD, "-l", label, "-s", sock, "-w", reqs,
                          "-n", os.environ.get("BENCH_SYNC", "20000"),
                          "-c", os.environ.get("BENCH_CONNS", "4"),
                          "-d", os.environ.get("BENCH_DEPTH", "64"),
                          "-t", os.environ.get("BENCH_SECONDS", "3")],
                         capture_output=True, text=True, check=True).stdout
    p50 = tp = None
    for line in out.splitlines():
        for f in line.split():
            if f.startswith("p50="):
                p50 = float(f[4:].rstrip("us"))
        if " pipelined " in line:
            w = line.split()
            tp = float(w[w.index("decisions/s") - 1])
    return p50, tp


def query_path(tmp, eps, rounds, rate):
    world = os.path.join(tmp, "world.json")
    reqs = os.path.join(tmp, "requests.tsv")
    subprocess.run([WORLD, world, reqs], check=True)
    key = storm_key(world)
    # A fleet of two holding the world: the storm through W, the load
    # on R.
    db = os.path.join(tmp, "worlddb")
    os.mkdir(db, 0o700)
    subprocess.run([CTL, "import", "--db", db, world], check=True,
                   stdout=subprocess.DEVNULL)
    push = json.loads(subprocess.run(
        [CTL, "fleet", "push", "--db", db, "--endpoints", eps, "--prefix",
         "/q/"], check=True, capture_output=True, text=True).stdout)
    w = start_host(tmp, "W", eps, "/q/")
    r = start_host(tmp, "R", eps, "/q/")
    for h in (w, r):
        wait(lambda: fleet_serving(h, push["Revision"]), 600,
             h["name"] + " serving")
    s = start_host(tmp, "L", None, None,
                   "seed_bundle = %s\n" % world)
    wait(lambda: status(s)["Keys"] > 0, 600, "standalone seeded")
    res = {"fleet": [], "standalone": []}
    for i in range(rounds):
        order = (("fleet", w, r), ("standalone", s, s))
        if i % 2:
            order = order[::-1]
        for label, via, on in order:
            ev = threading.Event()
            counts = [0, 0]
            # The CPU others take beside the host measured: etcd's
            # members, the host the changes go through.
            others = [p.pid for p in procs[:3]] + ([via["proc"].pid]
                                                   if via is not on else [])
            c0 = cpu_s(others)
            t = threading.Thread(target=storm,
                                 args=(via, key, rate, ev, counts))
            t.start()
            res[label].append(load(label, on["q"], reqs) + tuple(counts) +
                              (cpu_s(others) - c0,))
            ev.set()
            t.join()
    for label in ("standalone", "fleet"):
        best50 = min(x[0] for x in res[label])
        besttp = max(x[1] for x in res[label])
        print("under a storm of %d changes/s: %-10s sync p50 %.1f us, "
              "pipelined %.0f decisions/s (best of %d; changes applied "
              "%s, failed %s; CPU taken beside it by etcd and the writing "
              "host: %s s)" % (rate, label, best50, besttp, rounds,
                               [x[2] for x in res[label]],
                               [x[3] for x in res[label]],
                               ["%.2f" % x[4] for x in res[label]]))
    f50 = min(x[0] for x in res["fleet"])
    s50 = min(x[0] for x in res["standalone"])
    ftp = max(x[1] for x in res["fleet"])
    stp = max(x[1] for x in res["standalone"])
    print("fleet vs standalone: sync p50 %+.1f%%, pipelined %+.1f%% "
          "(goal: within 5%%)" % (100 * (f50 - s50) / s50,
                                  100 * (ftp - stp) / stp))
    for h in (w, r, s):
        stop(h)


def main():
    if not os.access(ETCD, os.X_OK):
        print("bench-fleet: no etcd (%s): skipped" % ETCD)
        return
    tmp = tempfile.mkdtemp(prefix="kmsauthz-bench-fleet.")
    try:
        print("kmsauthz bench-fleet: %d CPUs, load %s"
              % (os.cpu_count(), os.getloadavg()))
        eps = etcd_cluster(tmp)
        which = os.environ.get("FLEET_PHASES", "prop,sync,query")
        if "prop" in which:
            propagation(tmp, eps, int(os.environ.get("FLEET_CHANGES",
                                                     "1000")))
        if "sync" in which:
            full_sync(tmp, eps, int(os.environ.get("FLEET_SYNC_KEYS",
                                                   "100000")))
        if "query" in which:
            query_path(tmp, eps, int(os.environ.get("FLEET_ROUNDS", "3")),
                       int(os.environ.get("FLEET_STORM_RATE", "20")))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
