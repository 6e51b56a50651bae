# SPDX-License-Identifier: ISC
"""AsyncClient: the query socket for asyncio, concurrent checks pipelined
on one connection and matched by request id."""
import asyncio

from . import _common, _proto
from .errors import (ConnectError, Error, ProtocolError, ServerError,
                     Timeout)


class _Wire(asyncio.Protocol):
    """One connection: parses the frames as the bytes arrive (no await
    per frame) and hands them to the client; write flow control."""

    def __init__(self, client):
        self.client = client
        self.transport = None
        self.buf = bytearray()
        self.paused = None          # a future while writing is paused
        self.lost = False
        self.out = []               # frames queued in this loop turn

    def connection_made(self, transport):
        self.transport = transport

    def send(self, frame):
        """Queues a frame; the frames of one loop turn go in one write."""
        if not self.out:
            asyncio.get_running_loop().call_soon(self.flush)
        self.out.append(frame)

    def flush(self):
        out, self.out = self.out, []
        if out and self.transport is not None and \
                not self.transport.is_closing():
            self.transport.write(b"".join(out))

    def data_received(self, data):
        if self.client._wire is not self:
            return                  # dropped: its ids are not in flight
        self.buf += data
        buf = self.buf
        off = 0
        try:
            while len(buf) - off >= _proto.HDR_SIZE:
                msg_type, req_id, length = _proto.decode_header(
                    bytes(buf[off:off + _proto.HDR_SIZE]))
                end = off + _proto.HDR_SIZE + length
                if len(buf) < end:
                    break
                body = bytes(buf[off + _proto.HDR_SIZE:end])
                off = end
                self.client._dispatch(msg_type, req_id, body)
        except Error as e:
            self.client._fail_all(e, self)
            return
        del buf[:off]

    def connection_lost(self, exc):
        self.lost = True
        self.resume_writing()
        self.client._fail_all(ConnectError(
            "connection closed by kmsauthzd" if exc is None else
            "connection lost: %s" % exc), self)

    def pause_writing(self):
        if self.paused is None:
            self.paused = asyncio.get_running_loop().create_future()

    def resume_writing(self):
        if self.paused is not None:
            if not self.paused.done():
                self.paused.set_result(None)
            self.paused = None


class AsyncClient:
    """kmsauthz.AsyncClient(path=None, timeout=1.0): the methods of
    Client, as coroutines.  Every coroutine running check() at once sends
    its CHECK at once on the one connection; the answers are handed to
    their callers by request id as they arrive.  Any failure of the
    connection (closed, a malformed frame, a timeout: its state is then
    unknown) fails every check in flight with an Error and drops it; the
    next call connects again."""

    def __init__(self, path=None, timeout=1.0):
        self.path = _common.query_socket(path)
        self.timeout = _common.check_timeout(timeout)
        self._wire = None
        self._pending = {}          # id: (future, reply, decoder, deadline)
        self._last_id = 0
        self._conn_lock = None
        self._timer = None

    async def __aenter__(self):
        await self._ensure()
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        if self._wire is not None:
            self._fail_all(ConnectError("client closed"), self._wire)

    async def _ensure(self):
        if self._wire is not None:
            return self._wire
        if self._conn_lock is None:
            self._conn_lock = asyncio.Lock()
        async with self._conn_lock:
            if self._wire is not None:
                return self._wire
            loop = asyncio.get_running_loop()
            try:
                _, wire = await asyncio.wait_for(
                    loop.create_unix_connection(lambda: _Wire(self),
                                                self.path),
                    self.timeout)
            except asyncio.TimeoutError:
                raise Timeout("%s: connect timed out" % self.path) from None
            except (OSError, ValueError) as e:
                raise ConnectError("%s: cannot connect: %s"
                                   % (self.path, e)) from None
            self._wire = wire
            return wire

    def _fail_all(self, exc, wire):
        """Drops the connection wire; every check in flight raises exc."""
        if wire is not self._wire:
            return
        self._wire = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, {}
        for fut, _, _, _ in pending.values():
            if not fut.done():
                fut.set_exception(exc)
        if wire.transport is not None:
            wire.transport.abort()

    def _dispatch(self, msg_type, req_id, body):
        entry = self._pending.pop(req_id, None)
        if entry is None:
            if msg_type == _proto.ERROR:
                raise _proto.server_error(body)
            raise ProtocolError("answer to request id %d, which is not "
                                "in flight" % req_id)
        fut = entry[0]
        try:
            value = self._decode(msg_type, body, entry[1], entry[2])
        except Error as e:
            # This check fails with it; the caller fails the others and
            # drops the connection, unless the daemon keeps it open.
            if not fut.done():
                fut.set_exception(e)
            if not (isinstance(e, ServerError) and
                    e.code in _proto.ERRORS_KEEP_OPEN):
                raise
            return
        if not fut.done():
            fut.set_result(value)

    @staticmethod
    def _decode(msg_type, body, reply, decoder):
        if msg_type == _proto.ERROR:
            raise _proto.server_error(body)
        if msg_type != reply:
            raise ProtocolError("message type %d answers a request "
                                "expecting %d" % (msg_type, reply))
        return decoder(body)

    def _sweep(self, wire):
        """The deadline timer.  Every check has the same timeout, so the
        oldest one in flight (the first of the ordered dict) expires
        first: one timer per connection, not one per check.  A deadline
        passed means the connection's state is unknown: all fail."""
        self._timer = None
        if wire is not self._wire:
            return
        for fut, _, _, deadline in self._pending.values():
            break                   # the oldest
        else:
            return                  # nothing in flight: no timer
        loop = asyncio.get_running_loop()
        if deadline <= loop.time():
            if not fut.done():
                fut.set_exception(Timeout("timed out"))
            self._fail_all(Timeout("timed out"), wire)
        else:
            self._timer = loop.call_at(deadline, self._sweep, wire)

    async def _request(self, msg_type, body, reply, decoder):
        wire = await self._ensure()
        self._last_id = self._last_id % 0xFFFFFFFF + 1
        req_id = self._last_id
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        deadline = None
        if self.timeout is not None:
            deadline = loop.time() + self.timeout
            if self._timer is None:
                self._timer = loop.call_at(deadline, self._sweep, wire)
        self._pending[req_id] = (fut, reply, decoder, deadline)
        try:
            wire.send(_proto.frame(msg_type, req_id, body))
            while wire.paused is not None and not fut.done():
                await asyncio.wait([wire.paused, fut],
                                   return_when=asyncio.FIRST_COMPLETED)
            return await fut
        except (OSError, RuntimeError) as e:
            self._fail_all(ConnectError(str(e)), wire)
            raise ConnectError("%s: %s" % (self.path, e)) from None
        finally:
            if not fut.done():
                fut.cancel()
            elif not fut.cancelled():
                fut.exception()     # retrieved: no "never retrieved"

    async def check(self, principal, action, resource, *, source_ip=None,
                    context=None, time=None, explain=False,
                    min_generation=None):
        body = _proto.encode_check(principal, action, resource, source_ip,
                                   context, time, explain, min_generation)
        return _common.Decision(await self._request(
            _proto.CHECK, body, _proto.ANSWER, _proto.decode_answer))

    async def check_batch(self, requests):
        bodies = [_common.batch_item(r) for r in requests]
        chunks = _common.batch_chunks(bodies)
        results = await asyncio.gather(*[
            self._request(_proto.CHECK_BATCH, _proto.encode_batch(c),
                          _proto.BATCH_ANSWER,
                          (lambda b, n=len(c):
                           _proto.decode_batch_answer(b, n)))
            for c in chunks])
        return [_common.Decision(a) for answers in results for a in answers]

    async def ping(self):
        await self._request(_proto.PING, b"", _proto.PONG,
                            _proto.decode_empty)

    async def status(self):
        return _common.Status(*await self._request(
            _proto.STATUS, b"", _proto.STATUS_REPLY, _proto.decode_status))
