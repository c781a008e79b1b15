"""A ``solc`` executable backed by solcjs, for tools that want a native compiler (forge, crytic-compile).

``shim_path(version)`` writes (once) a small script ``<cache>/shims/solc-<version>`` that runs
``python -m bulwark.toolchain.shim --solc-version <version> ...``. It answers, like native solc:

* ``--version``;
* ``--standard-json`` (input on stdin, output on stdout; sources given only as ``urls`` get their
  ``content`` filled in from ``--base-path``, ``--include-path`` and the working directory);
* ``--combined-json <fields>`` with positional files and ``prefix=target`` remappings. Below 0.8
  the ``abi``/``userdoc``/``devdoc``/``storage-layout`` fields are JSON strings and the AST is under
  ``legacyAST`` unless ``compact-format`` is asked, as native solc prints them.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bulwark.errors import BulwarkError, UsageError
from bulwark.toolchain.artifacts import JsonDict
from bulwark.toolchain.paths import cache_dir
from bulwark.toolchain.solc import Compiler
from bulwark.toolchain.versions import version_key

_BANNER = "solc, the solidity compiler commandline interface"

# combined-json field -> standard-JSON output selection for a contract.
_FIELD_SELECTION = {
    "abi": "abi",
    "bin": "evm.bytecode.object",
    "bin-runtime": "evm.deployedBytecode.object",
    "srcmap": "evm.bytecode.sourceMap",
    "srcmap-runtime": "evm.deployedBytecode.sourceMap",
    "hashes": "evm.methodIdentifiers",
    "metadata": "metadata",
    "userdoc": "userdoc",
    "devdoc": "devdoc",
    "storage-layout": "storageLayout",
    "opcodes": "evm.bytecode.opcodes",
    "asm": "evm.legacyAssembly",
}
_SOURCE_FIELDS = {"ast", "compact-format"}
# Fields native solc below 0.8 prints as JSON text rather than as objects.
_STRING_BELOW_08 = {"abi", "userdoc", "devdoc", "storage-layout"}


def _shim_dir(cache: Path | None) -> Path:
    return (cache or cache_dir()) / "shims"


def shim_path(version: str, *, cache: Path | None = None) -> Path:
    """The executable standing in for ``solc`` <version> (written on first use)."""
    path = _shim_dir(cache) / f"solc-{version}"
    env = f"BULWARK_CACHE={_quote(str(cache))} " if cache else ""
    script = (
        "#!/bin/sh\n"
        f"# solc {version} through solcjs (bulwark.toolchain.shim); generated, do not edit.\n"
        f'{env}exec {_quote(sys.executable)} -m bulwark.toolchain.shim --solc-version {version} "$@"\n'
    )
    try:
        if path.read_text() == script:
            return path
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(script)
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    tmp.replace(path)
    return path


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


@dataclass
class ShimArgs:
    version: str
    mode: str = ""  # "version", "standard-json" or "combined-json"
    combined_fields: tuple[str, ...] = ()
    files: list[str] = field(default_factory=list)
    remappings: list[str] = field(default_factory=list)
    base_path: Path | None = None
    include_paths: list[Path] = field(default_factory=list)
    optimize: bool = False
    runs: int = 200
    evm_version: str | None = None
    via_ir: bool = False


# Options taking a value that change nothing for solcjs (imports are read through our callback).
_IGNORED_WITH_VALUE = {"--allow-paths", "--output-dir", "-o", "--pretty-json-indent", "--error-codes-limit"}
_IGNORED_FLAGS = {
    "--overwrite",
    "--pretty-json",
    "--no-color",
    "--color",
    "--error-recovery",
    "--error-codes",
}


def parse_args(argv: Sequence[str]) -> ShimArgs:
    version = ""
    it = iter(argv)
    rest: list[str] = []
    for arg in it:
        if arg == "--solc-version":
            version = next(it, "")
        elif arg.startswith("--solc-version="):
            version = arg.partition("=")[2]
        else:
            rest.append(arg)
    if not version:
        raise UsageError("the solc shim needs --solc-version X.Y.Z")
    args = ShimArgs(version)
    it = iter(rest)
    for arg in it:
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")

        def value(name: str = name, eq: str = eq, inline: str = inline) -> str:
            if eq:
                return inline
            got = next(it, None)
            if got is None:
                raise UsageError(f"solc option {name} needs a value")
            return got

        if name in ("--version", "-v"):
            args.mode = "version"
        elif name == "--standard-json":
            args.mode = "standard-json"
        elif name == "--combined-json":
            args.mode = "combined-json"
            args.combined_fields = tuple(f for f in value().split(",") if f)
        elif name == "--base-path":
            args.base_path = Path(value())
        elif name == "--include-path":
            args.include_paths.append(Path(value()))
        elif name == "--optimize":
            args.optimize = True
        elif name == "--optimize-runs":
            args.runs = int(value())
        elif name == "--evm-version":
            args.evm_version = value()
        elif name in ("--via-ir", "--experimental-via-ir"):
            args.via_ir = True
        elif name in _IGNORED_WITH_VALUE:
            value()
        elif name in _IGNORED_FLAGS:
            pass
        elif arg.startswith("-") and arg != "-":
            raise UsageError(f"the solc shim does not support option {arg}")
        elif "=" in arg:
            args.remappings.append(arg)
        else:
            args.files.append(arg)
    return args


def _long_version(args: ShimArgs, compiler: Compiler) -> str:
    # forge asks for --version often; remember the answer so it needs no node process.
    memo = _shim_dir(None) / f"solc-{args.version}.long-version"
    try:
        text = memo.read_text().strip()
        if text:
            return text
    except OSError:
        pass
    long_version = compiler.long_version(args.version)
    memo.parent.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_name(f".{memo.name}.{os.getpid()}.tmp")
    tmp.write_text(long_version)
    tmp.replace(memo)
    return long_version


def _roots(args: ShimArgs) -> list[Path]:
    roots = [args.base_path] if args.base_path else []
    return [*roots, *args.include_paths, Path.cwd()]


def _fill_contents(std_input: JsonDict, roots: Sequence[Path]) -> None:
    """Give ``content`` to sources that only have ``urls`` (solcjs cannot read files itself)."""
    for name, src in (std_input.get("sources") or {}).items():
        if "content" in src:
            continue
        for url in [*(src.get("urls") or []), name]:
            candidates = [Path(url)] if Path(url).is_absolute() else [r / url for r in roots]
            found = next((c for c in candidates if c.is_file()), None)
            if found:
                src["content"] = found.read_text(encoding="utf-8")
                src.pop("urls", None)
                break


def standard_json(args: ShimArgs, compiler: Compiler, stdin_text: str) -> str:
    try:
        std_input: JsonDict = json.loads(stdin_text)
    except ValueError as exc:
        return json.dumps({"errors": [_error(f"Found invalid JSON on standard input: {exc}")]})
    roots = _roots(args)
    _fill_contents(std_input, roots)
    if args.remappings:
        settings = std_input.setdefault("settings", {})
        settings["remappings"] = [*args.remappings, *settings.get("remappings", [])]
    raw = compiler.compile_standard_json(std_input, args.version, extra_roots=roots)
    return json.dumps(raw.output)


def _error(message: str) -> JsonDict:
    return {
        "severity": "error",
        "type": "JSONError",
        "component": "general",
        "message": message,
        "formattedMessage": f"JSONError: {message}",
    }


def combined_json(args: ShimArgs, compiler: Compiler) -> tuple[str, list[str], bool]:
    """Return (stdout, diagnostics for stderr, ok)."""
    unknown = set(args.combined_fields) - set(_FIELD_SELECTION) - _SOURCE_FIELDS
    if unknown:
        fields = ", ".join(sorted(unknown))
        raise UsageError(f"the solc shim does not support combined-json field(s): {fields}")
    if not args.files:
        raise UsageError("--combined-json needs at least one source file")
    legacy = version_key(args.version) < (0, 8, 0)
    want_ast = "ast" in args.combined_fields
    compact = not legacy or "compact-format" in args.combined_fields
    roots = _roots(args)
    sources: JsonDict = {}
    for file in args.files:
        path = Path(file)
        full = path if path.is_absolute() else (args.base_path or Path.cwd()) / path
        try:
            sources[file] = {"content": full.read_text(encoding="utf-8")}
        except OSError as exc:
            return "", [f'Error: "{file}" is not found: {exc.strerror or exc}'], False
    per_contract = sorted({_FIELD_SELECTION[f] for f in args.combined_fields if f in _FIELD_SELECTION})
    per_source = (["ast"] if compact else ["legacyAST"]) if want_ast else []
    settings: JsonDict = {
        "optimizer": {"enabled": args.optimize, "runs": args.runs},
        "remappings": args.remappings,
        "outputSelection": {"*": {"*": per_contract, "": per_source}},
    }
    if args.evm_version:
        settings["evmVersion"] = args.evm_version
    if args.via_ir:
        settings["viaIR"] = True
    std_input = {"language": "Solidity", "sources": sources, "settings": settings}
    raw = compiler.compile_standard_json(std_input, args.version, extra_roots=roots)
    out = raw.output
    diags = [e.get("formattedMessage") or e.get("message", "") for e in out.get("errors") or []]
    if any(e.get("severity") == "error" for e in out.get("errors") or []):
        return "", diags, False
    contracts: JsonDict = {}
    for unit, by_name in (out.get("contracts") or {}).items():
        for name, art in by_name.items():
            contracts[f"{unit}:{name}"] = _combined_contract(art, args.combined_fields, legacy)
    ordered = sorted((out.get("sources") or {}).items(), key=lambda kv: int(kv[1].get("id", 0)))
    result: JsonDict = {"contracts": contracts}
    if want_ast:
        key = "AST" if compact else "legacyAST"
        result["sources"] = {unit: {key: src.get("ast" if compact else "legacyAST")} for unit, src in ordered}
    else:
        result["sources"] = {unit: {} for unit, _ in ordered}
    result["sourceList"] = [unit for unit, _ in ordered]
    result["version"] = raw.long_version
    return json.dumps(result), diags, True


def _combined_contract(art: JsonDict, fields: Sequence[str], legacy: bool) -> JsonDict:
    evm = art.get("evm") or {}
    picked: JsonDict = {}
    for f in fields:
        if f in _SOURCE_FIELDS:
            continue
        node: object = art
        for part in _FIELD_SELECTION[f].split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if f in ("bin", "bin-runtime", "srcmap", "srcmap-runtime", "opcodes") and node is None:
            node = ""
        if f == "hashes":
            node = evm.get("methodIdentifiers") or {}
        if legacy and f in _STRING_BELOW_08 and not isinstance(node, str):
            node = json.dumps(node if node is not None else {}, separators=(",", ":"))
        picked[f] = node
    return picked


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(list(sys.argv[1:] if argv is None else argv))
        root = (args.base_path or Path.cwd()).resolve()
        with Compiler(root=root, include_paths=args.include_paths) as compiler:
            if args.mode == "version":
                sys.stdout.write(f"{_BANNER}\nVersion: {_long_version(args, compiler)}\n")
                return 0
            if args.mode == "standard-json":
                sys.stdout.write(standard_json(args, compiler, sys.stdin.read()) + "\n")
                return 0
            if args.mode == "combined-json":
                text, diags, ok = combined_json(args, compiler)
                for d in diags:
                    sys.stderr.write(d.rstrip() + "\n")
                if text:
                    sys.stdout.write(text + "\n")
                return 0 if ok else 1
            raise UsageError("the solc shim supports --version, --standard-json and --combined-json only")
    except BulwarkError as exc:
        sys.stderr.write(f"Error: {exc.user_message}\n")
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
