# SPDX-License-Identifier: ISC
"""min_generation (docs/protocol.md, "CHECK extension") against the real
daemon: the encoding, a check at the served generation, StaleError (a
deny) after the wait, and a parked check answered once an admin change
publishes the generation it asked for."""
import struct
import threading
import time

import pytest

import kmsauthz
from kmsauthz import _proto
from conftest import EXAMPLE_BUNDLE

ACCT = "1192853035118888"
KEY_ID = "key-hzz6304944631ejqjx0002"
KEY = "acs:kms:cn-hangzhou:%s:key/%s" % (ACCT, KEY_ID)
ALICE = "acs:ram::%s:user/alice" % ACCT


def wait_for(what, cond, seconds=20.0):
    """Polls cond until it holds, with a deadline (never a bare sleep)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    pytest.fail("timed out waiting for " + what)


def test_encoding():
    plain = _proto.encode_check(ALICE, "kms:Decrypt", KEY)
    body = _proto.encode_check(ALICE, "kms:Decrypt", KEY,
                               min_generation=43)
    assert body[0] == plain[0] | _proto.CHECK_MIN_GEN
    assert body[1:len(plain)] == plain[1:]
    assert body[len(plain):] == struct.pack(">BBHQ", 1, 0, 0, 43)
    assert _proto.encode_check(ALICE, "kms:Decrypt", KEY,
                               min_generation=0) == plain
    for bad in (-1, 2**64, 1.5, "3", True):
        with pytest.raises(kmsauthz.InvalidRequest):
            _proto.encode_check(ALICE, "kms:Decrypt", KEY,
                                min_generation=bad)


def test_min_generation(make_daemon):
    d = make_daemon(EXAMPLE_BUNDLE, ["min_generation_wait_ms = 300"])
    with kmsauthz.Client(d.query, timeout=10.0) as c:
        gen = c.status().generation
        got = c.check(ALICE, "kms:Decrypt", KEY, min_generation=gen)
        assert got.allowed and got.generation == gen
        t0 = time.monotonic()
        with pytest.raises(kmsauthz.StaleError) as e:
            c.check(ALICE, "kms:Decrypt", KEY, min_generation=gen + 1)
        assert time.monotonic() - t0 >= 0.25
        assert e.value.code == 9 and e.value.name == "STALE"
        assert isinstance(e.value, kmsauthz.ServerError)
        # Batch items carry it too; the next call reconnects.
        with pytest.raises(kmsauthz.StaleError):
            c.check_batch([{"principal": ALICE, "action": "kms:Decrypt",
                            "resource": KEY, "min_generation": gen + 1}])
        assert c.check(ALICE, "kms:Decrypt", KEY).allowed


def test_parked_until_published(make_daemon):
    d = make_daemon(EXAMPLE_BUNDLE, ["min_generation_wait_ms = 30000"])
    with kmsauthz.Client(d.query, timeout=40.0) as c:
        gen = c.status().generation
    out = {}

    def parked_check():
        try:
            with kmsauthz.Client(d.query, timeout=40.0) as c:
                out["answer"] = c.check(ALICE, "kms:Decrypt", KEY,
                                        min_generation=gen + 1)
        except kmsauthz.Error as e:
            out["error"] = e
    t = threading.Thread(target=parked_check)
    t.start()
    admin = kmsauthz.AdminClient(d.admin)
    wait_for("the check to be parked",
             lambda: admin.call("Status")["ParkedChecks"] == 1)
    assert "answer" not in out
    admin.call("TagResource", KeyId=KEY_ID,
               Tags=[{"TagKey": "py", "TagValue": "min-gen"}])
    t.join(30)
    assert not t.is_alive()
    assert "error" not in out, out.get("error")
    assert out["answer"].allowed
    assert out["answer"].generation >= gen + 1
    st = admin.call("Status")
    assert st["ParkedChecks"] == 0 and st["ParkedAnswered"] == 1
    admin.close()
