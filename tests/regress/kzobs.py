#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""kzobs.py: clients for the observability scenarios (tests/regress/040,
041; python3, standard library only; frames from kzload.py).

    kzobs.py run QSOCK BUNDLE N CONNS EXPECTED   N known checks, pipelined
        over CONNS connections (one request in five as part of a
        CHECK_BATCH, one in seven with EXPLAIN); each request carries a
        context pair test:seq=I.  Prints "decision REASON COUNT" tallies,
        "frames check=N batch=N items=N" and "rate N/s"; writes one JSON
        line per request and its answer to EXPECTED.
    kzobs.py compare EXPECTED LOG UID         every request of EXPECTED is
        in the decision log LOG exactly once, with its fields (context
        values, decision, reason, generation, uid, matched statements).
    kzobs.py pipeline QSOCK CONNS SECS       CONNS connections, each
        keeping 4 checks in flight for SECS seconds; prints "answers N"
        and "maxgap MS": the longest time no answer arrived at all.
    kzobs.py holdhttp HOST PORT N SECS       N idle TCP connections.
"""
import json
import os
import selectors
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kzload import HDR, MAGIC, T_CHECK, T_BATCH, frame, s16  # noqa: E402

T_ANSWER, T_BATCH_ANSWER = 303, 304
DECISIONS = {0: "implicit_deny", 1: "allow", 2: "explicit_deny"}
REASONS = {1: "allowed-by-identity-policy", 2: "allowed-by-key-policy",
           3: "allowed-by-both", 4: "allowed-as-account-root",
           5: "explicit-deny", 6: "no-matching-allow",
           7: "cross-account-needs-identity-allow",
           8: "cross-account-needs-key-policy-allow",
           9: "key-not-found", 10: "invalid-request"}
ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey",
           "kms:ScheduleKeyDeletion", "kms:GenerateDataKey", "kms:ListKeys",
           "kms:DisableKey"]


def body(req):
    ipb = socket.inet_pton(socket.AF_INET, req["ip"]) if req["ip"] else b""
    flags = 1 if req["explain"] else 0
    b = (struct.pack(">BBHIQ", flags, len(ipb), len(req["ctx"]), 0, 0) +
         ipb + b"\0" * (16 - len(ipb)) + s16(req["principal"]) +
         s16(req["action"]) + s16(req["resource"]))
    for k, v in req["ctx"]:
        b += s16(k) + s16(v)
    return b


def requests(bundle, n):
    """n requests drawn in turn from the bundle's names (deterministic)."""
    with open(bundle) as f:
        b = json.load(f)
    keys = ["acs:kms:%s:%s:key/%s" % (k["Region"], k["Creator"], k["KeyId"])
            for k in b.get("Keys", [])]
    acct = b["Keys"][0]["Creator"]
    keys.append("acs:kms:cn-hangzhou:%s:key/key-unknown" % acct)
    prins = ["acs:ram::%s:root" % acct]
    for kind, ent in (("user", "Users"), ("role", "Roles")):
        for u in b.get(ent, []):
            prins.append("acs:ram::%s:%s/%s" % (
                u.get("Account", acct), kind,
                u.get("UserName", u.get("RoleName", "x"))))
    prins.append("not-an-arn")
    out = []
    for i in range(n):
        out.append({
            "seq": i,
            "principal": prins[i % len(prins)],
            "action": ACTIONS[(i // len(prins)) % len(ACTIONS)],
            "resource": keys[(i // 3) % len(keys)],
            "ip": None if i % 4 == 3 else "10.0.%d.%d" % (i % 7, i % 250),
            "ctx": [("test:seq", str(i)), ("acs:SecureTransport", "true")],
            "explain": i % 7 == 0,
        })
    return out


def parse_answer(buf, off):
    d, r, fl, nm = buf[off], buf[off + 1], buf[off + 2], buf[off + 3]
    gen = struct.unpack(">Q", buf[off + 4:off + 12])[0]
    off += 12
    matched = []
    for _ in range(nm):
        kind = buf[off]
        idx = struct.unpack(">I", buf[off + 2:off + 6])[0]
        off += 6
        (ln,) = struct.unpack(">H", buf[off:off + 2])
        name = buf[off + 2:off + 2 + ln].decode()
        off += 2 + ln
        (ln,) = struct.unpack(">H", buf[off:off + 2])
        sid = buf[off + 2:off + 2 + ln].decode()
        off += 2 + ln
        matched.append({"source": "key" if kind == 1 else "policy",
                        "index": idx, "name": name, "sid": sid})
    return {"decision": DECISIONS[d], "reason": REASONS[r], "generation": gen,
            "matched": matched, "truncated": bool(fl & 1)}, off


def recv_frames(sock, buf):
    """Whole frames in buf after one recv: (frames, rest)."""
    chunk = sock.recv(262144)
    if not chunk:
        raise EOFError("connection closed")
    buf += chunk
    frames = []
    while len(buf) >= 16:
        _, _, _, ftype, _, rid, blen = HDR.unpack(buf[:16])
        if len(buf) < 16 + blen:
            break
        frames.append((ftype, rid, buf[16:16 + blen]))
        buf = buf[16 + blen:]
    return frames, buf


def cmd_run(qsock, bundle, n, conns, expected):
    reqs = requests(bundle, int(n))
    conns = int(conns)
    # Frames: every fifth request starts a batch of up to 4 (or a lone
    # CHECK); frame ids are per connection.
    plan = [[] for _ in range(conns)]
    i = 0
    while i < len(reqs):
        c = (i // 5) % conns
        if i % 5 == 0:
            plan[c].append(reqs[i:i + 4])
            i += 4
        else:
            plan[c].append([reqs[i]])
            i += 1
    socks, pending, nframes, nbatch, items = [], [], 0, 0, 0
    senders = []
    t0 = time.time()
    for c in range(conns):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(qsock)
        out = b""
        ids = {}
        for fid, group in enumerate(plan[c], 1):
            if len(group) == 1 and group[0]["seq"] % 5 != 0:
                out += frame(T_CHECK, fid, body(group[0]))
                nframes += 1
            else:
                bb = struct.pack(">HH", len(group), 0)
                for r in group:
                    bb += body(r)
                out += frame(T_BATCH, fid, bb)
                nbatch += 1
                items += len(group)
            ids[fid] = group
        # Sent by a thread: the daemon stops reading a client that
        # does not read its answers (max_queued_replies).
        t = threading.Thread(target=s.sendall, args=(out,))
        t.start()
        senders.append(t)
        socks.append(s)
        pending.append(ids)
    tally = {}
    with open(expected, "w") as f:
        for s, ids in zip(socks, pending):
            buf = b""
            while ids:
                frames, buf = recv_frames(s, buf)
                for ftype, rid, b in frames:
                    group = ids.pop(rid)
                    off = 4 if ftype == T_BATCH_ANSWER else 0
                    for r in group:
                        ans, off = parse_answer(b, off)
                        r.update(ans)
                        k = (ans["decision"], ans["reason"])
                        tally[k] = tally.get(k, 0) + 1
                        f.write(json.dumps(r) + "\n")
            s.close()
    for t in senders:
        t.join()
    dt = time.time() - t0
    for (d, r), cnt in sorted(tally.items()):
        print("%s %s %d" % (d, r, cnt))
    print("frames check=%d batch=%d items=%d" % (nframes, nbatch, items))
    print("rate %d" % int(len(reqs) / max(dt, 1e-6)))
    return 0


def cmd_compare(expected, log, uid):
    want = {}
    with open(expected) as f:
        for line in f:
            r = json.loads(line)
            want[r["seq"]] = r
    seen = {}
    bad = 0
    with open(log) as f:
        for line in f:
            rec = json.loads(line)
            seq = int(rec.get("context", {}).get("test:seq", -1))
            if seq in seen:
                print("# seq %d logged twice" % seq)
                bad += 1
            seen[seq] = rec
    for seq, r in want.items():
        rec = seen.get(seq)
        if rec is None:
            print("# seq %d not logged" % seq)
            bad += 1
            continue
        exp = {"principal": r["principal"], "action": r["action"],
               "resource": r["resource"], "source_ip": r["ip"],
               "decision": r["decision"].upper(), "reason": r["reason"],
               "generation": r["generation"], "uid": int(uid),
               "context": dict(r["ctx"])}
        for k, v in exp.items():
            if rec.get(k) != v:
                print("# seq %d: %s is %r, expected %r" % (
                    seq, k, rec.get(k), v))
                bad += 1
        if r["explain"]:
            got = [{"source": m["source"], "index": m["index"],
                    "name": m["name"], "sid": m.get("sid", "")}
                   for m in rec.get("matched", [])]
            if got != r["matched"]:
                print("# seq %d: matched %r, expected %r" % (
                    seq, got, r["matched"]))
                bad += 1
        elif "matched" in rec:
            print("# seq %d: matched without EXPLAIN" % seq)
            bad += 1
        for k in ("time", "pid", "request_id"):
            if k not in rec:
                print("# seq %d: no %s" % (seq, k))
                bad += 1
    extra = set(seen) - set(want)
    if extra:
        print("# %d records of no request" % len(extra))
        bad += 1
    print("# compared %d requests, %d log records, %d problems" % (
        len(want), len(seen), bad))
    return 1 if bad else 0


def cmd_pipeline(qsock, conns, secs):
    conns, secs = int(conns), float(secs)
    sel = selectors.DefaultSelector()
    one = frame(T_CHECK, 1, body({
        "principal": "acs:ram::123456:user/alice", "action": "kms:Decrypt",
        "resource": "acs:kms:cn-hangzhou:123456:key/k1", "ip": "10.0.0.1",
        "ctx": [], "explain": False}))
    for _ in range(conns):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(qsock)
        s.setblocking(False)
        s.send(one * 4)
        sel.register(s, selectors.EVENT_READ, [b""])
    answers, last, maxgap = 0, time.time(), 0.0
    end = time.time() + secs
    while time.time() < end:
        before = answers
        for key, _ in sel.select(timeout=0.05):
            s, st = key.fileobj, key.data
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                print("# a connection closed")
                return 1
            st[0] += chunk
            n = 0
            while len(st[0]) >= 16:
                blen = HDR.unpack(st[0][:16])[6]
                if len(st[0]) < 16 + blen:
                    break
                st[0] = st[0][16 + blen:]
                n += 1
            if n:
                s.send(one * n)
                answers += n
        now = time.time()
        if answers != before:
            last = now
        elif answers:
            maxgap = max(maxgap, now - last)
    print("answers %d" % answers)
    print("maxgap %d" % int(maxgap * 1000))
    return 0


def cmd_holdhttp(host, port, n, secs):
    held = []
    for _ in range(int(n)):
        held.append(socket.create_connection((host, int(port)), timeout=5))
    print("held %d" % len(held), flush=True)
    time.sleep(float(secs))
    return 0


def main(argv):
    cmds = {"run": cmd_run, "compare": cmd_compare,
            "pipeline": cmd_pipeline, "holdhttp": cmd_holdhttp}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
