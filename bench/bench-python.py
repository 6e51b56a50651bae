#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""bench-python.py: the Python client's figures beside bench-load's
(bench/run-bench-python.sh).  -s SOCKET -w REQUESTS.tsv (bench-world's
principal, action, resource, address or -) -n SYNC -d DEPTH -t SECONDS
-l LABEL.  Prints a sync line (Client.check, one round trip at a time,
n after n/10 warm-up ones) and a pipelined line (DEPTH coroutines
awaiting AsyncClient.check on one connection for SECONDS), in
bench-load's format."""
import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "bindings", "python"))
import kmsauthz  # noqa: E402


def load(path):
    reqs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            fld = line.split("\t")
            if len(fld) != 4:
                sys.exit("bench-python: %s:%d: expected 4 tab-separated "
                         "fields" % (path, n))
            reqs.append((fld[0], fld[1], fld[2],
                         None if fld[3] == "-" else fld[3]))
    if not reqs:
        sys.exit("bench-python: %s: no requests" % path)
    return reqs


def sync(label, sock, reqs, n):
    warm = n // 10
    lat, allows = [], 0
    with kmsauthz.Client(sock, timeout=10.0) as c:
        for i in range(warm + n):
            p, a, r, ip = reqs[i % len(reqs)]
            t0 = time.perf_counter_ns()
            d = c.check(p, a, r, source_ip=ip)
            if i >= warm:
                lat.append(time.perf_counter_ns() - t0)
                allows += d.allowed
    lat.sort()
    print("%-8s sync       n=%d  p50=%.1fus  p90=%.1fus  p99=%.1fus  "
          "p99.9=%.1fus  max=%.1fus  (%d allowed)" % (
              label, n, lat[n * 50 // 100] / 1e3, lat[n * 90 // 100] / 1e3,
              lat[n * 99 // 100] / 1e3, lat[n * 999 // 1000] / 1e3,
              lat[-1] / 1e3, allows))


async def pipelined(label, sock, reqs, depth, seconds):
    counts = [0, 0]
    stop = time.perf_counter() + seconds
    async with kmsauthz.AsyncClient(sock, timeout=10.0) as c:

        async def one(k):
            i = k
            while time.perf_counter() < stop:
                p, a, r, ip = reqs[i % len(reqs)]
                d = await c.check(p, a, r, source_ip=ip)
                counts[0] += 1
                counts[1] += d.allowed
                i += depth
        t0 = time.perf_counter()
        await asyncio.gather(*(one(k) for k in range(depth)))
        dt = time.perf_counter() - t0
    print("%-8s pipelined  C=1 D=%d  %.0f decisions/s  (%d answers, %d "
          "allowed, %.2fs)" % (label, depth, counts[0] / dt, counts[0],
                               counts[1], dt))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-s", required=True)
    ap.add_argument("-w", required=True)
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("-d", type=int, default=64)
    ap.add_argument("-t", type=float, default=3.0)
    ap.add_argument("-l", default="python")
    a = ap.parse_args()
    reqs = load(a.w)
    sync(a.l, a.s, reqs, a.n)
    asyncio.run(pipelined(a.l, a.s, reqs, a.d, a.t))
    return 0


if __name__ == "__main__":
    sys.exit(main())
