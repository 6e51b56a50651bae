# SPDX-License-Identifier: ISC
"""The synchronous clients: Client (query socket), AdminClient (admin)."""
import json
import select
import socket
import threading
import time

from . import _common, _proto
from .errors import (AdminError, ConnectError, Error, InvalidRequest,
                     ProtocolError, Timeout)


class _Connection:
    """One Unix socket connection, used under a lock so that threads may
    share the object.  Each call may pipeline several frames and matches
    the answers by request id.  Any failure closes the connection (its
    state is unknown) and raises; the next call connects again."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = _common.check_timeout(timeout)
        self._lock = threading.Lock()
        self._sock = None
        self._poller = None
        self._rbuf = bytearray()
        self._last_id = 0

    def close(self):
        with self._lock:
            self._drop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        sock = getattr(self, "_sock", None)
        if sock is not None:
            sock.close()

    def _drop(self):
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._rbuf = bytearray()

    def _left(self, deadline):
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("timed out")
        return left

    def _connect(self, deadline):
        s = socket.socket(socket.AF_UNIX,
                          socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            s.settimeout(self._left(deadline))
            s.connect(self.path)
        except socket.timeout:
            s.close()
            raise Timeout("%s: connect timed out" % self.path) from None
        except (OSError, ValueError, Error) as e:
            s.close()
            if isinstance(e, Error):
                raise
            raise ConnectError("%s: cannot connect: %s"
                               % (self.path, e)) from None
        s.setblocking(False)
        self._sock = s
        self._poller = select.poll()

    def _new_id(self):
        self._last_id = self._last_id % 0xFFFFFFFF + 1    # never 0
        return self._last_id

    def _next_frame(self):
        """(type, id, body) of the next whole frame in the buffer, or
        None.  The header is checked before any of the body is awaited."""
        if len(self._rbuf) < _proto.HDR_SIZE:
            return None
        msg_type, req_id, length = _proto.decode_header(
            bytes(self._rbuf[:_proto.HDR_SIZE]))
        end = _proto.HDR_SIZE + length
        if len(self._rbuf) < end:
            return None
        body = bytes(self._rbuf[_proto.HDR_SIZE:end])
        del self._rbuf[:end]
        return msg_type, req_id, body

    def _exchange(self, requests):
        """requests: [(type, body, reply type, decoder)].  Returns the
        decoded answers, in order."""
        with self._lock:
            try:
                return self._exchange_locked(requests)
            except BaseException as e:
                self._drop()
                if isinstance(e, Error):
                    raise
                if isinstance(e, socket.timeout):
                    raise Timeout("timed out") from None
                if isinstance(e, OSError):
                    raise ConnectError("%s: %s" % (self.path, e)) from None
                raise

    def _exchange_locked(self, requests):
        deadline = None if self.timeout is None else \
            time.monotonic() + self.timeout
        if self._sock is None:
            self._connect(deadline)
        pending = {}
        out = []
        for i, (msg_type, body, reply, decoder) in enumerate(requests):
            req_id = self._new_id()
            pending[req_id] = (i, reply, decoder)
            out.append(_proto.frame(msg_type, req_id, body))
        data = memoryview(b"".join(out))
        results = [None] * len(requests)
        # Send and read at once: a long batch must not block on a full
        # socket while the daemon waits for us to read its answers.
        poller = self._poller
        fd = self._sock.fileno()
        try:                    # most requests fit the socket at once
            data = data[self._sock.send(data):]
        except (BlockingIOError, InterruptedError):
            pass
        while pending:
            poller.register(fd, select.POLLIN |
                            (select.POLLOUT if data else 0))
            left = self._left(deadline)
            ready = poller.poll(None if left is None else
                                max(1, int(left * 1000 + 0.999)))
            if not ready:
                raise Timeout("timed out")
            ev = ready[0][1]
            if data and ev & (select.POLLOUT | select.POLLERR):
                try:
                    data = data[self._sock.send(data):]
                except (BlockingIOError, InterruptedError):
                    pass
            if not ev & (select.POLLIN | select.POLLERR | select.POLLHUP):
                continue
            try:
                chunk = self._sock.recv(256 * 1024)
            except (BlockingIOError, InterruptedError):
                continue
            if not chunk:
                raise ConnectError("connection closed by kmsauthzd")
            self._rbuf += chunk
            while pending:
                f = self._next_frame()
                if f is None:
                    break
                msg_type, req_id, body = f
                if req_id not in pending:
                    if msg_type == _proto.ERROR:
                        raise _proto.server_error(body)
                    raise ProtocolError("answer to request id %d, which "
                                        "is not in flight" % req_id)
                i, reply, decoder = pending.pop(req_id)
                if msg_type == _proto.ERROR:
                    raise _proto.server_error(body)
                if msg_type != reply:
                    raise ProtocolError("message type %d answers a request "
                                        "expecting %d" % (msg_type, reply))
                results[i] = decoder(body)
        if self._rbuf:
            # Bytes past the last answer: nothing was asked for them.
            f = self._next_frame()
            raise ProtocolError("unexpected frame after the answers"
                                if f is not None else
                                "unexpected bytes after the answers")
        return results


class Client(_Connection):
    """A client of the query socket (kmsauthz.Client(path=None,
    timeout=1.0)): path defaults to $KMSAUTHZ_SOCKET, then
    /run/kmsauthzd/query.sock; timeout (seconds, or None for none) bounds
    each call, connection included."""

    def __init__(self, path=None, timeout=1.0):
        super().__init__(_common.query_socket(path), timeout)

    def check(self, principal, action, resource, *, source_ip=None,
              context=None, time=None, explain=False, min_generation=None):
        """One CHECK: a Decision, or an Error raised.  min_generation:
        decided at that store generation or later (a consistency token,
        e.g. the Generation an admin change answered), else StaleError
        after the daemon's min_generation_wait_ms (give a longer
        timeout)."""
        body = _proto.encode_check(principal, action, resource, source_ip,
                                   context, time, explain, min_generation)
        (answer,) = self._exchange([(_proto.CHECK, body, _proto.ANSWER,
                                     _proto.decode_answer)])
        return _common.Decision(answer)

    def check_batch(self, requests):
        """Decisions for a list of checks (dicts of check()'s arguments,
        or (principal, action, resource) tuples), in order.  Sent as
        CHECK_BATCH frames of at most 128 checks, pipelined; all or
        nothing."""
        bodies = [_common.batch_item(r) for r in requests]
        chunks = _common.batch_chunks(bodies)
        if not chunks:
            return []
        reqs = [(_proto.CHECK_BATCH, _proto.encode_batch(c),
                 _proto.BATCH_ANSWER,
                 (lambda b, n=len(c): _proto.decode_batch_answer(b, n)))
                for c in chunks]
        return [_common.Decision(a) for answers in self._exchange(reqs)
                for a in answers]

    def ping(self):
        self._exchange([(_proto.PING, b"", _proto.PONG,
                         _proto.decode_empty)])

    def status(self):
        (st,) = self._exchange([(_proto.STATUS, b"", _proto.STATUS_REPLY,
                                 _proto.decode_status)])
        return _common.Status(*st)


class AdminClient(_Connection):
    """A client of the admin socket (docs/admin-api.md): path defaults to
    $KMSAUTHZ_ADMIN_SOCKET, then /run/kmsauthzd/admin.sock.  Calls are
    unsigned: the daemon identifies the caller by the socket peer's uid
    and gid."""

    def __init__(self, path=None, timeout=30.0):
        super().__init__(_common.admin_socket(path), timeout)

    def call(self, action, **parameters):
        """The answer of one admin call as a dict; an error answer raises
        AdminError (.code, .http_status, .detail)."""
        if not isinstance(action, str) or not action:
            raise InvalidRequest("action: a non-empty str")
        try:
            doc = json.dumps({"Action": action, "Parameters": parameters},
                             ensure_ascii=False,
                             allow_nan=False).encode("utf-8")
        except (TypeError, ValueError, UnicodeEncodeError) as e:
            raise InvalidRequest("parameters: %s" % e) from None
        if len(doc) + 8 > _proto.MAX_ADMIN_BODY:
            raise InvalidRequest("request over %d bytes"
                                 % _proto.MAX_ADMIN_BODY)
        (text,) = self._exchange([(_proto.ADMIN_REQUEST,
                                   _proto.encode_admin(doc),
                                   _proto.ADMIN_RESPONSE,
                                   _proto.decode_admin)])
        try:
            answer = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ProtocolError("ADMIN_RESPONSE is not JSON") from None
        if not isinstance(answer, dict) or "RequestId" not in answer:
            raise ProtocolError("ADMIN_RESPONSE without a RequestId")
        if "Code" in answer:
            raise AdminError(answer)
        return answer

    def ping(self):
        self._exchange([(_proto.PING, b"", _proto.PONG,
                         _proto.decode_empty)])
