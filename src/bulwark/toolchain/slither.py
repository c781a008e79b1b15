"""Run Slither in-process on solcjs output.

A small crytic-compile platform hands the standard-JSON output of ``Compiler`` to crytic-compile,
so Slither never looks for a native solc and works for every version solcjs has (0.4.x to 0.8.x).
One compiler version per analysis, chosen from the pragmas: crytic-compile crashes when given
several at once.

    with Compiler() as c:
        report = analyze(c, [Path("contracts/Vault.sol")])
        report.by_check("reentrancy-eth")
        sl = slither_for(c, [Path("contracts/Vault.sol")])   # the Slither object (IR, CFG) for patching
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulwark.errors import SlitherError
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.solc import Compiler

_IMPACTS = ("High", "Medium", "Low", "Informational", "Optimization")


@dataclass(frozen=True, slots=True)
class SlitherElement:
    kind: str  # "function", "node", "variable", "contract", ...
    name: str
    contract: str | None  # the contract the element belongs to (or is)
    function: str | None  # the function signature it belongs to (or is)
    source_path: str | None  # path relative to the project root
    lines: tuple[int, ...]
    start: int | None  # byte offset in the source
    length: int | None


@dataclass(frozen=True, slots=True)
class SlitherFinding:
    check: str  # detector argument, e.g. "reentrancy-eth"
    impact: str  # High, Medium, Low, Informational, Optimization
    confidence: str  # High, Medium, Low
    description: str
    elements: tuple[SlitherElement, ...]
    id: str  # Slither's stable hash of the finding

    @property
    def contracts(self) -> frozenset[str]:
        return frozenset(e.contract for e in self.elements if e.contract)


@dataclass(frozen=True, slots=True)
class SlitherReport:
    solc_version: str
    findings: tuple[SlitherFinding, ...]

    def by_check(self, check: str) -> tuple[SlitherFinding, ...]:
        return tuple(f for f in self.findings if f.check == check)

    def at_least(self, impact: str) -> tuple[SlitherFinding, ...]:
        """Findings of this impact or worse (``High`` > ... > ``Optimization``)."""
        if impact not in _IMPACTS:
            raise SlitherError(f"unknown impact {impact!r}; use one of {', '.join(_IMPACTS)}")
        rank = _IMPACTS.index(impact)
        return tuple(f for f in self.findings if f.impact in _IMPACTS[: rank + 1])


def _platform(result: CompileResult, root: Path) -> Any:
    """A crytic-compile platform that 'compiles' by reading an existing CompileResult."""
    from crytic_compile.compilation_unit import CompilationUnit
    from crytic_compile.compiler.compiler import CompilerVersion
    from crytic_compile.platform.abstract_platform import AbstractPlatform
    from crytic_compile.platform.solc_standard_json import parse_standard_json_output
    from crytic_compile.platform.types import Type

    class SolcjsOutput(AbstractPlatform):
        NAME = "bulwark-solcjs"
        PROJECT_URL = "https://github.com/ethereum/solc-js"
        TYPE = Type.SOLC_STANDARD_JSON
        HIDE = True

        def compile(self, crytic_compile: Any, **_kwargs: Any) -> None:
            unit = CompilationUnit(crytic_compile, "bulwark-solcjs")
            optimizer = result.settings.get("optimizer") or {}
            unit.compiler_version = CompilerVersion(
                compiler="solc",
                version=result.version,
                optimized=bool(optimizer.get("enabled")),
                optimize_runs=optimizer.get("runs"),
                via_ir=bool(result.settings.get("viaIR")),
            )
            parse_standard_json_output(result.output, unit, solc_working_dir=str(root))

        def clean(self, **_kwargs: Any) -> None:
            return None

        @staticmethod
        def is_supported(target: str, **kwargs: Any) -> bool:
            return False

        def is_dependency(self, path: str) -> bool:
            return "node_modules" in Path(path).parts

        def _guessed_tests(self) -> list[str]:
            return []

    return SolcjsOutput(str(root))


def slither_for_result(result: CompileResult, root: Path) -> Any:
    """The ``slither.Slither`` object for a compiled input whose sources are files under ``root``."""
    from crytic_compile import CryticCompile
    from slither import Slither

    missing = [u.path for u in result.sources.values() if u.file is None]
    if missing:
        raise SlitherError(
            f"Slither needs sources on disk; {missing[0]} was compiled from memory (use analyze_sources)"
        )
    try:
        crytic = CryticCompile(_platform(result, root), cwd=str(root))
        return Slither(crytic)
    except SlitherError:
        raise
    except Exception as exc:  # Slither raises bare exceptions of many kinds on inputs it cannot read
        raise SlitherError(
            f"Slither could not analyse the solc {result.version} output: {type(exc).__name__}: {exc}"
        ) from exc


def slither_for(compiler: Compiler, paths: Sequence[Path], *, version: str | None = None) -> Any:
    """Compile ``paths`` (with source maps and ASTs) and return the Slither object for them."""
    result = compiler.compile_files(paths, version=version, optimize=False, outputs="all")
    return slither_for_result(result, compiler.root)


def run_detectors(slither: Any, *, detectors: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Run Slither's built-in detectors (all, or those named) and return its raw result dicts."""
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    wanted = set(detectors) if detectors is not None else None
    classes: list[Any] = [
        d
        for d in vars(all_detectors).values()
        if isinstance(d, type) and issubclass(d, AbstractDetector) and d is not AbstractDetector
    ]
    known = {d.ARGUMENT for d in classes}
    if wanted is not None and wanted - known:
        raise SlitherError(f"unknown Slither detector(s): {', '.join(sorted(wanted - known))}")
    for cls in classes:
        if wanted is None or cls.ARGUMENT in wanted:
            slither.register_detector(cls)
    # Slither logs every finding at INFO on its own loggers; the report carries them instead.
    logging.getLogger("Detectors").setLevel(logging.ERROR)
    try:
        return [r for per_detector in slither.run_detectors() for r in per_detector]
    except Exception as exc:
        raise SlitherError(f"Slither's detectors failed: {type(exc).__name__}: {exc}") from exc


def analyze(
    compiler: Compiler,
    paths: Sequence[Path],
    *,
    version: str | None = None,
    detectors: Iterable[str] | None = None,
    include_dependencies: bool = False,
) -> SlitherReport:
    """Compile ``paths`` and run Slither's detectors on them.

    Findings that only concern ``node_modules`` (OpenZeppelin and co.) are dropped unless
    ``include_dependencies``.
    """
    result = compiler.compile_files(paths, version=version, optimize=False, outputs="all")
    slither = slither_for_result(result, compiler.root)
    raw = run_detectors(slither, detectors=detectors)
    findings = tuple(_finding(r) for r in raw)
    if not include_dependencies:
        findings = tuple(f for f in findings if not _only_dependencies(f))
    return SlitherReport(result.version, findings)


def analyze_sources(
    compiler: Compiler,
    sources: Mapping[str, str],
    *,
    version: str | None = None,
    detectors: Iterable[str] | None = None,
) -> SlitherReport:
    """Like ``analyze`` for in-memory sources: they are written to a temporary folder first."""
    with tempfile.TemporaryDirectory(prefix="bulwark-slither-") as tmp:
        root = Path(tmp)
        for name, text in sources.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        sub = Compiler(
            root=root,
            remappings=compiler.remappings,
            include_paths=(compiler.root, *compiler.include_paths),
            cache=compiler.cache_root,
            use_cache=compiler.use_cache,
        )
        with sub:
            return analyze(sub, [root / n for n in sources], version=version, detectors=detectors)


def _only_dependencies(finding: SlitherFinding) -> bool:
    paths = [e.source_path for e in finding.elements if e.source_path]
    return bool(paths) and all("node_modules" in Path(p).parts for p in paths)


def _finding(raw: Mapping[str, Any]) -> SlitherFinding:
    return SlitherFinding(
        check=str(raw.get("check", "")),
        impact=str(raw.get("impact", "")),
        confidence=str(raw.get("confidence", "")),
        description=str(raw.get("description", "")).strip(),
        elements=tuple(_element(e) for e in raw.get("elements") or []),
        id=str(raw.get("id", "")),
    )


def _element(raw: Mapping[str, Any]) -> SlitherElement:
    kind = str(raw.get("type", ""))
    name = str(raw.get("name", ""))
    mapping = raw.get("source_mapping") or {}
    fields = raw.get("type_specific_fields") or {}
    contract = name if kind == "contract" else None
    function = fields.get("signature") if kind == "function" else None
    parent = fields.get("parent")
    while isinstance(parent, Mapping):  # node -> function -> contract
        ptype = parent.get("type")
        pfields = parent.get("type_specific_fields") or {}
        if ptype == "function" and function is None:
            function = pfields.get("signature") or parent.get("name")
        elif ptype == "contract" and contract is None:
            contract = parent.get("name")
        parent = pfields.get("parent")
    return SlitherElement(
        kind=kind,
        name=name,
        contract=contract,
        function=function,
        source_path=mapping.get("filename_relative"),
        lines=tuple(int(n) for n in mapping.get("lines") or []),
        start=mapping.get("start"),
        length=mapping.get("length"),
    )
