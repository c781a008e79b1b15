"""A throwaway PostgreSQL server for tests: its own data dir and port on loopback, removed after.

Uses the Debian ``postgresql`` package's binaries (``.ci/run`` installs it). As root, the server
runs as the ``postgres`` user because initdb refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise RuntimeError(f"{name} not found: install PostgreSQL (apt-get install postgresql)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh database; stop and delete the server afterwards."""
    env_url = os.environ.get("BULWARK_TEST_PG_URL")
    if env_url:
        yield env_url
        return
    root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="bulwark-pg-"))
    data = base / "data"
    prefix: list[str] = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(base, "postgres")
    port = _free_port()
    subprocess.run(
        [*prefix, _bin("initdb"), "-D", str(data), "-U", "bulwark", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    ctl = [*prefix, _bin("pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log")]
    subprocess.run(
        [*ctl, "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [*prefix, _bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "bulwark", "bulwark"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://bulwark@127.0.0.1:{port}/bulwark"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
