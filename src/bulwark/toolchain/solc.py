"""Compile Solidity with solcjs: one long-lived node process per version, standard JSON, disk cache.

    with Compiler(root=project_root()) as c:
        res = c.compile_files([Path("contracts/Guardian.sol")])
        art = res.contract("BulwarkGuardian")

The version comes from the sources' ``pragma solidity`` unless given: the newest bundled release
that satisfies every pragma, else the newest published one (fetched from npm on first use).
Imports resolve on demand through the solcjs import callback: remappings first (solc applies them),
then the project root, the extra include paths and ``node_modules``.

Outputs are cached on disk by the sha256 of the standard-JSON input (and the version); an entry
also records the sha256 of every imported file, so editing an import invalidates it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from bulwark.domain.canonical import canonical_ascii
from bulwark.errors import CompileError, CompilerUnavailable, ToolchainError
from bulwark.toolchain.artifacts import (
    CompileResult,
    ContractArtifact,
    ImmutableReference,
    JsonDict,
    SolcError,
    SourceUnit,
    StorageLayout,
    StorageType,
    StorageVariable,
)
from bulwark.toolchain.paths import cache_dir, node_modules, project_root
from bulwark.toolchain.pragma import VersionSpec, pragmas, select_version
from bulwark.toolchain.solc_install import ensure_package, published_versions
from bulwark.toolchain.versions import OLDEST_SUPPORTED, bundled_solc, newest_bundled, version_key

__all__ = [
    "DEFAULT_REMAPPINGS",
    "CompileOptions",
    "CompileResult",
    "Compiler",
    "ContractArtifact",
    "ImmutableReference",
    "SourceUnit",
    "StorageLayout",
    "StorageType",
    "StorageVariable",
    "resolve_version",
]

# "interface": ABI, selectors and storage layout only (no code generation: the fast way to check
# that an edited source still compiles to the same interface); "frontend": that plus the AST.
Outputs = Literal["all", "minimal", "interface", "frontend"]

DEFAULT_REMAPPINGS: tuple[str, ...] = (
    "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/",
    "@openzeppelin/contracts-upgradeable/=node_modules/@openzeppelin/contracts-upgradeable/",
    "@safe-global/safe-contracts/=node_modules/@safe-global/safe-contracts/",
)

_SERVER_JS = Path(__file__).with_name("solc_server.js")
# How long one compile may take before its node process is abandoned: solcjs has no limit of its
# own, and a hung compile would hold a patch or verify step (and the incident) forever. The largest
# input measured here (a 5,000-function contract) compiles in about 15 s.
DEFAULT_TIMEOUT_S = 600.0
TIMEOUT_ENV = "BULWARK_SOLC_TIMEOUT_S"


def default_timeout_s() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise ToolchainError(
            f"{TIMEOUT_ENV}={raw!r} is not a number of seconds; unset it or give e.g. 600"
        ) from None
    if not value > 0:
        raise ToolchainError(f"{TIMEOUT_ENV}={raw!r} must be a positive number of seconds")
    return value


class CompileTimeout(ToolchainError):
    """solc did not answer within the compile timeout; its process was stopped."""


_CACHE_FORMAT = 1

# Compilers still open at interpreter exit; atexit closes them so no node process is orphaned.
# (The node side also exits when its stdin closes, covering a killed Python process.)
_LIVE: weakref.WeakSet[Compiler] = weakref.WeakSet()


def _close_all() -> None:
    for compiler in list(_LIVE):
        compiler.close()


atexit.register(_close_all)


def _vkey(version: str) -> tuple[int, ...]:
    return version_key(version)


def output_selection(version: str, outputs: Outputs = "all") -> JsonDict:
    """What to ask solc for, limited to what this version knows."""
    if outputs == "minimal":
        per_contract = ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"]
        return {"*": {"*": per_contract, "": ["ast"]}}
    if outputs in ("interface", "frontend"):
        per_contract = ["abi", "evm.methodIdentifiers"]
        if _vkey(version) >= (0, 5, 13):
            per_contract.append("storageLayout")
        return {"*": {"*": per_contract, "": ["ast"] if outputs == "frontend" else []}}
    per_contract = [
        "abi",
        "metadata",
        "userdoc",
        "devdoc",
        "evm.bytecode.object",
        "evm.bytecode.sourceMap",
        "evm.bytecode.linkReferences",
        "evm.deployedBytecode.object",
        "evm.deployedBytecode.sourceMap",
        "evm.deployedBytecode.linkReferences",
        "evm.methodIdentifiers",
    ]
    if _vkey(version) >= (0, 6, 5):
        per_contract.append("evm.deployedBytecode.immutableReferences")
    if _vkey(version) >= (0, 5, 13):
        per_contract.append("storageLayout")
    return {"*": {"*": per_contract, "": ["ast"]}}


def _sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _one_line(formatted: str) -> str:
    """'ParserError: Expected ...\\n --> a.sol:3:1:' -> 'a.sol:3:1: ParserError: Expected ...'."""
    lines = [ln.strip() for ln in formatted.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    head = lines[0]
    loc = next((ln[3:].strip().rstrip(":") for ln in lines[1:] if ln.startswith("-->")), None)
    if loc is None and ": " in head and not head.split(": ", 1)[0].endswith("Error"):
        return head  # 0.4-0.5 style: "a.sol:3:1: ParserError: ..." already
    return f"{loc}: {head}" if loc else head


@dataclass(frozen=True, slots=True)
class CompileOptions:
    optimize: bool = True
    runs: int = 200
    evm_version: str | None = None
    via_ir: bool = False
    outputs: Outputs = "all"


@dataclass(frozen=True, slots=True)
class Imported:
    """A file the import callback read: where from, and its text."""

    file: Path
    content: str


@dataclass(frozen=True, slots=True)
class RawOutput:
    """solc's standard-JSON output as is, plus what the import callback read."""

    version: str
    long_version: str
    output: JsonDict
    imports: dict[str, Imported]
    cached: bool


def resolve_version(specs: Sequence[VersionSpec], *, cache: Path | None = None) -> str:
    """Newest bundled release satisfying every spec; else an exact pin; else the newest published one."""
    if not specs:
        return newest_bundled()
    too_old = [s.text for s in specs if not s.allows_from(OLDEST_SUPPORTED)]
    if too_old:
        # Decided here, before any registry lookup: no release Bulwark can drive would do.
        raise CompilerUnavailable(
            f"pragma solidity {too_old[0]!r} needs a compiler older than {OLDEST_SUPPORTED}: "
            f"Bulwark supports solc {OLDEST_SUPPORTED} and newer"
        )
    chosen = select_version(specs, bundled_solc())
    if chosen:
        return chosen
    exact = {s.exact for s in specs}
    if len(exact) == 1 and None not in exact:
        pinned = next(iter(exact))
        assert pinned is not None
        return pinned  # no need to ask the registry which releases exist
    chosen = select_version(specs, published_versions(cache=cache))
    if not chosen:
        wanted = " and ".join(repr(s.text) for s in specs)
        raise CompilerUnavailable(f"no solc release satisfies pragma solidity {wanted}")
    return chosen


class _SolcProcess:
    """One node process running solc_server.js for one solcjs release."""

    def __init__(
        self, version: str, package_dir: Path, *, timeout_s: float, server: Path = _SERVER_JS
    ) -> None:
        node = shutil.which("node")
        if not node:
            raise CompilerUnavailable("node is not on PATH; install Node.js 18 or newer")
        self.version = version
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._next_id = 0
        # stderr goes to a file: a pipe nobody reads could fill and block node.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
        try:
            self.proc = subprocess.Popen(
                [node, "--no-warnings", "--stack-size=8192", str(server), str(package_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                encoding="utf-8",
                start_new_session=True,  # a Ctrl-C in the terminal is handled by Python, which closes us
            )
        except OSError as exc:
            self._stderr.close()
            raise CompilerUnavailable(f"cannot start node for solc {version}: {exc}") from exc
        try:
            self.long_version = str(self.request({"op": "version"})["version"])
        except BaseException:
            self.close()  # a process that failed its handshake is not left behind
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def request(self, req: JsonDict) -> JsonDict:
        with self._lock:
            if self.proc.poll() is not None:
                raise ToolchainError(f"solc {self.version} node process has exited: {self._stderr_tail()}")
            self._next_id += 1
            req = {**req, "id": self._next_id}
            assert self.proc.stdin is not None and self.proc.stdout is not None
            try:
                self.proc.stdin.write(json.dumps(req) + "\n")
                self.proc.stdin.flush()
                # One request, one line: nothing is buffered before the answer starts.
                ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout_s)
                if not ready:
                    self._abandon()
                    raise CompileTimeout(
                        f"solc {self.version} did not answer within {self.timeout_s:g} s, so the compile "
                        f"was stopped; for a very large project raise {TIMEOUT_ENV}"
                    )
                line = self.proc.stdout.readline()
            except OSError as exc:
                raise ToolchainError(f"solc {self.version} node process failed: {exc}") from exc
            if not line:
                self.proc.wait(timeout=5)
                raise ToolchainError(
                    f"solc {self.version} node process died (exit {self.proc.returncode}): "
                    f"{self._stderr_tail()}"
                )
            resp: JsonDict = json.loads(line)
            if "error" in resp:
                raise ToolchainError(f"solc {self.version} failed: {str(resp['error']).splitlines()[0]}")
            return resp

    def _abandon(self) -> None:
        """Stop a process that is stuck mid-request (its answer, if it ever came, would be misread)."""
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return text.splitlines()[-1] if text else "no message"

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()  # the server exits on end of input
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                with contextlib.suppress(OSError):
                    stream.close()
        self._stderr.close()


class Compiler:
    """solcjs behind long-lived node processes (one per version, started lazily).

    ``root`` is the project root: source unit names are relative to it and imports resolve from it.
    ``remappings`` are added to DEFAULT_REMAPPINGS (a later entry for the same prefix wins in solc).
    ``include_paths`` are searched after ``root`` and before ``node_modules``.
    ``cache`` is the folder holding the output cache and fetched releases (``cache_dir()``);
    ``use_cache=False`` always compiles. ``timeout_s`` bounds one compile (default: the
    ``BULWARK_SOLC_TIMEOUT_S`` environment variable, else 600 s): a compile that takes longer stops
    its node process and raises :class:`CompileTimeout`; the next compile starts a fresh one.
    """

    def __init__(
        self,
        root: Path | None = None,
        remappings: Sequence[str] | None = None,
        *,
        include_paths: Sequence[Path] = (),
        cache: Path | None = None,
        use_cache: bool = True,
        timeout_s: float | None = None,
    ) -> None:
        self.root = (root or project_root()).resolve()
        self.timeout_s = default_timeout_s() if timeout_s is None else timeout_s
        self.remappings: tuple[str, ...] = (*DEFAULT_REMAPPINGS, *(remappings or ()))
        self.include_paths = tuple(Path(p).resolve() for p in include_paths)
        self._cache = cache
        self.use_cache = use_cache
        self._procs: dict[str, _SolcProcess] = {}
        self._procs_lock = threading.Lock()
        self._closed = False
        _LIVE.add(self)

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Compiler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every node process this compiler started (idempotent)."""
        with self._procs_lock:
            procs, self._procs = list(self._procs.values()), {}
            self._closed = True
        for proc in procs:
            proc.close()
        _LIVE.discard(self)

    @property
    def pids(self) -> dict[str, int]:
        """PID of the node process per running version (for tests and diagnostics)."""
        with self._procs_lock:
            return {v: p.pid for v, p in self._procs.items()}

    @property
    def cache_root(self) -> Path:
        return self._cache or cache_dir()

    def _process(self, version: str) -> _SolcProcess:
        with self._procs_lock:
            if self._closed:
                # A closed compiler may be reused; it registers for cleanup again.
                self._closed = False
                _LIVE.add(self)
            proc = self._procs.get(version)
            if proc is not None and proc.proc.poll() is None:
                return proc
            package = ensure_package(version, cache=self._cache)
            proc = _SolcProcess(version, package.package_dir, timeout_s=self.timeout_s)
            self._procs[version] = proc
            return proc

    def long_version(self, version: str) -> str:
        """``0.8.26+commit.8a97fa7a.Emscripten.clang`` as solcjs reports it (starts the process)."""
        return self._process(version).long_version

    # -- version selection ----------------------------------------------------------------------

    def version_for(self, source_text: str | Iterable[str]) -> str:
        """The version to compile with: newest bundled satisfying every pragma, else newest published."""
        texts = [source_text] if isinstance(source_text, str) else list(source_text)
        specs = [spec for text in texts for spec in pragmas(text)]
        return self.resolve_version(specs)

    def resolve_version(self, specs: Sequence[VersionSpec]) -> str:
        return resolve_version(specs, cache=self._cache)

    # -- compiling --------------------------------------------------------------------------------

    def _unit_name(self, path: Path) -> str:
        full = (path if path.is_absolute() else self.root / path).resolve()
        try:
            return full.relative_to(self.root).as_posix()
        except ValueError:
            return full.as_posix()

    def compile_files(
        self,
        paths: Sequence[Path],
        *,
        version: str | None = None,
        optimize: bool = True,
        runs: int = 200,
        evm_version: str | None = None,
        via_ir: bool = False,
        outputs: Outputs = "all",
    ) -> CompileResult:
        """Compile files (relative to ``root`` or absolute); imports resolve on demand."""
        sources: dict[str, str] = {}
        files: dict[str, Path] = {}
        for path in paths:
            full = (path if path.is_absolute() else self.root / path).resolve()
            try:
                text = full.read_text(encoding="utf-8")
            except OSError as exc:
                raise CompileError(f"cannot read Solidity source {path}: {exc.strerror or exc}") from exc
            name = self._unit_name(full)
            sources[name], files[name] = text, full
        opts = CompileOptions(optimize, runs, evm_version, via_ir, outputs)
        return self._compile(sources, files, version, opts)

    def compile_sources(
        self,
        sources: Mapping[str, str],
        *,
        version: str | None = None,
        optimize: bool = True,
        runs: int = 200,
        evm_version: str | None = None,
        via_ir: bool = False,
        outputs: Outputs = "all",
    ) -> CompileResult:
        """Compile in-memory sources keyed by source unit name; imports of other files still resolve."""
        opts = CompileOptions(optimize, runs, evm_version, via_ir, outputs)
        return self._compile(dict(sources), {}, version, opts)

    def settings(self, version: str, options: CompileOptions | None = None) -> JsonDict:
        """The standard-JSON ``settings`` Bulwark uses for these options."""
        opts = options or CompileOptions()
        settings: JsonDict = {
            "optimizer": {"enabled": opts.optimize, "runs": opts.runs},
            "remappings": list(self.remappings),
            "outputSelection": output_selection(version, opts.outputs),
        }
        if opts.evm_version:
            settings["evmVersion"] = opts.evm_version
        if opts.via_ir:
            if _vkey(version) < (0, 8, 13):
                raise CompileError(f"via-IR needs solc 0.8.13 or newer, not {version}")
            settings["viaIR"] = True
        return settings

    def _compile(
        self, sources: dict[str, str], files: dict[str, Path], version: str | None, opts: CompileOptions
    ) -> CompileResult:
        if not sources:
            raise CompileError("nothing to compile: no Solidity sources given")
        version = version or self.version_for(sources.values())
        settings = self.settings(version, opts)
        std_input: JsonDict = {
            "language": "Solidity",
            "sources": {name: {"content": text} for name, text in sorted(sources.items())},
            "settings": settings,
        }
        raw = self.compile_standard_json(std_input, version)
        output = raw.output
        errors: list[SolcError] = list(output.get("errors") or [])
        failed = [e for e in errors if e.get("severity") == "error"]
        if failed:
            messages = [e.get("formattedMessage") or e.get("message", "") for e in failed]
            first = _one_line(messages[0])
            more = f" (+{len(messages) - 1} more)" if len(messages) > 1 else ""
            raise CompileError(f"solc {version} rejected the input: {first}{more}", errors=messages)
        warnings = tuple(
            (e.get("formattedMessage") or e.get("message", "")).strip()
            for e in errors
            if e.get("severity") != "error"
        )
        imported = {name: imp for name, imp in raw.imports.items() if name not in sources}
        full_input = {
            **std_input,
            "sources": {
                **{n: {"content": imp.content} for n, imp in sorted(imported.items())},
                **std_input["sources"],
            },
        }
        units: dict[str, SourceUnit] = {}
        for name, src in (output.get("sources") or {}).items():
            content = sources.get(name)
            file = files.get(name)
            if name in imported:
                content, file = imported[name].content, imported[name].file
            units[name] = SourceUnit(
                path=name, id=int(src.get("id", -1)), ast=src.get("ast") or {}, content=content, file=file
            )
        contracts = tuple(
            ContractArtifact.from_json(path, name, art)
            for path, by_name in sorted((output.get("contracts") or {}).items())
            for name, art in sorted(by_name.items())
        )
        return CompileResult(
            version=version,
            long_version=raw.long_version,
            contracts=contracts,
            sources=units,
            standard_json_input=full_input,
            settings=settings,
            output=output,
            warnings=warnings,
            cached=raw.cached,
        )

    def compile_standard_json(
        self, std_input: JsonDict, version: str, *, extra_roots: Sequence[Path] = ()
    ) -> RawOutput:
        """Run solc on a standard-JSON input as is (errors are left in the output, not raised).

        ``extra_roots`` are searched for imports before ``root`` (the shim's --base-path).
        """
        roots = [*(str(Path(r).resolve()) for r in extra_roots), str(self.root)]
        # Bulwark's checkout last: remapping targets like "node_modules/@openzeppelin/..." resolve
        # even when the project being compiled lives elsewhere.
        roots += [str(p) for p in self.include_paths] + [str(node_modules()), str(project_root())]
        roots = list(dict.fromkeys(roots))
        text = canonical_ascii(std_input).decode()
        key = _sha256(json.dumps({"format": _CACHE_FORMAT, "solc": version, "input": text, "roots": roots}))
        if self.use_cache:
            hit = self._cache_get(key, version)
            if hit is not None:
                return hit
        proc = self._process(version)
        resp = proc.request({"op": "compile", "input": text, "roots": roots})
        try:
            output: JsonDict = json.loads(resp["output"])
        except (ValueError, TypeError) as exc:
            raise ToolchainError(f"solc {version} returned unreadable output: {exc}") from exc
        imports = {
            name: Imported(Path(i["file"]), i["content"]) for name, i in (resp.get("imports") or {}).items()
        }
        raw = RawOutput(version, proc.long_version, output, imports, cached=False)
        ok = not any(e.get("severity") == "error" for e in output.get("errors") or [])
        if self.use_cache and ok:
            self._cache_put(key, raw)
        return raw

    # -- cache -------------------------------------------------------------------------------------

    def _cache_path(self, key: str) -> Path:
        return self.cache_root / "solc-output" / key[:2] / f"{key}.json"

    def _cache_get(self, key: str, version: str) -> RawOutput | None:
        path = self._cache_path(key)
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        imports: dict[str, Imported] = {}
        for name, rec in entry.get("imports", {}).items():
            file = Path(rec["file"])
            try:
                content = file.read_text(encoding="utf-8")
            except OSError:
                return None
            if _sha256(content) != rec["sha256"]:
                return None  # an imported file changed since
            imports[name] = Imported(file, content)
        return RawOutput(version, entry["long_version"], entry["output"], imports, cached=True)

    def _cache_put(self, key: str, raw: RawOutput) -> None:
        path = self._cache_path(key)
        entry = {
            "long_version": raw.long_version,
            "imports": {
                n: {"file": str(i.file), "sha256": _sha256(i.content)} for n, i in raw.imports.items()
            },
            "output": raw.output,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(entry))
            tmp.replace(path)  # atomic: readers see the old entry or the whole new one
        except OSError:
            pass  # a cache that cannot be written only costs time
