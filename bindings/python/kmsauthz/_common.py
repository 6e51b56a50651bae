# SPDX-License-Identifier: ISC
"""What Client and AsyncClient share: results, defaults, request forms."""
import collections
import os

from . import _proto
from .errors import InvalidRequest

DEFAULT_SOCKET = "/run/kmsauthzd/query.sock"
DEFAULT_ADMIN_SOCKET = "/run/kmsauthzd/admin.sock"

Statement = collections.namedtuple("Statement", "source index sid")
Statement.__doc__ = """A deciding statement: source "key/<KeyId>" or
"policy/<PolicyName>", its 0-based index, its Sid (None without one)."""

Status = collections.namedtuple("Status", _proto.STATUS_FIELDS)


class Decision:
    """The daemon's answer to one check.  Only the client's decoder makes
    one, from a whole, consistent ANSWER."""

    __slots__ = ("decision", "reason", "truncated", "generation",
                 "statements")

    def __init__(self, answer):
        decision, reason, truncated, generation, stmts = answer
        object.__setattr__(self, "decision", decision)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "truncated", truncated)
        object.__setattr__(self, "generation", generation)
        object.__setattr__(self, "statements",
                           tuple(Statement(*s) for s in stmts))

    def __setattr__(self, name, value):
        raise AttributeError("a Decision is read-only")

    @property
    def allowed(self):
        return self.decision == "ALLOW"

    def __bool__(self):
        return self.allowed

    def __repr__(self):
        return ("Decision(%s, %s, generation=%d, statements=%d%s)"
                % (self.decision, self.reason, self.generation,
                   len(self.statements),
                   ", truncated" if self.truncated else ""))


def query_socket(path):
    if path is not None:
        return os.fspath(path)
    env = os.environ.get("KMSAUTHZ_SOCKET")
    return env if env else DEFAULT_SOCKET


def admin_socket(path):
    if path is not None:
        return os.fspath(path)
    env = os.environ.get("KMSAUTHZ_ADMIN_SOCKET")
    return env if env else DEFAULT_ADMIN_SOCKET


def check_timeout(timeout):
    if timeout is not None and (isinstance(timeout, bool) or
                                not isinstance(timeout, (int, float)) or
                                not timeout > 0):
        raise InvalidRequest("timeout: a positive number of seconds, "
                             "or None")
    return timeout


_CHECK_ARGS = ("principal", "action", "resource")
_CHECK_KW = ("source_ip", "context", "time", "explain", "min_generation")


def batch_item(item):
    """The CHECK body of one check_batch() item: a dict of check()'s
    arguments, or a (principal, action, resource) sequence."""
    if isinstance(item, dict):
        unknown = set(item) - set(_CHECK_ARGS) - set(_CHECK_KW)
        if unknown:
            raise InvalidRequest("check_batch: unknown field(s) %s"
                                 % ", ".join(sorted(unknown)))
        missing = [k for k in _CHECK_ARGS if k not in item]
        if missing:
            raise InvalidRequest("check_batch: missing %s"
                                 % ", ".join(missing))
        return _proto.encode_check(**item)
    if isinstance(item, (tuple, list)) and len(item) == 3:
        return _proto.encode_check(*item)
    raise InvalidRequest("check_batch: each request is a dict or a "
                         "(principal, action, resource) tuple")


def batch_chunks(bodies):
    """Groups CHECK bodies into CHECK_BATCH bodies: at most MAX_BATCH
    checks and MAX_QUERY_BODY bytes each."""
    chunks, cur, size = [], [], 4
    for b in bodies:
        if len(b) + 4 > _proto.MAX_QUERY_BODY:
            raise InvalidRequest("a check over the frame limit")
        if cur and (len(cur) == _proto.MAX_BATCH or
                    size + len(b) > _proto.MAX_QUERY_BODY):
            chunks.append(cur)
            cur, size = [], 4
        cur.append(b)
        size += len(b)
    if cur:
        chunks.append(cur)
    return chunks
