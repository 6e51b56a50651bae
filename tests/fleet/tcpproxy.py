#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""tcpproxy.py: TCP proxies for the fleet scenarios (tests/fleet/),
python3 standard library only (asyncio), to show partitions and slow
links between a host and etcd.

    tcpproxy.py serve CONTROL LPORT=HOST:PORT...
        listen on 127.0.0.1:LPORT for each pair and forward every
        connection to HOST:PORT; commands on the Unix socket CONTROL
        act on every pair at once.  Runs until killed (TERM).
    tcpproxy.py ctl CONTROL COMMAND [ARG]
        send one command, print the answer ("ok ...", or "error ...",
        exit status 1).

Commands, one line each:

    delay MS    each chunk read is forwarded MS milliseconds later, both
                ways, in order (0: at once); new connections too
    freeze      the connections open now stop: nothing forwarded,
                nothing read, both ends left open (a silent stream, a
                half-open connection); new connections pass
    blackhole   freeze, and every new connection is accepted and then
                frozen too (nothing connects to the target)
    heal        back to normal: frozen connections forward again (what
                was waiting on them goes through), a connection accepted
                while blackholed is closed (it never reached the target,
                as a connection made during a partition), no delay
    reset       close every connection, both ends
    conns       the number of connections open
    accepted    the number of connections accepted so far
"""
import asyncio
import os
import socket
import sys

CHUNK = 65536


class Conn:
    """One accepted connection and its upstream, pumped both ways."""

    def __init__(self, proxy, reader, writer):
        self.proxy = proxy
        self.creader, self.cwriter = reader, writer
        self.ureader = self.uwriter = None
        self.running = asyncio.Event()  # set: forwarding
        self.running.set()
        self.blackholed = False
        self.closed = asyncio.Event()
        self.tasks = []

    def close(self):
        for t in self.tasks:
            t.cancel()
        for w in (self.cwriter, self.uwriter):
            if w is not None:
                w.close()
        self.proxy.conns.discard(self)
        self.closed.set()

    async def pump(self, reader, writer):
        """Reads and forwards chunks; a delayed chunk waits its turn."""
        queue = asyncio.Queue()

        async def send():
            while True:
                due, data = await queue.get()
                if data is None:
                    break
                wait = due - asyncio.get_running_loop().time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.running.wait()
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        sender = asyncio.ensure_future(send())
        self.tasks.append(sender)
        try:
            while True:
                await self.running.wait()
                data = await reader.read(CHUNK)
                await self.running.wait()
                due = asyncio.get_running_loop().time() + \
                    self.proxy.delay_ms / 1000.0
                queue.put_nowait((due, data or None))
                if not data:
                    break
            await sender
        except (ConnectionError, OSError):
            self.close()    # one way broken: both
        finally:
            sender.cancel()

    async def run(self):
        if self.proxy.blackhole:
            self.blackholed = True
            self.running.clear()
            await self.closed.wait()    # heal or reset closes it
            return
        try:
            self.ureader, self.uwriter = await asyncio.open_connection(
                self.proxy.thost, self.proxy.tport)
        except OSError:
            self.close()
            return
        a = asyncio.ensure_future(self.pump(self.creader, self.uwriter))
        b = asyncio.ensure_future(self.pump(self.ureader, self.cwriter))
        self.tasks += [a, b]
        await asyncio.gather(a, b, return_exceptions=True)
        self.close()


class Proxy:
    def __init__(self, lport, thost, tport):
        self.lport, self.thost, self.tport = lport, thost, tport
        self.conns = set()
        self.accepted = 0
        self.delay_ms = 0
        self.blackhole = False

    async def accept(self, reader, writer):
        c = Conn(self, reader, writer)
        self.conns.add(c)
        self.accepted += 1
        try:
            await c.run()
        finally:
            c.close()

    def command(self, cmd, arg):
        if cmd == "delay":
            self.delay_ms = int(arg)
        elif cmd == "freeze":
            for c in self.conns:
                c.running.clear()
        elif cmd == "blackhole":
            self.blackhole = True
            for c in self.conns:
                c.running.clear()
        elif cmd == "heal":
            self.blackhole = False
            self.delay_ms = 0
            for c in list(self.conns):
                if c.blackholed:
                    c.close()
                else:
                    c.running.set()
        elif cmd == "reset":
            for c in list(self.conns):
                c.close()


async def control(proxies, reader, writer):
    try:
        line = (await reader.readline()).decode().split()
        cmd, arg = (line + [None, None])[:2]
        if cmd in ("delay",) and (arg is None or not arg.isdigit()):
            answer = "error delay needs milliseconds"
        elif cmd in ("delay", "freeze", "blackhole", "heal", "reset"):
            for p in proxies:
                p.command(cmd, arg)
            answer = "ok " + " ".join(x for x in (cmd, arg) if x)
        elif cmd == "conns":
            answer = "ok %d" % sum(len(p.conns) for p in proxies)
        elif cmd == "accepted":
            answer = "ok %d" % sum(p.accepted for p in proxies)
        else:
            answer = "error unknown command %r" % (cmd,)
        writer.write((answer + "\n").encode())
        await writer.drain()
    finally:
        writer.close()


async def serve(ctl, pairs):
    proxies = []
    for pair in pairs:
        lport, target = pair.split("=", 1)
        thost, tport = target.rsplit(":", 1)
        proxies.append(Proxy(int(lport), thost, int(tport)))
    if os.path.exists(ctl):
        os.unlink(ctl)
    await asyncio.start_unix_server(
        lambda r, w: control(proxies, r, w), path=ctl)
    for p in proxies:
        await asyncio.start_server(p.accept, "127.0.0.1", p.lport,
                                   reuse_address=True)
    await asyncio.Event().wait()


def ctl(path, args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall((" ".join(args) + "\n").encode())
    answer = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        answer += b
    s.close()
    print(answer.decode().strip())
    return 0 if answer.startswith(b"ok") else 1


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "serve":
        try:
            asyncio.run(serve(sys.argv[2], sys.argv[3:]))
        except KeyboardInterrupt:
            pass
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "ctl":
        return ctl(sys.argv[2], sys.argv[3:])
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
