"""From sources (and an attack trace) to ranked, compiled candidate patches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulwark import logs
from bulwark.domain import CallFrame
from bulwark.domain.patch import Edit, Localisation, Patch
from bulwark.errors import BulwarkError, CompileError, SlitherError, UsageError
from bulwark.patch.context import FixContext
from bulwark.patch.edit import EditConflict, apply_all, check_disjoint, unified_diff
from bulwark.patch.fixes import Candidate, templates
from bulwark.patch.locate import locate_program
from bulwark.patch.solast import Contract, Program
from bulwark.toolchain.artifacts import CompileResult, StorageLayout
from bulwark.toolchain.solc import Compiler

_log = logs.get_logger(__name__)

MIN_SCORE = 0.35  # below this a finding is reported but not patched
MAX_PATCHES = 8
BUNDLE_MIN_SCORE = 0.7  # a finding of another class joins the first patch only from this score
BUNDLE_TIE = 0.05  # ... or when it scores this close to the strongest finding


class PatchError(BulwarkError, RuntimeError):
    """The patch stage could not run on the given input."""


@dataclass(frozen=True, slots=True)
class PatchRequest:
    """What to repair. ``sources`` (unit name -> text) or ``paths`` (files) must be given."""

    sources: Mapping[str, str] | None = None
    paths: Sequence[Path] = ()
    contract: str | None = None
    solc_version: str | None = None
    trace: CallFrame | Mapping[str, Any] | None = None
    remappings: Sequence[str] = ()
    use_slither: bool = True
    max_patches: int = MAX_PATCHES
    extra_findings: tuple[Localisation, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Analysis:
    program: Program
    result: CompileResult
    sources: dict[str, str]
    targets: list[Contract]
    findings: list[Localisation]


def _sources(request: PatchRequest, compiler: Compiler) -> dict[str, str]:
    out = dict(request.sources or {})
    for path in request.paths:
        full = (path if path.is_absolute() else compiler.root / path).resolve()
        try:
            text = full.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            name = full.relative_to(compiler.root).as_posix()
        except ValueError:
            name = full.as_posix()
        out[name] = text
    if not out:
        raise UsageError("nothing to patch: give sources or paths")
    return out


def _compile(compiler: Compiler, sources: Mapping[str, str], version: str | None) -> CompileResult:
    return compiler.compile_sources(sources, version=version, optimize=False, outputs="all")


def analyse(request: PatchRequest, compiler: Compiler) -> Analysis:
    sources = _sources(request, compiler)
    if request.remappings:
        compiler = Compiler(
            root=compiler.root,
            remappings=(*compiler.remappings, *request.remappings),
            include_paths=compiler.include_paths,
            cache=compiler.cache_root,
            use_cache=compiler.use_cache,
        )
    result = _compile(compiler, sources, request.solc_version)
    program = Program(result, sources)
    targets = [c for c in program.editable() if c.kind == "contract"]
    if request.contract:
        targets = [c for c in targets if c.name == request.contract]
        if not targets:
            names = ", ".join(sorted(c.name for c in program.editable())) or "none"
            raise UsageError(f"no contract {request.contract!r} in the sources (available: {names})")
    extra = list(request.extra_findings)
    if request.use_slither:
        try:
            from bulwark.patch.locate.slither import slither_findings

            extra += slither_findings(result, sources)
        except SlitherError as exc:
            # our own checks still run: a Slither crash must not stop a fix from being written
            _log.warning("slither_failed", error=exc.user_message)
    findings = locate_program(program, targets, extra=extra, trace=request.trace)
    return Analysis(program, result, sources, targets, findings)


def locate(request: PatchRequest, compiler: Compiler) -> list[Localisation]:
    """Suspected flaws, strongest first."""
    return analyse(request, compiler).findings


def generate(request: PatchRequest, compiler: Compiler) -> list[Patch]:
    """Ranked candidate patches; each compiled with the original's solc version, ABI and layout kept."""
    analysis = analyse(request, compiler)
    return patches_for(analysis, compiler, max_patches=request.max_patches)


def patches_for(analysis: Analysis, compiler: Compiler, *, max_patches: int = MAX_PATCHES) -> list[Patch]:
    ctx = FixContext(analysis.program)
    per_finding: list[tuple[Localisation, list[Candidate]]] = []
    for finding in analysis.findings:
        if finding.score < MIN_SCORE:
            continue
        cands: list[Candidate] = []
        for template in templates():
            if finding.vuln_class not in template.CLASSES:
                continue
            try:
                cands.extend(template.propose(ctx, finding))
            except (KeyError, ValueError, AssertionError) as exc:  # a template that cannot apply here
                _log.debug("template_failed", template=template.NAME, error=str(exc))
        cands.sort(key=lambda c: -c.preference)
        if cands:
            per_finding.append((finding, cands))
    out: list[Patch] = []
    seen: set[frozenset[Edit]] = set()
    # first: the best candidate of every finding together (an attack may need several flaws)
    ordered: list[tuple[list[Localisation], list[Candidate], float]] = []
    bundle = _bundle(per_finding)
    if len(bundle) > 1:
        combo = _combine([c[0] for _, c in bundle])
        if combo:
            findings = [f for f, c in bundle if c[0] in combo]
            ordered.append((findings, combo, max(f.score for f in findings) + 0.01))
    for finding, cands in per_finding:
        for rank, cand in enumerate(cands):
            ordered.append(([finding], [cand], finding.score - 0.02 * rank))
    ordered.sort(key=lambda t: -t[2])
    for findings, cands, score in ordered:
        edits = frozenset(e for c in cands for e in c.edits)
        if edits in seen:
            continue
        seen.add(edits)
        patch = _build(analysis, compiler, findings, cands, score)
        if patch is not None:
            out.append(patch)
        if len(out) >= max_patches:
            break
    return out


def _bundle(
    per_finding: list[tuple[Localisation, list[Candidate]]],
) -> list[tuple[Localisation, list[Candidate]]]:
    """The findings worth fixing together with the strongest one: those of its class, and strong
    findings of other classes (an attack may chain two flaws). A weak finding of another class
    (checked math on a randomness bug) would only add noise to the first patch; it keeps its own
    candidate further down the ranking."""
    if not per_finding:
        return []
    top = max(per_finding, key=lambda t: t[0].score)[0]
    return [
        (f, c)
        for f, c in per_finding
        if f is top
        or f.vuln_class is top.vuln_class
        or f.score >= BUNDLE_MIN_SCORE
        or f.score >= top.score - BUNDLE_TIE  # ranking cannot tell them apart: fix both
    ]


def _combine(cands: list[Candidate]) -> list[Candidate]:
    chosen: list[Candidate] = []
    edits: list[Edit] = []
    for c in cands:
        try:
            check_disjoint([*edits, *c.edits])
        except EditConflict:
            continue
        chosen.append(c)
        edits.extend(c.edits)
    return chosen if len(chosen) > 1 else []


def _build(
    analysis: Analysis, compiler: Compiler, findings: list[Localisation], cands: list[Candidate], score: float
) -> Patch | None:
    edits = tuple(
        sorted({e for c in cands for e in c.edits}, key=lambda e: (e.path, e.start, e.end, e.replacement))
    )
    try:
        patched = apply_all(analysis.sources, edits)
    except EditConflict as exc:
        _log.debug("patch_conflict", error=str(exc))
        return None
    full = {**analysis.sources, **patched}
    try:
        result = _compile(compiler, full, analysis.result.version)
    except CompileError as exc:
        _log.info("patch_discarded", reason="compile", template=cands[0].template, error=exc.user_message)
        return None
    removed = frozenset().union(*(c.removed_selectors for c in cands))
    added = frozenset().union(*(c.added_selectors for c in cands))
    problem = interface_change(analysis.result, result, set(analysis.sources), removed, added)
    if problem:
        _log.info("patch_discarded", reason=problem, template=cands[0].template)
        return None
    first = cands[0]
    template = "+".join(dict.fromkeys(c.template for c in cands))
    rationale = " ".join(c.rationale for c in cands)
    return Patch(
        vuln_class=first.vuln_class,
        contract=first.contract,
        function=first.function,
        template=template,
        edits=edits,
        patched_sources=patched,
        diff=unified_diff(analysis.sources, patched),
        rationale=rationale,
        compiled=True,
        solc_version=result.version,
        findings=tuple(findings),
        score=round(min(score, 1.0), 3),
    )


def interface_change(
    before: CompileResult,
    after: CompileResult,
    paths: set[str],
    removed: frozenset[str],
    added: frozenset[str] = frozenset(),
) -> str | None:
    """Why the patched build is not a drop-in replacement (None when it is).

    ``removed`` and ``added`` are the function signatures a template changes on purpose.
    """
    old = {(c.source_path, c.name): c for c in before.contracts if c.source_path in paths}
    new = {(c.source_path, c.name): c for c in after.contracts if c.source_path in paths}
    for key, art in old.items():
        other = new.get(key)
        if other is None:
            return f"contract {key[1]} disappeared"
        wanted = {s for s in art.method_identifiers if s not in removed}
        have = set(other.method_identifiers)
        missing = wanted - have
        extra = have - set(art.method_identifiers) - added
        if missing or extra:
            return f"ABI of {key[1]} changed (missing {sorted(missing)}, added {sorted(extra)})"
        if (
            art.storage_layout is not None
            and other.storage_layout is not None
            and _layout(art.storage_layout) != _layout(other.storage_layout)
        ):
            return f"storage layout of {key[1]} changed"
    return None


def _layout(layout: StorageLayout) -> list[tuple[str, int, int, str]]:
    return [
        (v.label, v.slot, v.offset, layout.types[v.type].label if v.type in layout.types else v.type)
        for v in layout.variables
    ]
