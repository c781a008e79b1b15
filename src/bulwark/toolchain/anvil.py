"""Start, wait for and stop a local anvil node.

Every node runs on a loopback port chosen by the kernel (``--port 0``; anvil prints the port it
got), in its own session so a terminal's Ctrl-C reaches Python first and Python decides how to
stop it. A node never outlives the Python process that started it:

* the context manager and an ``atexit`` hook stop it on normal exit, on error and on Ctrl-C;
* a watchdog (a tiny ``sh`` reading a pipe only we hold) kills anvil's process group when that
  pipe reaches EOF, which the kernel guarantees when Python dies in any way, ``kill -9`` included.
  Unlike ``PR_SET_PDEATHSIG`` this does not depend on which thread started the node, and it
  needs no ``preexec_fn`` (unsafe once other threads exist).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import gzip
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

from bulwark.domain.chain import Address
from bulwark.errors import AnvilError, ToolchainError
from bulwark.logs import get_logger, mask, register_secret
from bulwark.toolchain.paths import foundry_bin

DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
DERIVATION_PATH = "m/44'/60'/0'/0/"

_LISTENING_RE = re.compile(r"Listening on (\S+):(\d+)")
_TAIL_LINES = 200
_STOP_TIMEOUT_S = 5.0
# Reads until EOF on stdin (the pipe's write end lives only in the Python parent), then kills
# anvil's whole process group. "$1" is anvil's pid, which is also its process group id.
_WATCHDOG_SCRIPT = 'read -r _ ; kill -9 "-$1" 2>/dev/null; exit 0'  # dash: no `--`

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DevAccount:
    """A funded, unlocked anvil account and its key (never shown by ``repr``)."""

    address: Address
    private_key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class AnvilOptions:
    """How to start anvil. ``None`` means "anvil's default" unless said otherwise.

    Mining: ``automine`` alone mines one block per transaction; ``automine=False`` without
    ``block_time`` never mines on its own (``--no-mining``: transactions wait in the pool until
    ``anvil_mine``); ``block_time`` mines on an interval, and together with ``automine`` both.
    """

    automine: bool = True
    block_time: float | None = None
    fork_url: str | None = field(default=None, repr=False)
    fork_block: int | None = None
    steps_tracing: bool = False
    accounts: int = 10
    balance_eth: int = 10_000
    chain_id: int | None = 31337
    code_size_limit: int | None = None
    load_state: Path | None = None
    dump_state: Path | None = None
    order: Literal["fees", "fifo"] = "fees"
    mnemonic: str = field(default=DEFAULT_MNEMONIC, repr=False)
    auto_impersonate: bool = False
    host: str = "127.0.0.1"
    port: int = 0  # 0: let the kernel pick a free port
    startup_timeout_s: float = 30.0
    extra_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.fork_block is not None and self.fork_url is None:
            raise AnvilError("fork_block needs fork_url; give the URL of the chain to fork")
        if self.block_time is not None and self.block_time <= 0:
            raise AnvilError(f"block_time must be positive, got {self.block_time}")
        if self.accounts < 0 or self.balance_eth < 0:
            raise AnvilError("accounts and balance_eth must not be negative")

    def to_args(self) -> list[str]:
        """anvil's command-line arguments (without the binary)."""
        args = ["--host", self.host, "--port", str(self.port), "--order", self.order]
        args += ["--accounts", str(self.accounts), "--balance", str(self.balance_eth)]
        args += ["--mnemonic", self.mnemonic]
        if self.block_time is not None:
            args += ["--block-time", _fmt_seconds(self.block_time)]
            if self.automine:
                args.append("--mixed-mining")
        elif not self.automine:
            args.append("--no-mining")
        if self.fork_url is not None:
            args += ["--fork-url", self.fork_url]
            if self.fork_block is not None:
                args += ["--fork-block-number", str(self.fork_block)]
        if self.chain_id is not None:
            args += ["--chain-id", str(self.chain_id)]
        if self.steps_tracing:
            args.append("--steps-tracing")
        if self.code_size_limit is not None:
            args += ["--code-size-limit", str(self.code_size_limit)]
        if self.load_state is not None:
            args += ["--load-state", str(self.load_state)]
        if self.dump_state is not None:
            args += ["--dump-state", str(self.dump_state)]
        if self.auto_impersonate:
            args.append("--auto-impersonate")
        args += list(self.extra_args)
        return args


def _fmt_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@cache
def dev_accounts(count: int = 10, mnemonic: str = DEFAULT_MNEMONIC) -> tuple[DevAccount, ...]:
    """The accounts anvil derives from ``mnemonic`` (BIP-44 path ``m/44'/60'/0'/0/i``).

    Derived rather than hard-coded so they always match what anvil funds; cached because key
    derivation costs tens of milliseconds per account.
    """
    from eth_account import Account
    from eth_account.hdaccount import key_from_seed, seed_from_mnemonic

    seed = seed_from_mnemonic(mnemonic, "")
    out = []
    for i in range(count):
        key = key_from_seed(seed, f"{DERIVATION_PATH}{i}")
        out.append(DevAccount(Address(Account.from_key(key).address), "0x" + key.hex()))
    return tuple(out)


class _Tail:
    """Drains one of anvil's pipes (a full pipe would block anvil) keeping the last lines."""

    def __init__(self, stream: IO[str], name: str, on_line: re.Pattern[str] | None = None) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self.match: re.Match[str] | None = None
        self.matched = threading.Event()
        self._pattern = on_line
        self._stream = stream
        self._thread = threading.Thread(target=self._run, name=f"anvil-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in self._stream:
                self.lines.append(line.rstrip("\n"))
                if self._pattern is not None and self.match is None:
                    m = self._pattern.search(line)
                    if m is not None:
                        self.match = m
                        self.matched.set()
        self.matched.set()  # EOF: wake up anyone waiting for the pattern

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def text(self) -> str:
        return mask("\n".join(self.lines)).strip()


class Anvil:
    """A running anvil node; use as a context manager (or call :meth:`start` / :meth:`stop`)."""

    def __init__(self, options: AnvilOptions | None = None) -> None:
        self.options = options or AnvilOptions()
        self._proc: subprocess.Popen[str] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._stdout: _Tail | None = None
        self._stderr: _Tail | None = None
        self._host = self.options.host
        self._port: int | None = None
        if self.options.fork_url:
            _register_url_secrets(self.options.fork_url)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Anvil:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Anvil:
        """Start anvil and return once it answers JSON-RPC; raises :class:`AnvilError`."""
        if self._proc is not None:
            raise AnvilError("this anvil node is already started; create a new Anvil for a second node")
        try:
            binary = foundry_bin("anvil")
        except ToolchainError as exc:
            raise AnvilError(exc.user_message) from exc
        cmd = [str(binary), *self.options.to_args()]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,  # own process group: killable as a whole, no terminal ^C
            )
        except OSError as exc:
            raise AnvilError(
                f"cannot run anvil at {binary}: {exc.strerror}; run `make setup` (npm ci) to install it"
            ) from exc
        atexit.register(self.stop)
        try:
            self._watchdog = _start_watchdog(self._proc.pid)
            assert self._proc.stdout is not None and self._proc.stderr is not None
            self._stdout = _Tail(self._proc.stdout, "stdout", _LISTENING_RE)
            self._stderr = _Tail(self._proc.stderr, "stderr")
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        log.debug("anvil started", pid=self._proc.pid, url=self.http_url)
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None and self._stdout is not None
        deadline = time.monotonic() + self.options.startup_timeout_s
        if not self._stdout.matched.wait(self.options.startup_timeout_s) or self._stdout.match is None:
            if self._stdout.matched.is_set():
                # stdout closed: anvil is exiting; its exit status and stderr can trail the EOF
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=5)
            self._fail("exited before listening" if self._proc.poll() is not None else "never listened")
        match = self._stdout.match
        assert match is not None
        self._port = int(match.group(2))
        while True:
            if self._proc.poll() is not None:
                self._fail("exited during start-up")
            try:
                self._call("eth_chainId", timeout=2)
                return
            except (urllib.error.URLError, OSError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                self._fail(f"did not answer JSON-RPC within {self.options.startup_timeout_s:g} s")
            time.sleep(0.02)

    def _call(self, method: str, timeout: float) -> object:
        """One JSON-RPC call to our own node (start-up probe and the state dump only)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode()
        req = urllib.request.Request(  # noqa: S310 - loopback http URL built by us
            self.http_url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            return json.loads(resp.read())["result"]

    def _dump_state(self) -> None:
        """Write the state through ``anvil_dumpState`` before stopping: anvil's own dump on exit
        is lost about one stop in ten (measured here), so it cannot be what a restart relies on."""
        target = self.options.dump_state
        if target is None or self._port is None:
            return
        try:
            raw = self._call("anvil_dumpState", timeout=30)
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            log.warning("anvil state dump failed; relying on anvil's own dump on exit", error=str(exc))
            return
        assert isinstance(raw, str)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(gzip.decompress(bytes.fromhex(raw.removeprefix("0x"))))
        tmp.replace(target)

    def _fail(self, what: str) -> None:
        code = self._proc.poll() if self._proc is not None else None
        if self._stderr is not None and code is not None:
            self._stderr.join(1.0)  # let the drain thread read anvil's last words
        stderr = self._stderr.text() if self._stderr is not None else ""
        detail = stderr.splitlines()[-1] if stderr else "no output on stderr"
        exit_part = f" (exit code {code})" if code is not None else ""
        raise AnvilError(
            f"anvil {what}{exit_part}: {detail}",
            detail=f"anvil {what}{exit_part}\nstderr:\n{stderr}\nstdout tail:\n"
            + (self._stdout.text() if self._stdout else ""),
        )

    def stop(self) -> None:
        """Stop anvil (SIGTERM, then SIGKILL) and its watchdog. Idempotent."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                self._dump_state()
                _signal_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(_STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    _signal_group(proc.pid, signal.SIGKILL)
                    proc.wait()
            for tail in (self._stdout, self._stderr):
                if tail is not None:
                    tail.join(1.0)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        dog, self._watchdog = self._watchdog, None
        if dog is not None:
            dog.kill()
            dog.wait()
            if dog.stdin is not None:
                with contextlib.suppress(OSError):
                    dog.stdin.close()

    # -- facts about the running node ------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise AnvilError("anvil is not running")
        return self._proc.pid

    @property
    def port(self) -> int:
        if self._port is None:
            raise AnvilError("anvil is not running")
        return self._port

    @property
    def http_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self._host}:{self.port}"

    @property
    def accounts(self) -> list[DevAccount]:
        """The funded dev accounts (index 0 first) with their private keys."""
        return list(dev_accounts(self.options.accounts, self.options.mnemonic))

    def output(self) -> str:
        """The last lines anvil printed (stdout then stderr), secrets masked; for diagnostics."""
        parts = [t.text() for t in (self._stdout, self._stderr) if t is not None]
        return "\n".join(p for p in parts if p)

    def __repr__(self) -> str:
        state = f"pid={self._proc.pid} url={self.http_url}" if self._proc and self._port else "stopped"
        return f"<Anvil {state}>"


def _start_watchdog(pid: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["/bin/sh", "-c", _WATCHDOG_SCRIPT, "bulwark-anvil-watchdog", str(pid)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a ^C to our terminal must not kill the watchdog before us
    )


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _register_url_secrets(url: str) -> None:
    """RPC URLs often carry an API key in the path or the query string: mask both in logs."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    for secret in (parts.query, parts.path.strip("/"), parts.password or ""):
        if secret:
            register_secret(secret)


__all__ = ["DEFAULT_MNEMONIC", "Anvil", "AnvilOptions", "DevAccount", "dev_accounts"]
