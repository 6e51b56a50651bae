# SPDX-License-Identifier: ISC
"""Concurrency against the real daemon (etc/example-bundle.json): one
Client shared by threads, one AsyncClient pipelining many checks on one
connection; every answer is the one examples.json expects."""
import asyncio
import concurrent.futures
import json
import os

import kmsauthz
from conftest import CONFORMANCE
from test_conformance import got, request_args, want


def cases():
    with open(os.path.join(CONFORMANCE, "examples.json")) as f:
        out = []
        for c in json.load(f)["Cases"]:
            args = request_args(c["Request"])
            try:
                kmsauthz._proto.encode_check(**args)
            except kmsauthz.InvalidRequest:
                continue
            out.append((args, want(c["Expect"])))
    assert len(out) > 10
    return out


def test_threads_share_one_client(example_daemon):
    todo = cases() * 10
    with kmsauthz.Client(example_daemon.query, timeout=10.0) as c:
        def run(k):
            bad = 0
            for args, expect in todo[k::8]:
                if got(c.check(**args)) != expect:
                    bad += 1
            batch = c.check_batch([a for a, _ in todo[k::8]][:200])
            bad += sum(got(d) != e for d, (_, e) in
                       zip(batch, todo[k::8][:200]))
            return bad
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(run, range(8))) == 0
        assert c.status().checks >= len(todo)


def test_asyncio_pipelined_on_one_connection(example_daemon):
    todo = cases() * 40

    async def run():
        async with kmsauthz.AsyncClient(example_daemon.query,
                                        timeout=10.0) as ac:
            wire = ac._wire
            answers = await asyncio.gather(*[ac.check(**a)
                                             for a, _ in todo])
            batches = await asyncio.gather(
                ac.check_batch([a for a, _ in todo[:300]]),
                ac.check_batch([a for a, _ in todo[300:500]]),
                ac.ping(), ac.status())
            assert ac._wire is wire, "one connection throughout"
            return answers, batches
    answers, batches = asyncio.run(run())
    assert [got(a) for a in answers] == [e for _, e in todo]
    assert [got(a) for a in batches[0] + batches[1]] == \
        [e for _, e in todo[:500]]
    assert batches[3].keys > 0


def test_async_reconnects_after_daemon_restart(make_daemon, tmp_path):
    d = make_daemon(os.path.join(os.path.dirname(CONFORMANCE), "..", "etc",
                                 "example-bundle.json"))

    async def run():
        ac = kmsauthz.AsyncClient(d.query, timeout=5.0)
        await ac.ping()
        d.stop()
        try:
            await ac.ping()
        except kmsauthz.Error:
            pass
        else:
            raise AssertionError("a ping answered by a stopped daemon")
        await ac.close()
    asyncio.run(run())


def test_long_batch_with_explain(example_daemon):
    """20,000 checks with EXPLAIN in one check_batch call: 157 frames sent
    while the answers come back (the client reads as it writes)."""
    todo = (cases() * 2000)[:20000]
    for args, _ in todo:
        args["explain"] = True
    with kmsauthz.Client(example_daemon.query, timeout=60.0) as c:
        answers = c.check_batch([a for a, _ in todo])
    assert [got(a) for a in answers] == [e for _, e in todo]
