# SPDX-License-Identifier: ISC
"""Protocol v1 codec (docs/protocol.md): frames, CHECK, ANSWER, STATUS.

No I/O here.  Every decoder checks what src/proto/proto.c checks (magic,
version, zero flags and reserved bytes, the limit of each type before
the body is read, strings within their limits and without NUL, a
decision consistent with its reason, a body consumed exactly) and raises
ProtocolError otherwise: a malformed answer is never a decision.
"""
import datetime
import socket
import struct

from .errors import InvalidRequest, ProtocolError, ServerError, StaleError

MAGIC = 0x4B5A
VERSION = 1
HDR = struct.Struct(">HBBHHII")
HDR_SIZE = HDR.size

HELLO, PING, STATUS, CHECK, CHECK_BATCH, ADMIN_REQUEST = 1, 2, 3, 100, 101, 200
HELLO_REPLY, PONG, STATUS_REPLY, ANSWER, BATCH_ANSWER, ERROR, \
    ADMIN_RESPONSE = 300, 301, 302, 303, 304, 305, 306

MAX_PRINCIPAL = MAX_ACTION = MAX_RESOURCE = 1024
MAX_CONTEXT = 64
MAX_CONTEXT_KEY = 128
MAX_CONTEXT_VALUE = 512
MAX_MATCHED = 32
MAX_SOURCE_NAME = 256
MAX_SID = 512
MAX_BATCH = 128
MAX_ERROR_MESSAGE = 256
MAX_VERSION_STRING = 64
MAX_QUERY_BODY = 64 * 1024
MAX_ADMIN_BODY = 1024 * 1024
MAX_ANSWER_BODY = 12 + MAX_MATCHED * (10 + MAX_SOURCE_NAME + 2 + MAX_SID)
MAX_REPLY_BODY = 4 + MAX_BATCH * MAX_ANSWER_BODY
MAX_ADMIN_REPLY_BODY = 16 * 1024 * 1024

CHECK_EXPLAIN = 0x01
CHECK_TIME = 0x02
CHECK_MIN_GEN = 0x10            # the minimum-generation extension follows
MINGEN_VERSION = 1
WERR_STALE = 9
ANSWER_TRUNCATED = 0x01
MATCH_HAS_SID = 0x01
SOURCE_KEY, SOURCE_POLICY = 1, 2

DECISIONS = {0: "IMPLICIT_DENY", 1: "ALLOW", 2: "EXPLICIT_DENY"}
REASONS = {
    1: "allowed-by-identity-policy",
    2: "allowed-by-key-policy",
    3: "allowed-by-both",
    4: "allowed-as-account-root",
    5: "explicit-deny",
    6: "no-matching-allow",
    7: "cross-account-needs-identity-allow",
    8: "cross-account-needs-key-policy-allow",
    9: "key-not-found",
    10: "invalid-request",
}
# The reasons each decision may carry (proto_decision_reason_ok).
_REASONS_OF = {1: range(1, 5), 2: range(5, 6), 0: range(6, 11)}

WIRE_ERRORS = {1: "PROTO", 2: "VERSION", 3: "TOOBIG", 4: "UNSUPPORTED",
               5: "BUSY", 6: "INTERNAL", 7: "PERM", 8: "SHUTDOWN",
               9: "STALE"}
# ERROR codes after which the connection stays open.
ERRORS_KEEP_OPEN = (6, 7, 9)


def body_limit(msg_type):
    """The largest body a receiver accepts for a type (docs/protocol.md)."""
    if msg_type in (ANSWER, BATCH_ANSWER):
        return MAX_REPLY_BODY
    if msg_type == ADMIN_RESPONSE:
        return MAX_ADMIN_REPLY_BODY
    if msg_type == ADMIN_REQUEST:
        return MAX_ADMIN_BODY
    return MAX_QUERY_BODY


def frame(msg_type, req_id, body=b""):
    return HDR.pack(MAGIC, VERSION, 0, msg_type, 0, req_id, len(body)) + body


def decode_header(buf):
    """(type, id, length) of a 16-byte header, or ProtocolError."""
    magic, version, flags, msg_type, reserved, req_id, length = \
        HDR.unpack(buf)
    if magic != MAGIC or flags != 0 or reserved != 0:
        raise ProtocolError("malformed frame header")
    if version != VERSION:
        raise ProtocolError("protocol version %d, not 1" % version)
    if msg_type < 300 or msg_type > ADMIN_RESPONSE:
        raise ProtocolError("message type %d is not a reply" % msg_type)
    if length > body_limit(msg_type):
        raise ProtocolError("body of %d bytes over the limit of type %d"
                            % (length, msg_type))
    return msg_type, req_id, length


# Encoding a request.

def _text(what, s, limit):
    if not isinstance(s, str):
        raise InvalidRequest("%s must be a str, not %s"
                             % (what, type(s).__name__))
    b = _utf8(what, s)
    if len(b) > limit:
        raise InvalidRequest("%s over %d bytes" % (what, limit))
    if b"\0" in b:
        raise InvalidRequest("%s contains a NUL byte" % what)
    return struct.pack(">H", len(b)) + b


def _utf8(what, s):
    try:
        return s.encode("utf-8", "strict")
    except UnicodeEncodeError:
        raise InvalidRequest("%s is not valid Unicode" % what) from None


def parse_ip(ip):
    """4 or 16 raw bytes of an address literal (no prefix, no scope)."""
    if isinstance(ip, (bytes, bytearray)):
        if len(ip) not in (4, 16):
            raise InvalidRequest("source_ip: %d bytes, not 4 or 16"
                                 % len(ip))
        return bytes(ip)
    if hasattr(ip, "packed") and hasattr(ip, "version"):
        return ip.packed             # ipaddress.IPv4Address / IPv6Address
    if not isinstance(ip, str):
        raise InvalidRequest("source_ip must be a str, bytes or an "
                             "ipaddress address")
    # What the daemon's parser takes (value_ip_parse): inet_pton.
    try:
        if ":" in ip:
            return socket.inet_pton(socket.AF_INET6, ip)
        return socket.inet_pton(socket.AF_INET, ip)
    except (OSError, ValueError):
        raise InvalidRequest("source_ip %r: not an IPv4 or IPv6 address"
                             % (ip,)) from None


def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_rfc3339(s):
    """(seconds, nanoseconds) of an RFC 3339 time, as value_time_parse
    reads it (a leap second is the last nanosecond of its minute,
    fractions past nanoseconds are cut)."""
    def bad():
        return InvalidRequest("time %r: not an RFC 3339 time" % (s,))

    def digits(a, b):
        part = s[a:b]
        if len(part) != b - a or not (part.isascii() and part.isdigit()):
            raise bad()
        return int(part)
    if len(s) < 20 or s[4] != "-" or s[7] != "-" or s[10] not in "Tt" \
            or s[13] != ":" or s[16] != ":":
        raise bad()
    y, mo, d = digits(0, 4), digits(5, 7), digits(8, 10)
    h, mi, sec = digits(11, 13), digits(14, 16), digits(17, 19)
    if not 1 <= mo <= 12 or d < 1 or h > 23 or mi > 59 or sec > 60:
        raise bad()
    mdays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
    if mo == 2 and ((y % 4 == 0 and y % 100 != 0) or y % 400 == 0):
        mdays = 29
    if d > mdays:
        raise bad()
    nsec = 0
    if sec == 60:
        sec, nsec = 59, 999999999
    pos = 19
    if pos < len(s) and s[pos] == ".":
        pos += 1
        start, scale = pos, 100000000
        while pos < len(s) and s[pos] in "0123456789":
            if scale > 0:
                nsec += int(s[pos]) * scale
                scale //= 10
            pos += 1
        if pos == start:
            raise bad()
        nsec = min(nsec, 999999999)
    off = 0
    if pos < len(s) and s[pos] in "Zz":
        pos += 1
    elif pos < len(s) and s[pos] in "+-":
        oh, om = digits(pos + 1, pos + 3), 0
        if pos + 3 >= len(s) or s[pos + 3] != ":":
            raise bad()
        om = digits(pos + 4, pos + 6)
        if oh > 23 or om > 59:
            raise bad()
        off = oh * 3600 + om * 60
        if s[pos] == "-":
            off = -off
        pos += 6
    else:
        raise bad()
    if pos != len(s):
        raise bad()
    return (_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
            - off, nsec)


def parse_time(t):
    """(seconds, nanoseconds) of a pinned time: an RFC 3339 str, an aware
    datetime, seconds since the epoch (int or float), or a (sec, nsec)
    pair."""
    if isinstance(t, str):
        return parse_rfc3339(t)
    if isinstance(t, datetime.datetime):
        if t.tzinfo is None or t.utcoffset() is None:
            raise InvalidRequest("time: a naive datetime has no zone")
        delta = t - datetime.datetime(1970, 1, 1,
                                      tzinfo=datetime.timezone.utc)
        sec = delta.days * 86400 + delta.seconds
        return sec, delta.microseconds * 1000
    if isinstance(t, bool):
        raise InvalidRequest("time: a bool is no time")
    if isinstance(t, int):
        sec, nsec = t, 0
    elif isinstance(t, float):
        if t != t or t in (float("inf"), float("-inf")):
            raise InvalidRequest("time: not a finite number")
        sec = int(t // 1)
        nsec = min(int(round((t - sec) * 1e9)), 999999999)
    elif isinstance(t, tuple) and len(t) == 2 and \
            all(isinstance(x, int) and not isinstance(x, bool) for x in t):
        sec, nsec = t
    else:
        raise InvalidRequest("time: an RFC 3339 str, an aware datetime, "
                             "epoch seconds or (sec, nsec)")
    if not 0 <= nsec < 1000000000 or not -2**63 <= sec < 2**63:
        raise InvalidRequest("time out of range")
    return sec, nsec


def encode_check(principal, action, resource, source_ip=None,
                 context=None, time=None, explain=False,
                 min_generation=None):
    """The body of a CHECK (InvalidRequest when it cannot be sent).
    min_generation: decide at that store generation or later (None or
    0: no minimum), the MIN_GEN extension."""
    flags = CHECK_EXPLAIN if explain else 0
    ext = b""
    if min_generation is not None and min_generation != 0:
        if isinstance(min_generation, bool) or \
                not isinstance(min_generation, int) or \
                not 0 < min_generation < 2**64:
            raise InvalidRequest("min_generation: an int in 1..2**64-1")
        flags |= CHECK_MIN_GEN
        ext = struct.pack(">BBHQ", MINGEN_VERSION, 0, 0, min_generation)
    ip = b"" if source_ip is None else parse_ip(source_ip)
    sec = nsec = 0
    if time is not None:
        sec, nsec = parse_time(time)
        flags |= CHECK_TIME
    if context is None:
        pairs = ()
    elif isinstance(context, dict):
        pairs = context.items()
    else:
        try:
            pairs = [(k, v) for k, v in context]
        except (TypeError, ValueError):
            raise InvalidRequest("context: a dict or (key, value) "
                                 "pairs") from None
    parts = [_text("principal", principal, MAX_PRINCIPAL),
             _text("action", action, MAX_ACTION),
             _text("resource", resource, MAX_RESOURCE)]
    n = 0
    for k, v in pairs:
        parts.append(_text("context key", k, MAX_CONTEXT_KEY))
        parts.append(_text("context value %r" % (k,), v,
                           MAX_CONTEXT_VALUE))
        n += 1
    if n > MAX_CONTEXT:
        raise InvalidRequest("more than %d context pairs" % MAX_CONTEXT)
    head = struct.pack(">BBHIq", flags, len(ip), n, nsec, sec) + \
        ip + bytes(16 - len(ip))
    return head + b"".join(parts) + ext


def encode_batch(bodies):
    return struct.pack(">HH", len(bodies), 0) + b"".join(bodies)


# Decoding answers.

class _Reader:
    __slots__ = ("buf", "off")

    def __init__(self, buf):
        self.buf = buf
        self.off = 0

    def take(self, n):
        if n > len(self.buf) - self.off:
            raise ProtocolError("body cut short")
        b = self.buf[self.off:self.off + n]
        self.off += n
        return b

    def unpack(self, st):
        return st.unpack(self.take(st.size))

    def string(self, limit):
        (n,) = self.unpack(_U16)
        if n > limit:
            raise ProtocolError("string over %d bytes" % limit)
        b = self.take(n)
        if b"\0" in b:
            raise ProtocolError("NUL byte in a string")
        try:
            return bytes(b).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("string is not UTF-8") from None

    def end(self):
        if self.off != len(self.buf):
            raise ProtocolError("%d bytes left over"
                                % (len(self.buf) - self.off))


_U16 = struct.Struct(">H")
_ANSWER = struct.Struct(">BBBBQ")
_MATCH = struct.Struct(">BBI")
_ERROR = struct.Struct(">HH")
_STATUS = struct.Struct(">QQQQIIIIIIIBB")
_ADMIN = struct.Struct(">BBHI")


def read_answer(rd):
    """A tuple (decision, reason, truncated, generation, statements)."""
    decision, reason, flags, n, generation = rd.unpack(_ANSWER)
    if decision not in _REASONS_OF or reason not in _REASONS_OF[decision] \
            or flags & ~ANSWER_TRUNCATED or n > MAX_MATCHED:
        raise ProtocolError("inconsistent answer (decision %d, reason %d, "
                            "flags %#x, %d statements)"
                            % (decision, reason, flags, n))
    stmts = []
    for _ in range(n):
        kind, mflags, index = rd.unpack(_MATCH)
        if kind not in (SOURCE_KEY, SOURCE_POLICY) or \
                mflags & ~MATCH_HAS_SID:
            raise ProtocolError("malformed statement")
        name = rd.string(MAX_SOURCE_NAME)
        sid = rd.string(MAX_SID)
        if not name or (not mflags & MATCH_HAS_SID and sid):
            raise ProtocolError("malformed statement")
        stmts.append(((("key/" if kind == SOURCE_KEY else "policy/") +
                       name), index,
                      sid if mflags & MATCH_HAS_SID else None))
    return (DECISIONS[decision], REASONS[reason],
            bool(flags & ANSWER_TRUNCATED), generation, stmts)


def decode_answer(body):
    rd = _Reader(body)
    a = read_answer(rd)
    rd.end()
    return a


def decode_batch_answer(body, count):
    rd = _Reader(body)
    n, reserved = rd.unpack(_ERROR)
    if reserved != 0 or n != count:
        raise ProtocolError("BATCH_ANSWER of %d answers for %d checks"
                            % (n, count))
    answers = [read_answer(rd) for _ in range(n)]
    rd.end()
    return answers


def decode_error(body):
    """(code, name, message) of an ERROR body."""
    rd = _Reader(body)
    code, reserved = rd.unpack(_ERROR)
    msg = rd.string(MAX_ERROR_MESSAGE)
    rd.end()
    if reserved != 0 or code not in WIRE_ERRORS:
        raise ProtocolError("malformed ERROR frame")
    return code, WIRE_ERRORS[code], msg


def server_error(body):
    """The exception for an ERROR body: StaleError for STALE (a deny),
    ServerError otherwise."""
    code, name, msg = decode_error(body)
    return (StaleError if code == WERR_STALE else ServerError)(code, name,
                                                              msg)


STATUS_FIELDS = ("generation", "uptime", "checks", "errors", "keys",
                 "aliases", "policies", "users", "groups", "roles",
                 "connections", "proto_version", "version")


def decode_status(body):
    rd = _Reader(body)
    v = rd.unpack(_STATUS)
    if v[-1] != 0 or v[-2] == 0:
        raise ProtocolError("malformed STATUS_REPLY")
    software = rd.string(MAX_VERSION_STRING)
    rd.end()
    return v[:-1] + (software,)


def decode_empty(body):
    if body:
        raise ProtocolError("PONG with a body")


def encode_admin(doc):
    return _ADMIN.pack(0, 0, 0, len(doc)) + doc


def decode_admin(body):
    rd = _Reader(body)
    flags, r1, r2, n = rd.unpack(_ADMIN)
    if flags != 0 or r1 != 0 or r2 != 0 or n < 1:
        raise ProtocolError("malformed ADMIN_RESPONSE")
    doc = rd.take(n)
    rd.end()
    return bytes(doc)
