# SPDX-License-Identifier: ISC
"""The exceptions: everything the client raises is a kmsauthz.Error."""


class Error(Exception):
    """Any failure: no decision was read (treat it as a deny)."""


class ConnectError(Error):
    """Cannot connect, or the connection broke."""


class Timeout(Error):
    """The deadline passed."""


class ProtocolError(Error):
    """A malformed or inconsistent frame from the daemon."""


class InvalidRequest(Error, ValueError):
    """The request cannot be sent (a type, a limit, an address, a time)."""


class ServerError(Error):
    """The daemon answered ERROR (.code, .name, .message)."""

    def __init__(self, code, name, message):
        super().__init__("kmsauthzd: %s: %s" % (name, message))
        self.code = code
        self.name = name
        self.message = message


class StaleError(ServerError):
    """ERROR STALE: the daemon did not serve the check's min_generation
    within its min_generation_wait_ms (or too many checks wait): a
    deny."""


class AdminError(Error):
    """An admin call answered with an error (.code, .http_status,
    .detail, .message, .request_id, and .answer, the whole document)."""

    def __init__(self, answer):
        self.answer = answer
        self.code = answer.get("Code")
        self.http_status = answer.get("HttpStatus")
        self.detail = answer.get("Detail")
        self.message = answer.get("Message")
        self.request_id = answer.get("RequestId")
        super().__init__("%s (%s): %s%s" % (
            self.code, self.http_status, self.message,
            ": " + self.detail if self.detail else ""))
