"""A throwaway NATS server with JetStream for tests: a free loopback port and a temp store dir.

Uses Debian's ``nats-server`` (``scripts/system-deps.sh`` installs it). ``restart()`` stops the
server gracefully and starts it again on the same port and store, as a broker restart would.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _binary() -> str:
    found = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
    )
    if not found:
        raise RuntimeError("nats-server not found: install it (apt-get install nats-server)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    def __init__(self, base: Path, *, jetstream: bool = True) -> None:
        self.base = base
        self.jetstream = jetstream
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> None:
        log = (self.base / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [
                _binary(),
                *(["-js"] if self.jetstream else []),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(self.base / "js"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:  # wait for the port, not a fixed time
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited: {(self.base / 'server.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nats-server did not listen on {self.port} within {timeout_s}s")

    def stop(self) -> None:
        """Graceful (SIGTERM): JetStream flushes its store, as a planned broker restart would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def nats_server(*, jetstream: bool = True) -> Iterator[NatsServer]:
    """Yield a running server (with JetStream unless told); stop it and delete its store afterwards."""
    base = Path(tempfile.mkdtemp(prefix="bulwark-nats-"))
    server = NatsServer(base, jetstream=jetstream)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
