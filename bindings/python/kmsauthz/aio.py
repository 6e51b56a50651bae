"""AsyncClient: the query socket for asyncio, concurrent checks pipelined
on one connection and matched by request id."""
import asyncio

from . import _common, _proto
from .errors import (ConnectError, Error, ProtocolError, ServerError,
                     Timeout)


class AsyncClient:
    """kmsauthz.AsyncClient(path=None, timeout=1.0): the methods of
    Client, as coroutines.  Every coroutine running check() at once sends
    its CHECK at once on the one connection; a reader task hands each
    answer to its caller.  Any failure of the connection (closed, a
    malformed frame, a timeout: its state is then unknown) fails every
    check in flight with an Error and drops it; the next call connects
    again."""

    def __init__(self, path=None, timeout=1.0):
        self.path = _common.query_socket(path)
        self.timeout = _common.check_timeout(timeout)
        self._reader = self._writer = self._task = None
        self._pending = {}
        self._last_id = 0
        self._conn_lock = None
        self._drain_lock = None

    async def __aenter__(self):
        await self._ensure()
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        self._fail_all(ConnectError("client closed"))

    async def _ensure(self):
        if self._conn_lock is None:
            self._conn_lock = asyncio.Lock()
            self._drain_lock = asyncio.Lock()
        async with self._conn_lock:
            if self._writer is not None:
                return
            try:
                self._reader, self._writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(self.path,
                                                 limit=2 ** 22),
                    self.timeout)
            except asyncio.TimeoutError:
                raise Timeout("%s: connect timed out" % self.path) from None
            except (OSError, ValueError) as e:
                raise ConnectError("%s: cannot connect: %s"
                                   % (self.path, e)) from None
            self._task = asyncio.ensure_future(
                self._read_loop(self._reader, self._writer))

    def _fail_all(self, exc):
        """Drops the connection; every check in flight raises exc."""
        pending, self._pending = self._pending, {}
        for fut, _, _ in pending.values():
            if not fut.done():
                fut.set_exception(exc)
        if self._writer is not None:
            self._writer.close()
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self._reader = self._writer = self._task = None

    async def _read_loop(self, reader, writer):
        try:
            while True:
                hdr = await reader.readexactly(_proto.HDR_SIZE)
                msg_type, req_id, length = _proto.decode_header(hdr)
                body = await reader.readexactly(length)
                if writer is not self._writer:
                    return
                self._dispatch(msg_type, req_id, body)
        except asyncio.CancelledError:
            raise
        except asyncio.IncompleteReadError:
            err = ConnectError("connection closed by kmsauthzd")
        except Error as e:
            err = e
        except OSError as e:
            err = ConnectError("%s: %s" % (self.path, e))
        if writer is self._writer:
            self._fail_all(err)

    def _dispatch(self, msg_type, req_id, body):
        entry = self._pending.pop(req_id, None)
        if entry is None:
            if msg_type == _proto.ERROR:
                raise ServerError(*_proto.decode_error(body))
            raise ProtocolError("answer to request id %d, which is not "
                                "in flight" % req_id)
        fut = entry[0]
        try:
            value = self._decode(msg_type, body, entry[1], entry[2])
        except Error as e:
            # This check fails with it; the read loop fails the others
            # and drops the connection, unless the daemon keeps it open.
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
            raise ServerError(*_proto.decode_error(body))
        if msg_type != reply:
            raise ProtocolError("message type %d answers a request "
                                "expecting %d" % (msg_type, reply))
        return decoder(body)

    def _expired(self, writer, fut):
        """A check's deadline passed: the connection's state is unknown."""
        if fut.done():
            return
        fut.set_exception(Timeout("timed out"))
        if writer is self._writer:
            self._fail_all(Timeout("timed out"))

    async def _request(self, msg_type, body, reply, decoder):
        await self._ensure()
        self._last_id = self._last_id % 0xFFFFFFFF + 1
        req_id = self._last_id
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._pending[req_id] = (fut, reply, decoder)
        writer = self._writer
        # A timer per check, not wait_for(): no task per call.
        timer = None if self.timeout is None else \
            loop.call_later(self.timeout, self._expired, writer, fut)
        try:
            writer.write(_proto.frame(msg_type, req_id, body))
            if writer.transport.get_write_buffer_size() > 65536:
                async with self._drain_lock:
                    await writer.drain()
            return await fut
        except (OSError, RuntimeError) as e:
            if writer is self._writer:
                self._fail_all(ConnectError(str(e)))
            raise ConnectError("%s: %s" % (self.path, e)) from None
        finally:
            if timer is not None:
                timer.cancel()
            if not fut.done():
                fut.cancel()
            elif not fut.cancelled():
                fut.exception()     # retrieved: no "never retrieved"

    async def check(self, principal, action, resource, *, source_ip=None,
                    context=None, time=None, explain=False):
        body = _proto.encode_check(principal, action, resource, source_ip,
                                   context, time, explain)
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
