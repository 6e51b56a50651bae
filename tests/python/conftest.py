# SPDX-License-Identifier: ISC
"""Fixtures: the real kmsauthzd on temporary sockets and state.

The daemon is built in $top_builddir (make check exports it); each
fixture starts it on a fresh directory, waits for it to answer PING with
a deadline, and stops it, failing the test when its stderr shows a
sanitizer report.
"""
import os
import signal
import subprocess
import sys
import time

import pytest

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR
sys.path.insert(0, os.path.join(TOP_SRCDIR, "bindings", "python"))

import kmsauthz  # noqa: E402

KMSAUTHZD = os.path.join(TOP_BUILDDIR, "src", "daemon", "kmsauthzd")
CONFORMANCE = os.path.join(TOP_SRCDIR, "tests", "conformance")
EXAMPLE_BUNDLE = os.path.join(TOP_SRCDIR, "etc", "example-bundle.json")
SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


class Daemon:
    def __init__(self, directory, bundle=None, extra=()):
        self.dir = directory
        self.query = os.path.join(directory, "q.sock")
        self.admin = os.path.join(directory, "a.sock")
        self.err = os.path.join(directory, "daemon.err")
        state = os.path.join(directory, "state")
        os.makedirs(state, exist_ok=True)
        conf = os.path.join(directory, "kmsauthzd.conf")
        lines = ["query_socket = " + self.query,
                 "admin_socket = " + self.admin,
                 "state_directory = " + state, "threads = 2",
                 "idle_timeout = 0"]
        if bundle:
            lines.append("seed_bundle = " + bundle)
        lines.extend(extra)
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.admin_conf = os.path.join(directory, "admin.conf")
        with open(self.admin_conf, "w") as f:
            f.write("account = 1192853035118888\n"
                    "region = cn-hangzhou\n"
                    "audit_file = %s\n" % os.path.join(directory,
                                                       "audit.jsonl"))
            if os.getuid() != 0:
                f.write("uid = %d superuser\n" % os.getuid())
        env = dict(os.environ, KMSAUTHZ_ADMIN_CONF=self.admin_conf)
        self.proc = subprocess.Popen(
            [KMSAUTHZD, "-f", "-c", conf], env=env,
            stdout=subprocess.DEVNULL, stderr=open(self.err, "ab"))
        self._wait_ready()

    def _wait_ready(self, seconds=20.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with kmsauthz.Client(self.query, timeout=1.0) as c:
                    c.ping()
                return
            except kmsauthz.Error:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("kmsauthzd did not answer PING: %s"
                           % self.stderr()[-2000:])

    def stderr(self):
        with open(self.err, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        text = self.stderr()
        bad = [w for w in SANITIZER if w in text]
        assert not bad, "sanitizer report in kmsauthzd's stderr:\n" + text


@pytest.fixture
def make_daemon(tmp_path_factory):
    started = []

    def make(bundle=None, extra=()):
        d = Daemon(str(tmp_path_factory.mktemp("kzd")), bundle, extra)
        started.append(d)
        return d
    yield make
    for d in started:
        d.stop()


@pytest.fixture(scope="module")
def example_daemon(tmp_path_factory):
    d = Daemon(str(tmp_path_factory.mktemp("kzd")), EXAMPLE_BUNDLE)
    yield d
    d.stop()
