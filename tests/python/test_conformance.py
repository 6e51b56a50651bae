# SPDX-License-Identifier: ISC
"""The conformance tables (tests/conformance/*.json) answered through the
Python client as tests/regress/009 answers them through kmsauthzctl:
Decision, Reason and the matched statements (as a set) for every case,
by Client.check, by Client.check_batch and by AsyncClient.check
(pipelined), all three identical.  A request the wire cannot carry (an
address or a time that does not parse) must be refused by the client
(kmsauthz.InvalidRequest, never an answer) and be expected
invalid-request."""
import asyncio
import glob
import json
import os

import pytest

import kmsauthz
from conftest import CONFORMANCE

TABLES = sorted(glob.glob(os.path.join(CONFORMANCE, "*.json")))


def request_args(r):
    ctx = {k: (v if isinstance(v, str) else json.dumps(v))
           for k, v in r.get("Context", {}).items()}
    return dict(principal=r["Principal"], action=r["Action"],
                resource=r["Resource"], source_ip=r.get("SourceIp"),
                context=ctx, time=r["CurrentTime"], explain=True)


def got(d):
    return (d.decision, d.reason, sorted(
        json.dumps(dict({"Source": s.source, "Index": s.index},
                        **({"Sid": s.sid} if s.sid is not None else {})),
                   sort_keys=True) for s in d.statements))


def want(e):
    return (e["Decision"], e["Reason"],
            sorted(json.dumps(m, sort_keys=True) for m in e["Matched"]))


@pytest.mark.parametrize("table", TABLES, ids=lambda p: os.path.basename(p))
def test_table(table, make_daemon, tmp_path):
    with open(table) as f:
        t = json.load(f)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(t["Bundle"]))
    d = make_daemon(str(bundle))
    cases = t["Cases"]
    assert cases, "a table without cases"
    sendable, bad = [], []
    with kmsauthz.Client(d.query, timeout=10.0) as c:
        for case in cases:
            args = request_args(case["Request"])
            try:
                ans = c.check(**args)
            except kmsauthz.InvalidRequest as e:
                if want(case["Expect"])[:2] != ("IMPLICIT_DENY",
                                                 "invalid-request"):
                    bad.append("%s: refused by the client (%s) but "
                               "expected %s" % (case["Id"], e,
                                                want(case["Expect"])))
                continue
            if got(ans) != want(case["Expect"]):
                bad.append("%s: want %s got %s" % (
                    case["Id"], want(case["Expect"]), got(ans)))
            assert ans.allowed == (ans.decision == "ALLOW")
            sendable.append((case, args, got(ans)))
        assert not bad, "\n".join(bad)
        assert sendable
        # The same checks in batches (pipelined CHECK_BATCH frames).
        batch = c.check_batch([a for _, a, _ in sendable])
        assert [got(b) for b in batch] == [g for _, _, g in sendable]

    async def pipelined():
        async with kmsauthz.AsyncClient(d.query, timeout=10.0) as ac:
            return await asyncio.gather(*[ac.check(**a)
                                          for _, a, _ in sendable])
    answers = asyncio.run(pipelined())
    assert [got(a) for a in answers] == [g for _, _, g in sendable]
