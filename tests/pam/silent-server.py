#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A Unix socket server that accepts connections and never answers.

usage: silent-server.py SOCKET READYFILE
Creates READYFILE once listening (the test waits for it), holds every
connection open, and exits on SIGTERM.
"""
import os
import signal
import socket
import sys

path, ready = sys.argv[1:3]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(64)
with open(ready + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(ready + ".tmp", ready)
held = []
while True:
    conn, _ = srv.accept()
    held.append(conn)
