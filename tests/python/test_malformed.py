# SPDX-License-Identifier: ISC
"""Fail closed: a fake server answers with crafted frames; every malformed
or inconsistent answer raises kmsauthz.Error (never a Decision), through
Client and AsyncClient.  The well-formed answers of the same server are
read correctly, so the malformed cases are not passing by accident."""
import asyncio
import os
import socket
import struct
import threading
import time

import pytest

import kmsauthz
from kmsauthz import _proto as P


def hdr(msg_type, req_id, length, magic=P.MAGIC, version=1, flags=0,
        reserved=0):
    return struct.pack(">HBBHHII", magic, version, flags, msg_type,
                       reserved, req_id, length)


def frame(msg_type, req_id, body):
    return hdr(msg_type, req_id, len(body)) + body


def answer(decision=1, reason=1, flags=0, stmts=(), generation=7):
    body = struct.pack(">BBBBQ", decision, reason, flags, len(stmts),
                       generation)
    for kind, mflags, index, name, sid in stmts:
        body += struct.pack(">BBI", kind, mflags, index)
        body += struct.pack(">H", len(name)) + name
        body += struct.pack(">H", len(sid)) + sid
    return body


class FakeServer:
    """Accepts connections; for each request frame calls reply(type, id,
    body) and sends what it returns (None: send nothing, b"": close,
    (bytes,): send, then close)."""

    def __init__(self, path, reply):
        self.reply = reply
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        buf = b""
        try:
            while True:
                while len(buf) < 16 or len(buf) < 16 + struct.unpack(
                        ">I", buf[12:16])[0]:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                _, _, _, t, _, rid, n = struct.unpack(">HBBHHII", buf[:16])
                body, buf = buf[16:16 + n], buf[16 + n:]
                out = self.reply(t, rid, body)
                if isinstance(out, tuple):          # (bytes, then close)
                    conn.sendall(out[0])
                    out = b""
                if out == b"":
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                if out is not None:
                    conn.sendall(out)
        except OSError:
            return

    def close(self):
        self.stop = True
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def fake(tmp_path):
    servers = []

    def make(reply):
        path = str(tmp_path / ("f%d.sock" % len(servers)))
        servers.append(FakeServer(path, reply))
        return path
    yield make
    for s in servers:
        s.close()


def fixed(body_fn):
    """A reply that answers every request with body_fn(id)."""
    return lambda t, rid, body: body_fn(rid)


ALLOW_STMT = [(1, 1, 0, b"k1", b"AllowAll")]

MALFORMED = {
    "wrong magic": lambda i: hdr(303, i, 12, magic=0x4b5b) + answer(),
    "version 2": lambda i: hdr(303, i, 12, version=2) + answer(),
    "header flags": lambda i: hdr(303, i, 12, flags=1) + answer(),
    "header reserved": lambda i: hdr(303, i, 12, reserved=1) + answer(),
    "body over the limit": lambda i: hdr(303, i, P.MAX_REPLY_BODY + 1),
    "a request id not in flight": lambda i: frame(303, i + 1000, answer()),
    "id 0": lambda i: frame(303, 0, answer()),
    "PONG to a CHECK": lambda i: frame(301, i, b""),
    "a request type": lambda i: frame(100, i, answer()),
    "ALLOW with reason explicit-deny": lambda i: frame(
        303, i, answer(1, 5)),
    "ALLOW with reason 0": lambda i: frame(303, i, answer(1, 0)),
    "ALLOW with reason no-matching-allow": lambda i: frame(
        303, i, answer(1, 6)),
    "EXPLICIT_DENY with an allow reason": lambda i: frame(
        303, i, answer(2, 1)),
    "decision 3": lambda i: frame(303, i, answer(3, 1)),
    "reason 11": lambda i: frame(303, i, answer(0, 11)),
    "unknown answer flag": lambda i: frame(303, i, answer(flags=2)),
    "33 statements": lambda i: frame(303, i, answer(
        stmts=[(1, 0, 0, b"k", b"")] * 33)),
    "statement kind 3": lambda i: frame(303, i, answer(
        stmts=[(3, 0, 0, b"k1", b"")])),
    "statement flag 2": lambda i: frame(303, i, answer(
        stmts=[(1, 2, 0, b"k1", b"")])),
    "statement without a name": lambda i: frame(303, i, answer(
        stmts=[(1, 0, 0, b"", b"")])),
    "Sid without HAS_SID": lambda i: frame(303, i, answer(
        stmts=[(1, 0, 0, b"k1", b"x")])),
    "NUL in a name": lambda i: frame(303, i, answer(
        stmts=[(1, 0, 0, b"k\0", b"")])),
    "name over 256 bytes": lambda i: frame(303, i, answer(
        stmts=[(1, 0, 0, b"k" * 257, b"")])),
    "body cut short": lambda i: frame(303, i, answer()[:-1]),
    "bytes left over": lambda i: frame(303, i, answer() + b"\0"),
    "statement cut short": lambda i: frame(303, i, answer(
        stmts=ALLOW_STMT)[:-3]),
    "frame cut short, then closed": lambda i: (frame(303, i, answer())[:20],),
    "ERROR INTERNAL": lambda i: frame(305, i, struct.pack(
        ">HHH", 6, 0, 4) + b"oops"),
    "ERROR with an unknown code": lambda i: frame(305, i, struct.pack(
        ">HHH", 99, 0, 0)),
    "closed without an answer": lambda i: b"",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_raises(name, fake):
    path = fake(fixed(MALFORMED[name]))
    with kmsauthz.Client(path, timeout=2.0) as c:
        with pytest.raises(kmsauthz.Error):
            c.check("acs:ram::1:user/a", "kms:Decrypt", "acs:kms:r:1:key/k",
                    explain=True)
        # A later call connects again and fails the same way: no state
        # of the broken connection is kept.
        with pytest.raises(kmsauthz.Error):
            c.check("acs:ram::1:user/a", "kms:Decrypt", "acs:kms:r:1:key/k")


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_raises_async(name, fake):
    path = fake(fixed(MALFORMED[name]))

    async def run():
        async with kmsauthz.AsyncClient(path, timeout=2.0) as c:
            results = await asyncio.gather(*[
                c.check("acs:ram::1:user/a", "kms:Decrypt",
                        "acs:kms:r:1:key/k", explain=True)
                for _ in range(3)], return_exceptions=True)
        return results
    for r in asyncio.run(run()):
        assert isinstance(r, kmsauthz.Error), r


def test_well_formed_answers_are_read(fake):
    path = fake(fixed(lambda i: frame(303, i, answer(
        1, 2, 0, ALLOW_STMT, 42))))
    with kmsauthz.Client(path) as c:
        d = c.check("acs:ram::1:user/a", "kms:Decrypt", "acs:kms:r:1:key/k",
                    explain=True)
    assert d.allowed and d.decision == "ALLOW"
    assert d.reason == "allowed-by-key-policy" and d.generation == 42
    assert d.statements == (kmsauthz.Statement("key/k1", 0, "AllowAll"),)
    path = fake(fixed(lambda i: frame(303, i, answer(2, 5, 1))))
    with kmsauthz.Client(path) as c:
        d = c.check("acs:ram::1:user/a", "kms:Decrypt", "acs:kms:r:1:key/k")
    assert not d.allowed and not d and d.truncated
    assert (d.decision, d.reason) == ("EXPLICIT_DENY", "explicit-deny")
    with pytest.raises(AttributeError):
        d.decision = "ALLOW"


def test_server_error_fields(fake):
    path = fake(fixed(lambda i: frame(305, i, struct.pack(">HHH", 6, 0, 4)
                                      + b"oops")))
    with kmsauthz.Client(path) as c:
        with pytest.raises(kmsauthz.ServerError) as e:
            c.check("acs:ram::1:user/a", "kms:Decrypt", "acs:kms:r:1:key/k")
    assert (e.value.code, e.value.name, e.value.message) == \
        (6, "INTERNAL", "oops")


def test_silent_server_times_out(fake):
    path = fake(lambda t, rid, body: None)
    with kmsauthz.Client(path, timeout=0.3) as c:
        t0 = time.monotonic()
        with pytest.raises(kmsauthz.Timeout):
            c.check("acs:ram::1:user/a", "kms:Decrypt", "acs:kms:r:1:key/k")
        assert 0.25 <= time.monotonic() - t0 < 3.0

    async def run():
        async with kmsauthz.AsyncClient(path, timeout=0.3) as ac:
            with pytest.raises(kmsauthz.Timeout):
                await ac.check("acs:ram::1:user/a", "kms:Decrypt",
                               "acs:kms:r:1:key/k")
    asyncio.run(run())


def batch_reply(bad_index):
    """A BATCH_ANSWER whose answer number bad_index is inconsistent."""
    def reply(t, rid, body):
        n = struct.unpack(">H", body[:2])[0]
        out = struct.pack(">HH", n, 0)
        for k in range(n):
            out += answer(1, 5) if k == bad_index else answer(1, 1)
        return frame(304, rid, out)
    return reply


def test_batch_all_or_nothing(fake):
    reqs = [("acs:ram::1:user/a", "kms:Decrypt", "acs:kms:r:1:key/k")] * 5
    with kmsauthz.Client(fake(batch_reply(-1))) as c:
        assert all(d.allowed for d in c.check_batch(reqs))
    with kmsauthz.Client(fake(batch_reply(3))) as c:
        with pytest.raises(kmsauthz.ProtocolError):
            c.check_batch(reqs)

    def short(t, rid, body):
        n = struct.unpack(">H", body[:2])[0]
        return frame(304, rid, struct.pack(">HH", n - 1, 0) +
                     answer() * (n - 1))
    with kmsauthz.Client(fake(short)) as c:
        with pytest.raises(kmsauthz.ProtocolError):
            c.check_batch(reqs)


def test_batch_split_at_128(fake):
    sizes = []

    def reply(t, rid, body):
        n = struct.unpack(">H", body[:2])[0]
        sizes.append(n)
        return frame(304, rid, struct.pack(">HH", n, 0) + answer() * n)
    reqs = [("acs:ram::1:user/a", "kms:Decrypt", "acs:kms:r:1:key/k")] * 300
    with kmsauthz.Client(fake(reply)) as c:
        assert len(c.check_batch(reqs)) == 300
        assert c.check_batch([]) == []
    assert sorted(sizes) == [44, 128, 128]


def test_status_malformed(fake):
    good = struct.pack(">QQQQIIIIIIIBB", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                       1, 0) + struct.pack(">H", 3) + b"kzd"
    with kmsauthz.Client(fake(fixed(lambda i: frame(302, i, good)))) as c:
        st = c.status()
        assert (st.generation, st.connections, st.version) == (1, 11, "kzd")
    for bad in (good[:-1], good + b"x", good[:60] + b"\0\1" + good[62:]):
        with kmsauthz.Client(fake(fixed(
                lambda i, b=bad: frame(302, i, b)))) as c:
            with pytest.raises(kmsauthz.ProtocolError):
                c.status()


def test_connect_errors(tmp_path):
    with pytest.raises(kmsauthz.ConnectError):
        kmsauthz.Client(str(tmp_path / "none.sock")).ping()
    with pytest.raises(kmsauthz.ConnectError):
        kmsauthz.Client(str(tmp_path / ("x" * 200))).ping()

    async def run():
        with pytest.raises(kmsauthz.ConnectError):
            await kmsauthz.AsyncClient(str(tmp_path / "none.sock")).ping()
    asyncio.run(run())
    assert issubclass(kmsauthz.ConnectError, kmsauthz.Error)


def test_default_paths(monkeypatch):
    monkeypatch.delenv("KMSAUTHZ_SOCKET", raising=False)
    monkeypatch.delenv("KMSAUTHZ_ADMIN_SOCKET", raising=False)
    assert kmsauthz.Client().path == "/run/kmsauthzd/query.sock"
    assert kmsauthz.AdminClient().path == "/run/kmsauthzd/admin.sock"
    monkeypatch.setenv("KMSAUTHZ_SOCKET", "/tmp/q")
    monkeypatch.setenv("KMSAUTHZ_ADMIN_SOCKET", "/tmp/a")
    assert kmsauthz.Client().path == "/tmp/q"
    assert kmsauthz.AsyncClient().path == "/tmp/q"
    assert kmsauthz.AdminClient().path == "/tmp/a"
    assert kmsauthz.Client("/x").path == "/x"


BAD_ARGS = [
    dict(principal="p" * 1025),
    dict(action="a\0b"),
    dict(resource=5),
    dict(source_ip="10.0.0.1/8"),
    dict(source_ip="10.0.0"),
    dict(source_ip="fe80::1%eth0"),
    dict(source_ip=b"\1\2\3"),
    dict(time="2026-13-01T00:00:00Z"),
    dict(time="not-a-time"),
    dict(time=__import__("datetime").datetime(2026, 1, 1)),
    dict(time=True),
    dict(context={"k": 5}),
    dict(context={"k" * 129: "v"}),
    dict(context={"k": "v" * 513}),
    dict(context={"k%d" % i: "v" for i in range(65)}),
    dict(context="k=v"),
]


@pytest.mark.parametrize("bad", BAD_ARGS, ids=lambda b: repr(b)[:40])
def test_bad_arguments(bad, fake):
    calls = []
    path = fake(lambda t, rid, body: calls.append(1) or
                frame(303, rid, answer()))
    args = dict(principal="acs:ram::1:user/a", action="kms:Decrypt",
                resource="acs:kms:r:1:key/k")
    args.update(bad)
    with kmsauthz.Client(path) as c:
        with pytest.raises(kmsauthz.InvalidRequest):
            c.check(args.pop("principal"), args.pop("action"),
                    args.pop("resource"), **args)
    assert calls == [], "an invalid request reached the server"


def test_times_encode_as_the_daemon_parses():
    assert P.parse_time("2026-01-01T08:00:01+08:00") == (1767225601, 0)
    assert P.parse_time("2016-12-31T23:59:60Z") == (1483228799, 999999999)
    assert P.parse_time("2026-03-01T12:00:00.0000000001Z") == \
        (1772366400, 0)
    assert P.parse_time(1767225600) == (1767225600, 0)
    assert P.parse_time((5, 7)) == (5, 7)
    dt = __import__("datetime")
    assert P.parse_time(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)) \
        == (1767225600, 0)
    assert os.environ is not None
