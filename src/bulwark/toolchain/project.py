"""A protocol's own sources as its team builds them: a Foundry project, a Hardhat project's build
info, or a solc standard-JSON input, read into one typed :class:`CompileInput`.

    project = load_project(Path("../protocol"))        # foundry.toml, hardhat.config.*, or a .json
    with project.compiler() as compiler:
        result = project.compile(compiler, [Path("src/Pool.sol")])

* Foundry: ``[profile.default]`` of ``foundry.toml`` gives the compiler version (``solc_version``;
  none pinned: the sources' pragmas decide), optimizer, runs, EVM version and via-IR; remappings come
  from ``remappings.txt``, the profile's ``remappings`` and, as forge does, one per library folder
  under ``libs`` (``lib/<name>/src/`` when it has one). solc applies them, so imports resolve exactly
  as forge resolves them.
* standard JSON (``{"language", "sources", "settings"}``): compiled as given (sources inline), with
  Bulwark's output selection; the version is not part of the input (pin it, or the pragmas decide).
* Hardhat: the single ``artifacts/build-info/*.json`` of a compiled project (the standard-JSON input
  plus ``solcVersion``), or such a build-info file given directly. Run ``npx hardhat compile`` first.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bulwark.errors import ToolchainError
from bulwark.toolchain.artifacts import CompileResult, ContractArtifact, JsonDict, SolcError, SourceUnit
from bulwark.toolchain.forge import ForgeRun, run_tests
from bulwark.toolchain.solc import Compiler, output_selection

__all__ = ["CompileInput", "ProjectError", "ProjectKind", "load_project"]

ProjectKind = Literal["foundry", "standard-json", "hardhat"]
_HARDHAT_CONFIGS = ("hardhat.config.js", "hardhat.config.ts", "hardhat.config.cjs", "hardhat.config.mjs")


class ProjectError(ToolchainError, ValueError):
    """A project's build configuration cannot be read (the message names the file and the fix)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class CompileInput:
    """What the team compiles: where the sources are, the remappings and the compiler settings.

    ``solc_version`` is None when the project does not pin one (the pragmas decide, or a caller that
    knows the deployed version passes it to :meth:`compile`). ``sources`` holds inline sources
    (standard JSON, build info); a Foundry project's are read from disk under ``root``.
    """

    kind: ProjectKind
    root: Path
    path: Path  # foundry.toml, or the JSON file read
    solc_version: str | None
    optimizer: bool
    optimizer_runs: int
    evm_version: str | None
    via_ir: bool
    remappings: tuple[str, ...]
    src: str = "src"
    test: str = "test"
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Standard-JSON settings beyond the ones above (libraries, metadata), kept as given.
    extra_settings: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def compiler(self, *, cache: Path | None = None) -> Compiler:
        """A solcjs compiler rooted at the project with its remappings (close it when done)."""
        return Compiler(root=self.root, remappings=self.remappings, cache=cache)

    def source_files(self) -> tuple[str, ...]:
        """Every Solidity source of the project (unit names relative to ``root``), sorted."""
        if self.sources:
            return tuple(sorted(self.sources))
        base = self.root / self.src
        return tuple(sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*.sol") if p.is_file()))

    def compile(
        self, compiler: Compiler, paths: Sequence[Path] | None = None, *, version: str | None = None
    ) -> CompileResult:
        """Compile ``paths`` (relative to the root; None: every source) with the project's settings.

        ``version`` overrides an unpinned version only: a project that pins one is compiled with it.
        """
        chosen = self.solc_version or version
        if self.kind != "foundry":
            return self._compile_standard_json(compiler, chosen)
        files = [Path(p) for p in (paths if paths is not None else self.source_files())]
        if not files:
            raise ProjectError(f"{self.root / self.src}: no Solidity sources to compile")
        return compiler.compile_files(
            files,
            version=chosen,
            optimize=self.optimizer,
            runs=self.optimizer_runs,
            evm_version=self.evm_version,
            via_ir=self.via_ir,
        )

    def forge_test(self, *, cache: Path | None = None, timeout: float = 600) -> ForgeRun:
        """``forge test --offline`` through the solc shim, at the project's version."""
        if self.kind != "foundry":
            raise ProjectError(f"{self.path}: forge tests need a Foundry project, not {self.kind}")
        return run_tests(
            self.root,
            solc_version=self.solc_version,
            src=self.src,
            test=self.test,
            cache=cache,
            timeout=timeout,
        )

    def _compile_standard_json(self, compiler: Compiler, version: str | None) -> CompileResult:
        version = version or compiler.version_for(self.sources.values())
        settings: JsonDict = {
            **self.extra_settings,
            "optimizer": {**dict(self.extra_settings.get("optimizer") or {}), "enabled": self.optimizer},
            "remappings": list(self.remappings),
            "outputSelection": output_selection(version),
        }
        settings["optimizer"]["runs"] = self.optimizer_runs
        if self.evm_version:
            settings["evmVersion"] = self.evm_version
        if self.via_ir:
            settings["viaIR"] = True
        std_input: JsonDict = {
            "language": "Solidity",
            "sources": {name: {"content": text} for name, text in sorted(self.sources.items())},
            "settings": settings,
        }
        raw = compiler.compile_standard_json(std_input, version)
        errors: list[SolcError] = list(raw.output.get("errors") or [])
        failed = [
            e.get("formattedMessage") or e.get("message", "") for e in errors if e.get("severity") == "error"
        ]
        if failed:
            first = failed[0].strip().splitlines()[0] if failed[0].strip() else "error"
            raise ProjectError(f"{self.path}: solc {version} rejected the input: {first}")
        imported = raw.imports
        units = {
            name: SourceUnit(
                path=name,
                id=int(src.get("id", -1)),
                ast=src.get("ast") or {},
                content=self.sources.get(name) or (imported[name].content if name in imported else None),
                file=imported[name].file if name in imported else None,
            )
            for name, src in (raw.output.get("sources") or {}).items()
        }
        contracts = tuple(
            ContractArtifact.from_json(path, name, art)
            for path, by_name in sorted((raw.output.get("contracts") or {}).items())
            for name, art in sorted(by_name.items())
        )
        return CompileResult(
            version=version,
            long_version=raw.long_version,
            contracts=contracts,
            sources=units,
            standard_json_input=std_input,
            settings=settings,
            output=raw.output,
            warnings=tuple(
                (e.get("formattedMessage") or e.get("message", "")).strip()
                for e in errors
                if e.get("severity") != "error"
            ),
            cached=raw.cached,
        )


def load_project(path: Path) -> CompileInput:
    """A Foundry project folder, a Hardhat project folder, or a standard-JSON / build-info file."""
    path = path.resolve()
    if path.is_file():
        return _load_json(path)
    if not path.is_dir():
        raise ProjectError(f"{path} does not exist: give a Foundry or Hardhat project folder or a JSON input")
    if (path / "foundry.toml").is_file():
        return load_foundry(path)
    if any((path / name).is_file() for name in _HARDHAT_CONFIGS):
        infos = sorted((path / "artifacts" / "build-info").glob("*.json"))
        if len(infos) != 1:
            found = "none" if not infos else f"{len(infos)}: {', '.join(p.name for p in infos)}"
            raise ProjectError(
                f"{path}: a Hardhat project is read from its one artifacts/build-info/*.json "
                f"(found {found}); run `npx hardhat compile`, or point source at the build-info file to use"
            )
        return _load_json(infos[0], root=path)
    raise ProjectError(
        f"{path}: no foundry.toml or hardhat.config.* here; give a project folder or a standard-JSON file"
    )


def load_foundry(root: Path) -> CompileInput:
    """Read ``foundry.toml`` (profile ``default``), ``remappings.txt`` and the library folders."""
    root = root.resolve()
    config_path = root / "foundry.toml"
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProjectError(f"cannot read {config_path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{config_path} is not valid TOML: {exc}") from exc
    profile = _table(config.get("profile", {}), "profile", config_path).get("default")
    profile = _table(profile, "profile.default", config_path)
    version = profile.get("solc_version", profile.get("solc"))
    if version is not None and (not isinstance(version, str) or not version):
        raise ProjectError(f'{config_path}: solc_version must be a version string like "0.8.26"')
    explicit = [*_remappings_file(root / "remappings.txt"), *_strings(profile, "remappings", config_path)]
    libs = _strings(profile, "libs", config_path) if "libs" in profile else ["lib"]
    remappings = [*_library_remappings(root, libs, explicit), *explicit]  # a later entry wins in solc
    runs = profile.get("optimizer_runs", 200)
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < 0:
        raise ProjectError(f"{config_path}: optimizer_runs must be a non-negative integer")
    evm = profile.get("evm_version")
    if evm is not None and not isinstance(evm, str):
        raise ProjectError(f"{config_path}: evm_version must be a string")
    return CompileInput(
        kind="foundry",
        root=root,
        path=config_path,
        solc_version=version,
        optimizer=bool(profile.get("optimizer", False)),  # Foundry's default since 1.0
        optimizer_runs=runs,
        evm_version=evm,
        via_ir=bool(profile.get("via_ir", False)),
        remappings=tuple(remappings),
        src=_string(profile, "src", "src", config_path),
        test=_string(profile, "test", "test", config_path),
    )


def _load_json(path: Path, *, root: Path | None = None) -> CompileInput:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ProjectError(f"{path} is not valid JSON: {exc}") from exc
    version: str | None = None
    kind: ProjectKind = "standard-json"
    if isinstance(doc, Mapping) and isinstance(doc.get("input"), Mapping):  # Hardhat/Foundry build info
        raw_version = doc.get("solcVersion")
        version = raw_version if isinstance(raw_version, str) and raw_version else None
        doc, kind = doc["input"], "hardhat"
    if not isinstance(doc, Mapping) or doc.get("language", "Solidity") != "Solidity":
        raise ProjectError(f"{path}: not a Solidity standard-JSON input (language, sources, settings)")
    sources: dict[str, str] = {}
    for name, unit in _table(doc.get("sources"), "sources", path).items():
        content = unit.get("content") if isinstance(unit, Mapping) else None
        if not isinstance(content, str):
            raise ProjectError(f"{path}: source {name!r} has no inline content (urls are not fetched)")
        sources[str(name)] = content
    settings = dict(_table(doc.get("settings", {}), "settings", path))
    optimizer = _table(settings.get("optimizer", {}), "settings.optimizer", path)
    remappings = settings.get("remappings", [])
    if not isinstance(remappings, list) or not all(isinstance(r, str) for r in remappings):
        raise ProjectError(f"{path}: settings.remappings must be a list of strings")
    evm = settings.get("evmVersion")
    extra = {k: v for k, v in settings.items() if k in ("libraries", "metadata", "debug")}
    return CompileInput(
        kind=kind,
        root=root or path.parent,
        path=path,
        solc_version=version,
        optimizer=bool(optimizer.get("enabled", False)),
        optimizer_runs=int(optimizer.get("runs", 200)),
        evm_version=evm if isinstance(evm, str) else None,
        via_ir=bool(settings.get("viaIR", False)),
        remappings=tuple(remappings),
        sources=sources,
        extra_settings=extra,
    )


def _library_remappings(root: Path, libs: Sequence[str], explicit: Sequence[str]) -> list[str]:
    """forge's automatic remappings: ``<name>/`` -> ``<lib>/<name>/src/`` (or the folder itself)."""
    taken = {r.split("=", 1)[0].split(":")[-1] for r in explicit}
    out: list[str] = []
    for lib in libs:
        folder = (root / lib).resolve()
        if not folder.is_dir() or folder.name == "node_modules":
            continue  # node_modules is searched by the compiler anyway
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            prefix = f"{sub.name}/"
            if prefix in taken:
                continue
            target = sub / "src" if (sub / "src").is_dir() else sub
            out.append(f"{prefix}={_relative(target, root)}/")
    return out


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _table(value: Any, name: str, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProjectError(f"{path}: [{name}] is missing or not a table")
    return value


def _string(profile: Mapping[str, Any], key: str, default: str, path: Path) -> str:
    value = profile.get(key, default)
    if not isinstance(value, str):
        raise ProjectError(f"{path}: {key} must be a string")
    return value


def _strings(profile: Mapping[str, Any], key: str, path: Path) -> list[str]:
    value = profile.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProjectError(f"{path}: {key} must be a list of strings")
    return list(value)


def _remappings_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror or exc}") from exc
    out = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    bad = [ln for ln in out if "=" not in ln]
    if bad:
        raise ProjectError(f"{path}: {bad[0]!r} is not a prefix=target remapping")
    return out
