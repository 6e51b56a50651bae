#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""kzload.py: protocol v1 load and fault clients for the end-to-end tests
and `make soak` (python3, standard library only).

    kzload.py storm   QSOCK ASOCK DIR N      numbered admin changes, acks in DIR
    kzload.py verify  QSOCK ASOCK DIR        after a crash: acks vs the state
    kzload.py fill    ASOCK MAX              big RAM policies until refused
    kzload.py abuse   QSOCK PID PHASE ...    hostile clients + a good client
    kzload.py hold    SOCK N SECS            N connections held (BUSY counted)
    kzload.py pinghold SOCK N SECS EVERY [ACTION]  held, each PINGing (or
                                           calling ACTION) every EVERY s
    kzload.py soak    QSOCK ASOCK PID SECS   mixed load, checks every answer

The wire format is docs/protocol.md: a 16-byte big-endian header (magic
"KZ", version 1, flags, type, reserved, request id, body length), CHECK
(100) answered by ANSWER (303), ADMIN_REQUEST (200) by ADMIN_RESPONSE
(306), ERROR (305).  Admin requests are sent by the test's uid (root:
the superuser).  Every command prints "# ..." diagnostics and exits 0
when every check held, 1 otherwise.
"""
import json
import os
import random
import socket
import struct
import sys
import threading
import time

MAGIC = 0x4B5A
HDR = struct.Struct(">HBBHHII")
T_PING, T_CHECK, T_BATCH, T_ADMIN = 2, 100, 101, 200
T_PONG, T_ANSWER, T_ERROR, T_ADMIN_RESP = 301, 303, 305, 306
DECISIONS = {0: "IMPLICIT_DENY", 1: "ALLOW", 2: "EXPLICIT_DENY"}
ACCOUNT = "1000000000000000"		# admin.conf's default account
REGION = "cn-hangzhou"


class ProtoError(Exception):
    pass


def frame(ftype, rid, body=b""):
    return HDR.pack(MAGIC, 1, 0, ftype, 0, rid, len(body)) + body


def s16(text):
    b = text.encode()
    return struct.pack(">H", len(b)) + b


def check_body(principal, action, resource, ip=None):
    ipb = socket.inet_pton(socket.AF_INET, ip) if ip else b""
    return (struct.pack(">BBHIQ", 0, len(ipb), 0, 0, 0) + ipb +
            b"\0" * (16 - len(ipb)) + s16(principal) + s16(action) +
            s16(resource))


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ProtoError("connection closed")
        buf += chunk
    return buf


def read_frame(sock):
    magic, ver, _, ftype, _, rid, blen = HDR.unpack(recv_exact(sock, 16))
    if magic != MAGIC or ver != 1:
        raise ProtoError("bad header")
    return ftype, rid, recv_exact(sock, blen)


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class Client:
    """One connection; check() and admin() are synchronous."""

    def __init__(self, path, timeout=10.0):
        self.sock = connect(path, timeout)
        self.rid = 0

    def close(self):
        self.sock.close()

    def check(self, principal, action, resource, ip=None):
        self.rid += 1
        self.sock.sendall(frame(T_CHECK, self.rid,
                                check_body(principal, action, resource, ip)))
        ftype, rid, body = read_frame(self.sock)
        if ftype != T_ANSWER or rid != self.rid or len(body) < 12:
            raise ProtoError("unexpected reply type %d" % ftype)
        return DECISIONS.get(body[0], "?"), body[1]

    def admin(self, action, **params):
        self.rid += 1
        js = json.dumps({"Action": action, "Parameters": params}).encode()
        body = struct.pack(">BBHI", 0, 0, 0, len(js)) + js
        self.sock.sendall(frame(T_ADMIN, self.rid, body))
        ftype, rid, body = read_frame(self.sock)
        if ftype == T_ERROR:
            raise ProtoError("ERROR frame %r" % body[:80])
        if ftype != T_ADMIN_RESP or rid != self.rid:
            raise ProtoError("unexpected reply type %d" % ftype)
        (jlen,) = struct.unpack(">I", body[4:8])
        return json.loads(body[8:8 + jlen])


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def key_arn(key):
    return "acs:kms:%s:%s:key/%s" % (REGION, ACCOUNT, key)


def user(name):
    return "acs:ram::%s:user/%s" % (ACCOUNT, name)


def allow_only(name):
    """A key policy that allows kms:Encrypt to user/NAME only."""
    return json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Principal": {"RAM": [user(name)]},
         "Action": ["kms:Encrypt"], "Resource": ["*"]}]})


def setup_key(adm, inst, key):
    """An instance and a key in it (idempotent: errors ignored)."""
    adm.admin("CreateInstance", InstanceId=inst, ShareQuota=100)
    adm.admin("CreateKey", DKMSInstanceId=inst, KeyId=key)


def fail(msg):
    print("# FAIL: " + msg)
    sys.stdout.flush()


# ---------------------------------------------------------------- storm
def cmd_storm(qsock, asock, outdir, n):
    """Change i: CreateUser s<i>, TagResource (3 tags t<i%6>a/b/c with
    value i, one call), SetKeyPolicy allowing user/s<i>.  Each call is
    logged to DIR/sent before it is sent and to DIR/acks once
    acknowledged (both fsynced).  Numbering goes on from earlier rounds.
    Stops at the first failure (the daemon was killed)."""
    adm = Client(asock)
    setup_key(adm, "kst-storm", "key-storm")
    logs = {k: open(os.path.join(outdir, k), "a") for k in ("sent", "acks")}
    try:
        i = max(int(l.split()[1]) for l in open(os.path.join(outdir, "sent")))
    except ValueError:
        i = 0
    open(os.path.join(outdir, "ready"), "w").close()

    def log(k, line):
        logs[k].write(line + "\n")
        logs[k].flush()
        os.fsync(logs[k].fileno())

    def step(desc, action, **params):
        log("sent", desc)
        r = adm.admin(action, **params)
        if "Code" in r:
            raise ProtoError("%s: %s %s" % (desc, r["Code"],
                                            r.get("Detail", "")))
        log("acks", desc)

    first = i + 1
    try:
        while i < n:
            i += 1
            step("user %d" % i, "CreateUser", UserName="s%d" % i)
            step("tags %d" % i, "TagResource", KeyId="key-storm",
                 Tags=json.dumps([{"TagKey": "t%d%s" % (i % 6, c),
                                   "TagValue": str(i)} for c in "abc"]))
            step("policy %d" % i, "SetKeyPolicy", KeyId="key-storm",
                 PolicyName="default", Policy=allow_only("s%d" % i))
    except (ProtoError, OSError) as e:
        print("# storm from change %d stopped at %d: %s" % (first, i, e))
    return 0


def cmd_verify(qsock, asock, outdir):
    """Right after a restart: the first query already sees the last
    acknowledged key policy (or a later one that was in flight), every
    acknowledged user and tag set is there, no tag set is half applied,
    and nothing appeared that was never sent."""
    ok = True
    acks = [l.split() for l in open(os.path.join(outdir, "acks"))]
    sent = [l.split() for l in open(os.path.join(outdir, "sent"))]
    pol = [int(j) for k, j in acks if k == "policy"]
    last = pol[-1] if pol else 0
    cand = {last} | {int(j) for k, j in sent
                     if k == "policy" and int(j) > last}
    q = Client(qsock)
    # Queries first, before any admin call could publish anything.
    answers = {j: q.check(user("s%d" % j), "kms:Encrypt",
                          key_arn("key-storm"))[0]
               for j in cand | {last - 1}}
    allowed = [j for j, d in answers.items() if d == "ALLOW"]
    if len(allowed) != 1 or allowed[0] not in cand:
        ok = False
        fail("first queries after restart: %r (last acknowledged policy %d)"
             % (answers, last))
    else:
        print("# first query after restart: policy %d in force "
              "(last acknowledged %d)" % (allowed[0], last))
    adm = Client(asock)
    r = adm.admin("ExportBundle")
    if "Code" in r:
        fail("ExportBundle: %r" % r)
        return 1
    b = json.loads(r["Bundle"]) if isinstance(r["Bundle"], str) \
        else r["Bundle"]
    users = {u["UserName"] for u in b.get("Users", [])}
    tags = {}
    for k in b.get("Keys", []):
        if k["KeyId"] == "key-storm":
            tags = k.get("Tags", {})
            if isinstance(tags, list):
                tags = {t["TagKey"]: t["TagValue"] for t in tags}
    for k, j in acks:
        if k == "user" and "s" + j not in users:
            ok = False
            fail("acknowledged user %s missing" % j)
    # Nothing half applied: each tag triple has one value.
    for g in range(6):
        vals = {tags.get("t%d%s" % (g, c)) for c in "abc"}
        if len(vals) != 1:
            ok = False
            fail("tag set t%d half applied: %r" % (g, vals))
    for g in range(6):
        mine = [int(j) for k, j in acks if k == "tags" and int(j) % 6 == g]
        if mine:
            v = tags.get("t%da" % g)
            if v is None or int(v) < mine[-1]:
                ok = False
                fail("acknowledged tags %d lost (t%da = %r)"
                     % (mine[-1], g, v))
    extra = users - {"s" + j for k, j in sent if k == "user"}
    if extra:
        ok = False
        fail("users that were never sent: %r" % sorted(extra))
    unacked = len(sent) - len(acks)
    print("# %d acknowledged changes checked (%d sent unacknowledged over "
          "all rounds), %d users" % (len(acks), unacked, len(users)))
    return 0 if ok else 1


# ---------------------------------------------------------------- fill
def cmd_fill(asock, most):
    """CreatePolicy fill<i> (about 6 KB each) until a call is refused or
    MAX calls; prints the count, then the refusal as JSON on the last
    line, with the generation before and after it."""
    adm = Client(asock)
    stmt = {"Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": ["*"],
            "Condition": {"StringEquals": {"kms:EncryptionContext/x": []}}}
    for i in range(most):
        vals = ["v%05d-%s" % (i, "x" * 40) for _ in range(110)]
        stmt["Condition"]["StringEquals"]["kms:EncryptionContext/x"] = \
            [v + str(k) for k, v in enumerate(vals)]
        doc = json.dumps({"Version": "1", "Statement": [stmt]},
                         separators=(",", ":"))
        g0 = adm.admin("Status").get("Generation")
        r = adm.admin("CreatePolicy", PolicyName="fill%d" % i,
                      PolicyDocument=doc)
        if "Code" in r:
            g1 = adm.admin("Status").get("Generation")
            print("# %d policies of %d bytes stored before the refusal"
                  % (i, len(doc)))
            r["GenerationBefore"], r["GenerationAfter"] = g0, g1
            r["Refused"] = "fill%d" % i
            print(json.dumps(r, separators=(",", ":")))
            return 0
    print("# %d policies stored, never refused" % most)
    return 1


# ---------------------------------------------------------------- abuse
class GoodClient(threading.Thread):
    """Asks the same question over one connection until stopped; every
    answer must be the expected one and come within MAXLAT seconds."""

    def __init__(self, qsock, principal, action, resource, expect):
        super().__init__(daemon=True)
        self.args = (principal, action, resource)
        self.expect = expect
        self.qsock = qsock
        self.n = 0
        self.bad = 0
        self.maxlat = 0.0
        self.error = None
        self.stop = threading.Event()

    def run(self):
        try:
            c = Client(self.qsock, timeout=5.0)
            while not self.stop.is_set():
                t0 = time.monotonic()
                d, _ = c.check(*self.args)
                self.maxlat = max(self.maxlat, time.monotonic() - t0)
                self.n += 1
                if d != self.expect:
                    self.bad += 1
                time.sleep(0.002)
        except Exception as e:		# noqa: BLE001 - reported
            self.error = repr(e)


class GoodAdmin(threading.Thread):
    """Asks the admin socket for Status over one connection until
    stopped; every answer must carry a Generation and come within
    MAXLAT seconds."""

    def __init__(self, asock):
        super().__init__(daemon=True)
        self.asock = asock
        self.n = 0
        self.bad = 0
        self.maxlat = 0.0
        self.error = None
        self.stop = threading.Event()

    def run(self):
        try:
            c = Client(self.asock, timeout=5.0)
            while not self.stop.is_set():
                t0 = time.monotonic()
                r = c.admin("Status")
                self.maxlat = max(self.maxlat, time.monotonic() - t0)
                self.n += 1
                if "Generation" not in r or "Code" in r:
                    self.bad += 1
                time.sleep(0.01)
        except Exception as e:		# noqa: BLE001 - reported
            self.error = repr(e)


def admin_frame(rid, action, **params):
    js = json.dumps({"Action": action, "Parameters": params}).encode()
    return frame(T_ADMIN, rid, struct.pack(">BBHI", 0, 0, 0, len(js)) + js)


def abuse_admin_garbage(asock, n):
    """n clients on the admin socket: random bytes, half frames, a
    query type, lying lengths, a body over the 1 MiB admin limit (sent
    for real), then EOF or an abrupt close.  Returns the number not
    refused."""
    rnd = random.Random(11)
    bad = 0
    for i in range(n):
        s = connect(asock)
        kind = i % 6
        try:
            if kind == 0:		# garbage
                s.sendall(bytes(rnd.randrange(256)
                                for _ in range(rnd.randrange(16, 2048))))
                bad += not expect_refusal(s)
            elif kind == 1:		# half a header, then gone
                s.sendall(admin_frame(1, "Status")[:rnd.randrange(1, 16)])
            elif kind == 2:		# half a body then EOF
                f = admin_frame(1, "Status")
                s.sendall(f[:16 + rnd.randrange(1, len(f) - 16)])
                s.shutdown(socket.SHUT_WR)
                bad += not expect_refusal(s)
            elif kind == 3:		# a query frame: not on this socket
                s.sendall(frame(T_CHECK, 1, check_body("a", "b", "c")))
                bad += not expect_refusal(s)
            elif kind == 4:		# a length just over 1 MiB, then a body
                s.sendall(HDR.pack(MAGIC, 1, 0, T_ADMIN, 0, 1,
                                   1024 * 1024 + 1))
                try:
                    s.sendall(b"z" * (64 * 1024))
                except (BrokenPipeError, ConnectionResetError):
                    pass
                bad += not expect_refusal(s)
            else:			# a huge length
                s.sendall(HDR.pack(MAGIC, 1, 0, T_ADMIN, 0, 1, 0xFFFFFFF0))
                bad += not expect_refusal(s)
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.close()
    return bad


def open_pinged(path, n):
    """Open n connections and PING each; print "served S busy B" (busy:
    refused with ERROR BUSY, or not opened at all); return the served."""
    held, busy = [], 0
    for _ in range(n):
        try:
            s = connect(path, timeout=5.0)
            s.sendall(frame(T_PING, 1))
            ftype, _, body = read_frame(s)
            if ftype == T_PONG:
                held.append(s)
                continue
            if ftype == T_ERROR and struct.unpack(">H", body[:2])[0] == 5:
                busy += 1
            s.close()
        except (ProtoError, OSError):
            busy += 1
    print("served %d busy %d" % (len(held), busy))
    sys.stdout.flush()
    return held


def cmd_hold(path, n, secs):
    """Open n connections (PING each); print how many were served and
    how many refused BUSY; hold the served ones for secs."""
    held = open_pinged(path, n)
    time.sleep(secs)
    for s in held:
        s.close()
    return 0


def cmd_pinghold(path, n, secs, every, action=None):
    """Open n connections; every `every` seconds each sends a PING (or
    the admin call `action`), to keep them busy.  Prints "served S busy
    B" once they are open, then "closed C after T s" when the daemon has
    closed C of them (all, or when secs ran out)."""
    held = open_pinged(path, n)
    start = time.monotonic()
    live = list(held)
    closed = 0
    rid = 1
    while live and time.monotonic() - start < secs:
        rid += 1
        for s in list(live):
            try:
                if action:
                    js = json.dumps({"Action": action}).encode()
                    body = struct.pack(">BBHI", 0, 0, 0, len(js)) + js
                    s.sendall(frame(T_ADMIN, rid, body))
                else:
                    s.sendall(frame(T_PING, rid))
                read_frame(s)
            except (ProtoError, OSError):
                live.remove(s)
                s.close()
                closed += 1
        time.sleep(every)
    print("closed %d after %.1f s" % (closed, time.monotonic() - start))
    sys.stdout.flush()
    for s in live:
        s.close()
    return 0


def expect_refusal(s):
    """An ERROR frame then a close, or a close: True.  A reply: False."""
    try:
        s.settimeout(5.0)
        ftype, _, _ = read_frame(s)
        if ftype != T_ERROR:
            return False
        return s.recv(1) == b""
    except ProtoError:
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def abuse_garbage(qsock, n):
    """n clients: random bytes, half frames, lying lengths, then EOF or
    an abrupt close.  Returns the number not refused."""
    rnd = random.Random(7)
    bad = 0
    for i in range(n):
        s = connect(qsock)
        kind = i % 5
        try:
            if kind == 0:		# garbage
                s.sendall(bytes(rnd.randrange(256)
                                for _ in range(rnd.randrange(16, 2048))))
                bad += not expect_refusal(s)
            elif kind == 1:		# half a header, then gone
                s.sendall(frame(T_PING, 1)[:rnd.randrange(1, 16)])
            elif kind == 2:		# a body announced, a little sent, gone
                s.sendall(HDR.pack(MAGIC, 1, 0, T_CHECK, 0, 1, 60000) +
                          b"x" * 100)
            elif kind == 3:		# half a body then EOF: just closed
                s.sendall(HDR.pack(MAGIC, 1, 0, T_CHECK, 0, 1, 200) +
                          b"y" * 50)
                s.shutdown(socket.SHUT_WR)
                bad += not expect_refusal(s)
            else:			# oversize length: TOOBIG
                s.sendall(HDR.pack(MAGIC, 1, 0, T_CHECK, 0, 1, 0xFFFFFFF0))
                bad += not expect_refusal(s)
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.close()
    return bad


def cmd_abuse(qsock, pid, phase, *args):
    good = GoodClient(qsock, "acs:ram::1192853035118888:root", "kms:Decrypt",
                      "acs:kms:cn-hangzhou:1192853035118888:key/"
                      "key-hzz6304944631ejqjx0001", "ALLOW")
    good.start()
    gadm = None
    if phase.startswith("admin-"):	# args[0]: the admin socket
        gadm = GoodAdmin(args[0])
        gadm.start()
    time.sleep(0.3)
    rss0 = rss_kb(pid)
    peak = rss0
    ok = True
    held = []
    try:
        if phase == "garbage":
            n = int(args[0])
            bad = abuse_garbage(qsock, n)
            print("# %d hostile clients (garbage, half frames, lying "
                  "lengths, oversize), %d not refused" % (n, bad))
            ok = bad == 0
        elif phase == "limits":
            # args: how many to open, the per-uid cap.
            n, cap = int(args[0]), int(args[1])
            busy = 0
            for _ in range(n):
                try:
                    s = connect(qsock, timeout=5.0)
                    s.sendall(frame(T_PING, 1))
                    ftype, _, body = read_frame(s)
                    if ftype == T_PONG:
                        held.append(s)
                    elif ftype == T_ERROR and \
                            struct.unpack(">H", body[:2])[0] == 5:
                        busy += 1
                        s.close()
                except (ProtoError, OSError):
                    busy += 1
                peak = max(peak, rss_kb(pid))
            print("# opened %d: %d served, %d refused BUSY (cap %d, the "
                  "good client holds one)" % (n, len(held), busy, cap))
            ok = len(held) == cap - 1 and busy == n - len(held)
            for s in held:
                s.close()
            held = []
            time.sleep(0.5)
            c = Client(qsock)
            c.check("acs:ram::1:root", "kms:Decrypt", "*")
            c.close()
            print("# after they closed, a new client is served")
        elif phase == "slowloris":
            # args: connections, seconds.  Each sends one header byte at
            # a time, slowly, and never reads.
            n, secs = int(args[0]), float(args[1])
            conns = []
            for _ in range(n):
                try:
                    conns.append(connect(qsock))
                except OSError:
                    break
            hdr = frame(T_PING, 1)
            t_end = time.monotonic() + secs
            k = 0
            while time.monotonic() < t_end:
                for s in conns:
                    try:
                        s.send(hdr[k % 15:k % 15 + 1])
                    except OSError:
                        pass
                k += 1
                peak = max(peak, rss_kb(pid))
                time.sleep(0.5)
            # With "closed": request_timeout must have closed them all.
            closed = 0
            for s in conns:
                try:
                    s.setblocking(False)
                    if s.recv(1) == b"":
                        closed += 1
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
            print("# %d slowloris connections for %.0f s, %d closed by the "
                  "daemon" % (len(conns), secs, closed))
            if len(args) > 2 and args[2] == "closed":
                ok = len(conns) == n and closed == n
            for s in conns:
                s.close()
        elif phase == "admin-garbage":
            # args: admin socket, clients.
            n = int(args[1])
            bad = abuse_admin_garbage(args[0], n)
            print("# %d hostile admin clients (garbage, half frames, a query "
                  "frame, a body over 1 MiB, lying lengths), %d not refused"
                  % (n, bad))
            ok = bad == 0
        elif phase == "admin-noread":
            # args: admin socket, connections, seconds.  Each pipelines
            # ExportBundle requests (large answers) and never reads.
            n, secs = int(args[1]), float(args[2])
            req = admin_frame(1, "ExportBundle")
            conns = []
            for _ in range(n):
                s = connect(args[0])
                s.setblocking(False)
                conns.append(s)
            sent = 0
            t_end = time.monotonic() + secs
            while time.monotonic() < t_end:
                for s in conns:
                    try:
                        s.send(req)
                        sent += 1
                    except (BlockingIOError, OSError):
                        pass
                peak = max(peak, rss_kb(pid))
                time.sleep(0.05)
            closed = 0
            for s in conns:
                s.setblocking(True)
                s.settimeout(0.2)
                try:
                    while True:
                        if s.recv(1 << 20) == b"":
                            closed += 1
                            break
                except (ConnectionResetError, BrokenPipeError):
                    closed += 1
                except (socket.timeout, OSError):
                    pass
                s.close()
            print("# %d non-reading admin clients sent %d ExportBundle "
                  "requests in %.0f s; %d closed by the daemon"
                  % (n, sent, secs, closed))
            ok = closed == n
        elif phase == "bigout":
            # args: seconds, max_queued_replies.  One connection pipelines
            # big explained batches and never reads, its receive buffer
            # small: the 4 MiB output bound, not the answer count,
            # must stop reading it.
            secs, maxq = float(args[0]), int(args[1])
            item = (struct.pack(">BBHIQ", 1, 0, 0, 0, 0) + b"\0" * 16 +
                    s16("acs:ram::1192853035118888:root") +
                    s16("kms:Decrypt") +
                    s16("acs:kms:cn-hangzhou:1192853035118888:key/"
                        "key-hzz6304944631ejqjx0004"))
            batch = frame(T_BATCH, 1, struct.pack(">HH", 128, 0) + item * 128)
            # The size of one answer, read on another connection.
            c = connect(qsock)
            c.sendall(batch)
            _, _, body = read_frame(c)
            c.close()
            rlen = 16 + len(body)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(qsock)
            s.settimeout(1.0)
            sent = 0
            t_end = time.monotonic() + secs
            try:
                while time.monotonic() < t_end:
                    s.sendall(batch)
                    sent += 1
                    if sent % 16 == 0:
                        peak = max(peak, rss_kb(pid))
            except socket.timeout:
                pass		# the daemon stopped reading us
            peak = max(peak, rss_kb(pid))
            time.sleep(0.5)
            peak = max(peak, rss_kb(pid))
            print("# answers of %d bytes; %d batches sent (%d bytes of "
                  "answers) before the daemon stopped reading; "
                  "max_queued_replies %d" % (rlen, sent, sent * rlen, maxq))
            # Stopped by bytes: fewer answers than the count bound, at
            # least 4 MiB of them.
            ok = sent < maxq and sent * rlen >= 4 * 1024 * 1024
            if time.monotonic() >= t_end:
                ok = False
                fail("the daemon never stopped reading")
            s.close()
        elif phase == "noread":
            # args: connections, seconds.  Each pipelines CHECK_BATCHes
            # of 128 explained checks and never reads an answer.
            n, secs = int(args[0]), float(args[1])
            conns = []
            item = (struct.pack(">BBHIQ", 1, 0, 0, 0, 0) + b"\0" * 16 +
                    s16("acs:ram::1192853035118888:root") +
                    s16("kms:Decrypt") +
                    s16("acs:kms:cn-hangzhou:1192853035118888:key/"
                        "key-hzz6304944631ejqjx0004"))
            batch = frame(T_BATCH, 1, struct.pack(">HH", 128, 0) + item * 128)
            for _ in range(n):
                s = connect(qsock)
                s.setblocking(False)
                conns.append(s)
            sent = 0
            t_end = time.monotonic() + secs
            while time.monotonic() < t_end:
                for s in conns:
                    try:
                        s.send(batch)
                        sent += 1
                    except (BlockingIOError, OSError):
                        pass
                peak = max(peak, rss_kb(pid))
                time.sleep(0.05)
            closed = 0
            for s in conns:
                s.setblocking(True)
                s.settimeout(0.2)
                try:
                    while True:		# drain what is queued
                        if s.recv(1 << 20) == b"":
                            closed += 1
                            break
                except (ConnectionResetError, BrokenPipeError):
                    closed += 1		# closed with our requests unread
                except (socket.timeout, OSError):
                    pass
                s.close()
            print("# %d non-reading clients sent %d batches in %.0f s; "
                  "%d closed by the daemon" % (n, sent, secs, closed))
            if len(args) > 2 and closed < n:
                ok = False
                fail("slow_client_timeout did not close them all")
        else:
            fail("unknown phase " + phase)
            ok = False
    finally:
        for s in held:
            s.close()
        time.sleep(0.5)
        good.stop.set()
        good.join(10)
        if gadm is not None:
            gadm.stop.set()
            gadm.join(10)
    rss1 = rss_kb(pid)
    print("# daemon VmRSS: before %d kB, peak %d kB, after %d kB"
          % (rss0, peak, rss1))
    print("# good client: %d answers, %d wrong, slowest %.0f ms%s"
          % (good.n, good.bad, good.maxlat * 1000,
             ", error " + good.error if good.error else ""))
    with open(os.environ.get("KZLOAD_RSS", "/dev/null"), "w") as f:
        f.write("%d %d %d\n" % (rss0, peak, rss1))
    # The longest wait a well-behaved client may see: 1 s, more in a
    # ThreadSanitizer build (scripts/test.sh sets KZLOAD_MAXLAT there).
    maxlat = float(os.environ.get("KZLOAD_MAXLAT", "1.0"))
    if good.error or good.bad or good.n == 0 or good.maxlat > maxlat:
        ok = False
        fail("the well-behaved client was not served throughout")
    if gadm is not None:
        print("# good admin client: %d answers, %d wrong, slowest %.0f ms%s"
              % (gadm.n, gadm.bad, gadm.maxlat * 1000,
                 ", error " + gadm.error if gadm.error else ""))
        if gadm.error or gadm.bad or gadm.n == 0 or gadm.maxlat > maxlat:
            ok = False
            fail("the well-behaved admin client was not served throughout")
    return 0 if ok else 1


# ---------------------------------------------------------------- soak
def cmd_soak(qsock, asock, pid, secs, nconn=4):
    """nconn query connections and one admin connection for secs
    seconds.  The admin thread sets policy i (allowing user/s<i> only)
    on key-soak and creates/deletes a user, in a loop.  Each query asks
    about user/s<b> and user/s<b-1> where b is the last acknowledged
    policy when the query was sent: s<b-1> must be denied, s<b> allowed
    unless a newer policy was acknowledged or in flight meanwhile; a
    third question about a key nobody changes must always be allowed."""
    adm = Client(asock)
    setup_key(adm, "kst-soak", "key-soak")
    setup_key(adm, "kst-soak", "key-fixed")
    r = adm.admin("SetKeyPolicy", KeyId="key-fixed", PolicyName="default",
                  Policy=allow_only("fixed"))
    if "Code" in r:
        fail("setup: %r" % r)
        return 1
    state = {"acked": 0, "sent": 0}
    lock = threading.Lock()
    stop = threading.Event()
    stats = {"changes": 0, "admin_errors": 0, "queries": 0, "wrong": 0,
             "errors": 0}
    samples = []

    def set_policy(i):
        with lock:
            state["sent"] = i
        r = adm.admin("SetKeyPolicy", KeyId="key-soak", PolicyName="default",
                      Policy=allow_only("s%d" % i))
        if "Code" in r:
            raise ProtoError("SetKeyPolicy %d: %s" % (i, r["Code"]))
        with lock:
            state["acked"] = i

    def admin_loop():
        i = 1
        try:
            while not stop.is_set():
                i += 1
                set_policy(i)
                for a, p in (("CreateUser", {"UserName": "tmp%d" % i}),
                             ("DeleteUser", {"UserName": "tmp%d" % i})):
                    r = adm.admin(a, **p)
                    if "Code" in r:
                        raise ProtoError("%s: %s" % (a, r["Code"]))
                stats["changes"] += 3
                time.sleep(0.01)
        except Exception as e:		# noqa: BLE001 - counted
            stats["admin_errors"] += 1
            fail("admin: %r" % e)
            stop.set()

    def query_loop():
        try:
            c = Client(qsock)
            res = key_arn("key-soak")
            fixed = key_arn("key-fixed")
            while not stop.is_set():
                with lock:
                    b, sent0 = state["acked"], state["sent"]
                d_cur, _ = c.check(user("s%d" % b), "kms:Encrypt", res)
                d_old, _ = c.check(user("s%d" % (b - 1)), "kms:Encrypt", res)
                d_fix, _ = c.check(user("fixed"), "kms:Encrypt", fixed)
                with lock:
                    moved = state["sent"] > b or sent0 > b
                stats["queries"] += 3
                if d_old == "ALLOW" or d_fix != "ALLOW" or \
                        (d_cur != "ALLOW" and not moved):
                    stats["wrong"] += 1
                    if stats["wrong"] <= 5:
                        fail("policy %d: s%d %s, s%d %s, fixed %s"
                             % (b, b, d_cur, b - 1, d_old, d_fix))
        except Exception as e:		# noqa: BLE001 - counted
            stats["errors"] += 1
            fail("query: %r" % e)
            stop.set()

    set_policy(1)
    threads = [threading.Thread(target=admin_loop, daemon=True)]
    threads += [threading.Thread(target=query_loop, daemon=True)
                for _ in range(nconn)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    every = max(1.0, min(30.0, secs / 20))
    nxt = t0
    while time.monotonic() - t0 < secs and not stop.is_set():
        if time.monotonic() >= nxt:
            kb = rss_kb(pid)
            samples.append(kb)
            print("# t=%4.0fs VmRSS %d kB, %d queries, %d changes, "
                  "%d wrong, %d errors"
                  % (time.monotonic() - t0, kb, stats["queries"],
                     stats["changes"], stats["wrong"],
                     stats["errors"] + stats["admin_errors"]))
            sys.stdout.flush()
            nxt += every
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(15)
    samples.append(rss_kb(pid))
    el = time.monotonic() - t0
    warm = samples[min(len(samples) - 1, max(1, len(samples) // 5))]
    growth = samples[-1] - warm
    print("# soak: %.0f s, %d queries (%.0f/s), %d changes (%.1f/s), "
          "%d wrong, %d errors" % (el, stats["queries"], stats["queries"] / el,
                                   stats["changes"], stats["changes"] / el,
                                   stats["wrong"],
                                   stats["errors"] + stats["admin_errors"]))
    print("# soak: VmRSS first %d kB, after warm-up %d kB, last %d kB, "
          "max %d kB (growth after warm-up %+d kB)"
          % (samples[0], warm, samples[-1], max(samples), growth))
    limit = int(os.environ.get("SOAK_RSS_GROWTH_KB", "32768"))
    ok = stats["wrong"] == 0 and stats["errors"] == 0 and \
        stats["admin_errors"] == 0 and stats["queries"] > 0
    if growth > limit:
        ok = False
        fail("resident memory grew %d kB after warm-up (limit %d)"
             % (growth, limit))
    return 0 if ok else 1


def main(argv):
    cmds = {"storm": lambda a: cmd_storm(a[0], a[1], a[2], int(a[3])),
            "verify": lambda a: cmd_verify(a[0], a[1], a[2]),
            "fill": lambda a: cmd_fill(a[0], int(a[1])),
            "abuse": lambda a: cmd_abuse(a[0], int(a[1]), a[2], *a[3:]),
            "hold": lambda a: cmd_hold(a[0], int(a[1]), float(a[2])),
            "pinghold": lambda a: cmd_pinghold(a[0], int(a[1]), float(a[2]),
                                               float(a[3]),
                                               a[4] if len(a) > 4 else None),
            "soak": lambda a: cmd_soak(a[0], a[1], int(a[2]), float(a[3]),
                                       *[int(x) for x in a[4:5]])}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
