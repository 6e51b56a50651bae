#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench-admin-stall.py QSOCK ASOCK [ROUNDS]: does an admin call stall
the query socket?  While the largest ImportBundle one admin frame carries
(about 1 MiB: thousands of keys, each with its key policy) is answered,
a client opens a new query connection and PINGs, over and over; the
connect+PING latencies during the imports are printed beside the same
measure with no import running.  Standard library only."""
import json
import socket
import struct
import sys
import threading
import time

HDR = struct.Struct(">HBBHHII")
MAGIC, T_PING, T_ADMIN, T_PONG, T_ADMIN_RESP = 0x4B5A, 2, 200, 301, 306
MAX_BODY = 1024 * 1024 - 64


def frame(ftype, rid, body=b""):
    return HDR.pack(MAGIC, 1, 0, ftype, 0, rid, len(body)) + body


def read_frame(s):
    buf = b""
    while len(buf) < 16:
        c = s.recv(16 - len(buf))
        if not c:
            raise OSError("closed")
        buf += c
    _, _, _, ftype, _, rid, n = HDR.unpack(buf)
    body = b""
    while len(body) < n:
        c = s.recv(n - len(body))
        if not c:
            raise OSError("closed")
        body += c
    return ftype, body


def bundle(nkeys, tag):
    acct = "1192853035118888"
    keys = []
    for i in range(nkeys):
        pol = {"Version": "1", "Statement": [
            {"Effect": "Allow",
             "Principal": {"RAM": ["acs:ram::%s:user/app-%d-*" % (acct, i)]},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": ["*"],
             "Condition": {"IpAddress": {"acs:SourceIp": ["10.%d.0.0/16"
                                                          % (i % 250)]}}}]}
        keys.append({"KeyId": "key-%s-%06d" % (tag, i),
                     "Region": "cn-hangzhou", "Creator": acct,
                     "DKMSInstanceId": "kst-bench", "KeyState": "Enabled",
                     "KeyPolicy": pol})
    return {"FormatVersion": 1,
            "Instances": [{"InstanceId": "kst-bench", "State": "Enabled",
                           "ShareQuota": 0}],
            "Keys": keys}


def import_body(tag):
    lo, hi = 100, 20000
    best = None
    while lo <= hi:			# the most keys that fit one frame
        mid = (lo + hi) // 2
        req = json.dumps({"Action": "ImportBundle", "Parameters": {
            "Bundle": json.dumps(bundle(mid, tag))}}).encode()
        body = struct.pack(">BBHI", 0, 0, 0, len(req)) + req
        if len(body) <= MAX_BODY:
            best, lo = (mid, body), mid + 1
        else:
            hi = mid - 1
    return best


def pinger(path, stop, out):
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            s.sendall(frame(T_PING, 1))
            ftype, _ = read_frame(s)
            s.close()
        except OSError:
            continue
        if ftype == T_PONG:
            out.append((t0, time.perf_counter() - t0))


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")


def main(argv):
    qsock, asock = argv[1], argv[2]
    rounds = int(argv[3]) if len(argv) > 3 else 5
    bodies = [import_body(t) for t in ("a", "b")]
    # Baseline: no admin call running.
    stop, base = threading.Event(), []
    t = threading.Thread(target=pinger, args=(qsock, stop, base))
    t.start()
    time.sleep(2.0)
    stop.set()
    t.join()
    during, imports = [], []
    for r in range(rounds):
        nkeys, body = bodies[r % 2]
        stop, lat = threading.Event(), []
        t = threading.Thread(target=pinger, args=(qsock, stop, lat))
        t.start()
        time.sleep(0.2)
        a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        a.settimeout(120)
        a.connect(asock)
        t0 = time.perf_counter()
        a.sendall(frame(T_ADMIN, r + 1, body))
        ftype, resp = read_frame(a)
        dt = time.perf_counter() - t0
        a.close()
        t1 = time.perf_counter()
        time.sleep(0.2)
        stop.set()
        t.join()
        ok = ftype == T_ADMIN_RESP and b'"Code"' not in resp
        imports.append((nkeys, len(body), dt, ok))
        # Every ping begun while the import ran, however late it ended.
        during.extend(x for s0, x in lat if t0 <= s0 <= t1)
    ms = 1000.0
    print("import: %d keys, %d bytes, %s s each (%s)" % (
        imports[0][0], imports[0][1],
        " ".join("%.3f" % x[2] for x in imports),
        "all answered" if all(x[3] for x in imports) else "FAILED"))
    base = [x for _, x in base]
    for name, v in (("no import", base), ("during imports", during)):
        print("connect+PING %-15s n=%-6d p50 %.3f ms  p99 %.3f ms  "
              "max %.3f ms  over 50 ms: %d" % (
                  name, len(v), pct(v, 0.5) * ms, pct(v, 0.99) * ms,
                  (max(v) if v else float("nan")) * ms,
                  sum(1 for x in v if x > 0.05)))
    return 0 if all(x[3] for x in imports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
