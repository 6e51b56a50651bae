# SPDX-License-Identifier: ISC
"""kmsauthz: a client for the kmsauthzd authorization daemon.

Protocol v1 (docs/protocol.md) over the daemon's Unix sockets, standard
library only.  Fail closed: every error raises kmsauthz.Error; a
Decision is only ever made from a whole, consistent answer of the
daemon, and only Decision.allowed (decision "ALLOW") means allowed.
"""
from ._common import (DEFAULT_ADMIN_SOCKET, DEFAULT_SOCKET, Decision,
                      Statement, Status)
from .aio import AsyncClient
from .client import AdminClient, Client
from .errors import (AdminError, ConnectError, Error, InvalidRequest,
                     ProtocolError, ServerError, StaleError, Timeout)

__version__ = "0.1.0"
__all__ = ["Client", "AsyncClient", "AdminClient", "Decision", "Statement",
           "Status", "Error", "ConnectError", "Timeout", "ProtocolError",
           "InvalidRequest", "ServerError", "StaleError", "AdminError",
           "DEFAULT_SOCKET",
           "DEFAULT_ADMIN_SOCKET"]
