"""From sources (and an attack trace) to ranked, compiled candidate patches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bulwark import logs
from bulwark.domain import CallFrame
from bulwark.domain.patch import Edit, Localisation, Patch
from bulwark.errors import BulwarkError, CompileError, SlitherError, UsageError
from bulwark.patch.context import FixContext
from bulwark.patch.cost import PatchCost, measure, not_measured
from bulwark.patch.edit import EditConflict, apply_all, check_disjoint, unified_diff
from bulwark.patch.fixes import Candidate, templates
from bulwark.patch.legacy import downlevel
from bulwark.patch.locate import locate_program
from bulwark.patch.ranking import check_behaviour
from bulwark.patch.solast import Contract, Program
from bulwark.toolchain.artifacts import CompileResult, StorageLayout
from bulwark.toolchain.pragma import pragmas, raise_old_pins
from bulwark.toolchain.solc import Compiler, Outputs
from bulwark.toolchain.versions import bundled_solc, newest_bundled, version_key

_log = logs.get_logger(__name__)

MIN_SCORE = 0.35  # below this a finding is reported but not patched
MAX_PATCHES = 8
BUNDLE_MIN_SCORE = 0.7  # a finding of another class joins the first patch only from this score
BUNDLE_TIE = 0.05  # ... or when it scores this close to the strongest finding
# Slither's data-dependency pass is quadratic in the functions of a contract (20 s at 1,000): above
# this many functions in the files under repair it is skipped, and the report says so.
SLITHER_MAX_FUNCTIONS = 600
# Code generation (bytecode) of the applied candidate, and so its size and gas, only up to this many
# functions: solcjs takes 80 s to generate code for 5,000. Above it a candidate is type-checked only.
CODEGEN_MAX_FUNCTIONS = 1500
# Each candidate check compiles the whole file, so the number checked is bounded by the file's size:
# about this many functions' worth of compiling in all, and never fewer than MIN_CHECKS candidates.
CHECK_BUDGET_FUNCTIONS = 12_000
MIN_CHECKS = 3
# How much a candidate's confidence keeps after the checks the patch stage runs (it compiles with the
# original's compiler, ABI and storage layout unchanged) when no exploit was replayed against it.
STATIC_VALIDATION = 0.8
# ... and what it keeps when the behaviour check saw it change behaviour off the flaw path, or when
# the attack synthesised from the localisation still works on it
BEHAVIOUR_CHANGED_VALIDATION = 0.5
ATTACK_NOT_BLOCKED_VALIDATION = 0.3


class Status(StrEnum):
    """What ``bulwark patch`` concluded; each has its own exit code in the CLI."""

    PATCHED = "patched"  # a compiled, interface-preserving candidate
    ABSTAINED = "abstained"  # a vulnerability found, but no candidate survived validation
    CLEAN = "clean"  # analysed: no finding strong enough to patch
    NO_CONTRACT = "no-contract"  # no contract in the files (empty, comments, interfaces only)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a finding got no patch, or why one of its candidates was discarded."""

    contract: str
    function: str | None
    vuln_class: str
    template: str | None  # None: no template got as far as a candidate
    reason: str


@dataclass(frozen=True, slots=True)
class Confidence:
    """A candidate's confidence: localisation confidence x validation outcome, with the why."""

    value: float
    localisation: float
    validation: float
    validated: tuple[str, ...]
    not_validated: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Generation:
    patches: list[Patch]
    rejected: list[Rejection]
    cost: PatchCost | None = None  # of patches[0], the one applied
    notes: tuple[str, ...] = ()  # what generation left out, and why


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
    notes: tuple[str, ...] = ()  # what the analysis left out, and why (e.g. Slither skipped)
    full: CompileResult | None = None  # the compile with bytecode, when one was made
    # the files as written, where their compiler pin was raised (the diff starts from these)
    as_written: dict[str, str] = field(default_factory=dict)

    @property
    def functions(self) -> int:
        return _functions(self.program)


def _functions(program: Program) -> int:
    """Functions (and modifiers) defined in the files under repair."""
    return sum(len(c.functions) + len(c.modifiers) for c in program.editable())


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


def _compile(
    compiler: Compiler,
    sources: Mapping[str, str],
    version: str | None,
    outputs: Outputs = "all",
    *,
    optimize: bool = False,
) -> CompileResult:
    return compiler.compile_sources(sources, version=version, optimize=optimize, outputs=outputs)


# The oldest solc the engine can patch with: releases before 0.4.12 give no compact AST in their
# standard JSON output, and 0.4.12 is not published on npm.
OLDEST_PATCHABLE = "0.4.13"


def _raise_old_pins(sources: dict[str, str], notes: list[str]) -> dict[str, str]:
    """0.4 pins below OLDEST_PATCHABLE raised to it: the same language (0.4 made no breaking
    change), and the patched files pin the compiler they were checked with."""
    out: dict[str, str] = {}
    for name, text in sources.items():
        out[name], raised = raise_old_pins(text, OLDEST_PATCHABLE)
        for pin in raised:
            notes.append(
                f"{name}: pragma solidity {pin} pins a compiler older than {OLDEST_PATCHABLE}, the oldest "
                f"whose syntax tree Bulwark reads; analysed and patched with {OLDEST_PATCHABLE}, and the "
                f"patched file pins it"
            )
    return out


def _frontend(
    compiler: Compiler, sources: Mapping[str, str], version: str | None, notes: list[str]
) -> CompileResult:
    """The AST compile. Sources that pin no compiler at all get the newest bundled release that
    accepts them (newest of each minor, newest first): code written for 0.4 without a pragma is
    still 0.4 code, and the newest compiler refuses it."""
    try:
        return _compile(compiler, sources, version, "frontend")
    except CompileError as first:
        if version is not None or any(pragmas(text) for text in sources.values()):
            raise
        newest = newest_bundled()
        by_minor: dict[tuple[int, ...], str] = {}
        for v in sorted(bundled_solc(), key=version_key, reverse=True):
            by_minor.setdefault(version_key(v)[:2], v)
        for older in by_minor.values():
            if older == newest:
                continue
            try:
                result = _compile(compiler, sources, older, "frontend")
            except CompileError:
                continue
            notes.append(
                f"no pragma solidity: solc {newest} refused the sources, so they were analysed and "
                f"patched with solc {older}, the newest bundled release that accepts them; pin it "
                "with a pragma"
            )
            return result
        raise first


def analyse(request: PatchRequest, compiler: Compiler) -> Analysis:
    notes: list[str] = []
    written = _sources(request, compiler)
    sources = _raise_old_pins(written, notes)
    if request.remappings:
        compiler = Compiler(
            root=compiler.root,
            remappings=(*compiler.remappings, *request.remappings),
            include_paths=compiler.include_paths,
            cache=compiler.cache_root,
            use_cache=compiler.use_cache,
        )
    # the AST without code generation: on a large contract codegen is most of solc's time, and the
    # checks need only the AST, the selectors and the storage layout
    result = _frontend(compiler, sources, request.solc_version, notes)
    program = Program(result, sources)
    targets = [c for c in program.editable() if c.kind == "contract"]
    if request.contract:
        targets = [c for c in targets if c.name == request.contract]
        if not targets:
            names = ", ".join(sorted(c.name for c in program.editable())) or "none"
            raise UsageError(f"no contract {request.contract!r} in the sources (available: {names})")
    extra = list(request.extra_findings)
    full: CompileResult | None = None
    n_functions = _functions(program)
    if request.use_slither and targets and n_functions > SLITHER_MAX_FUNCTIONS:
        notes.append(
            f"slither skipped: {n_functions} functions (over {SLITHER_MAX_FUNCTIONS}, its data-dependency "
            "analysis grows with the square of that); Bulwark's own checks ran on all of them"
        )
    elif request.use_slither and targets:
        try:
            from bulwark.patch.locate.slither import slither_findings

            full = _compile(compiler, sources, result.version)  # Slither reads the bytecode too
            extra += slither_findings(full, sources)
        except SlitherError as exc:
            # our own checks still run: a Slither crash must not stop a fix from being written
            _log.warning("slither_failed", error=exc.user_message)
            notes.append(f"slither failed: {exc.user_message}")
    findings = locate_program(program, targets, extra=extra, trace=request.trace)
    as_written = {n: t for n, t in written.items() if sources[n] != t}
    return Analysis(program, result, sources, targets, findings, tuple(notes), full, as_written)


def locate(request: PatchRequest, compiler: Compiler) -> list[Localisation]:
    """Suspected flaws, strongest first."""
    return analyse(request, compiler).findings


def generate(request: PatchRequest, compiler: Compiler) -> list[Patch]:
    """Ranked candidate patches; each compiled with the original's solc version, ABI and layout kept."""
    analysis = analyse(request, compiler)
    return patches_for(analysis, compiler, max_patches=request.max_patches)


def patches_for(analysis: Analysis, compiler: Compiler, *, max_patches: int = MAX_PATCHES) -> list[Patch]:
    return candidates(analysis, compiler, max_patches=max_patches).patches


def status(analysis: Analysis, patches: Sequence[Patch]) -> Status:
    if not analysis.targets:
        return Status.NO_CONTRACT
    if patches:
        return Status.PATCHED
    if any(f.score >= MIN_SCORE for f in analysis.findings):
        return Status.ABSTAINED
    return Status.CLEAN


def confidence(patch: Patch) -> Confidence:
    """Localisation confidence (the finding's score, less a step per lower-ranked template) times
    what validation showed: the patch stage compiles each candidate and checks its ABI and storage
    layout; it replays no exploit, so a candidate keeps STATIC_VALIDATION of its localisation, less
    when the behaviour check saw it change behaviour or a synthesised attack still works on it."""
    localisation = min(max(patch.score, 0.0), 1.0)
    validated = [f"compiles with solc {patch.solc_version}", "ABI unchanged", "storage layout unchanged"]
    not_validated = ["no exploit replayed against it (bulwark verify does that on a fork)"]
    validation = STATIC_VALIDATION
    behaviour, attack = patch.behaviour, patch.attack
    if behaviour is not None and behaviour.kept:
        validated.append(f"behaviour kept on {behaviour.sequences} generated call sequences")
    elif behaviour is not None and behaviour.checked:
        validation = min(validation, BEHAVIOUR_CHANGED_VALIDATION)
        not_validated.append("behaviour changed off the flaw path (see behaviour.changes)")
    else:
        not_validated.append("behaviour " + (behaviour.note if behaviour else "not checked"))
    if attack is not None and attack.outcome == "blocked":
        validated.append(f"blocks a synthesised {attack.shape} attack")
    elif attack is not None and attack.outcome == "not-blocked":
        validation = min(validation, ATTACK_NOT_BLOCKED_VALIDATION)
        not_validated.append(f"a synthesised {attack.shape} attack still works: {attack.detail}")
    elif attack is not None:
        not_validated.append(f"no synthesised attack to check ({attack.shape}): {attack.detail}")
    return Confidence(
        value=round(localisation * validation, 3),
        localisation=round(localisation, 3),
        validation=validation,
        validated=tuple(validated),
        not_validated=tuple(not_validated),
    )


def candidates(analysis: Analysis, compiler: Compiler, *, max_patches: int = MAX_PATCHES) -> Generation:
    """Ranked, compiled candidates and, for every finding left without one, why."""
    ctx = FixContext(analysis.program)
    rejected: list[Rejection] = []
    per_finding: list[tuple[Localisation, list[Candidate]]] = []
    for finding in analysis.findings:
        if finding.score < MIN_SCORE:
            continue
        cands: list[Candidate] = []
        tried = False
        for template in templates():
            if finding.vuln_class not in template.CLASSES:
                continue
            tried = True
            try:
                cands.extend(template.propose(ctx, finding))
            except (KeyError, ValueError, AssertionError) as exc:  # a template that cannot apply here
                _log.debug("template_failed", template=template.NAME, error=str(exc))
                rejected.append(_rejection(finding, template.NAME, f"template does not apply: {exc}"))
        cands.sort(key=lambda c: -c.preference)
        if cands:
            per_finding.append((finding, cands))
        elif not tried:
            rejected.append(_rejection(finding, None, f"no fix template for {finding.vuln_class.value}"))
        elif not any(r.template and r.function == finding.function for r in rejected):
            rejected.append(_rejection(finding, None, "no template found a safe edit for this code"))
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
    max_checks = max(MIN_CHECKS, CHECK_BUDGET_FUNCTIONS // max(analysis.functions, 1))
    checks = 0
    notes: list[str] = []
    for findings, cands, score in ordered:
        if checks >= max_checks:
            notes.append(
                f"checked the {checks} best-ranked candidates only ({analysis.functions} functions: "
                "each check compiles the whole file)"
            )
            break
        edits = frozenset(e for c in cands for e in c.edits)
        if edits in seen:
            continue
        seen.add(edits)
        checks += 1
        patch = _build(analysis, compiler, findings, cands, score, rejected)
        if patch is not None:
            out.append(patch)
        if len(out) >= max_patches:
            break
    cost: PatchCost | None = None
    if out:
        out = check_behaviour(analysis, compiler, out, notes)
        out, cost = _generate_code(analysis, compiler, out, rejected)
    return Generation(out, rejected, cost, tuple(notes))


def _generate_code(
    analysis: Analysis, compiler: Compiler, patches: list[Patch], rejected: list[Rejection]
) -> tuple[list[Patch], PatchCost]:
    """Generate code for the best candidate (one that type-checks can still fail here: stack too
    deep), dropping candidates until one passes, and measure what it costs against the original.
    Both are built with the optimizer on (200 runs), as nearly every deployment is: the unoptimised
    sizes would overstate a lock's cost several times over."""
    first = patches[0]
    if analysis.functions > CODEGEN_MAX_FUNCTIONS:
        why = (
            f"{analysis.functions} functions (over {CODEGEN_MAX_FUNCTIONS}): code generation skipped, "
            "candidates were type-checked and their ABI and storage layout compared"
        )
        return patches, not_measured(first.contract, why)
    original = _compile(compiler, analysis.sources, analysis.result.version, optimize=True)
    kept = list(patches)
    while kept:
        patch = kept[0]
        try:
            patched = {**analysis.sources, **patch.patched_sources}
            built = _compile(compiler, patched, original.version, optimize=True)
        except CompileError as exc:
            rejected.extend(
                _rejection(f, patch.template, f"code generation failed: {exc.user_message}")
                for f in patch.findings
            )
            kept.pop(0)
            continue
        path = next((f.path for f in patch.findings if f.path and f.contract == patch.contract), None)
        path = path or next(iter(patch.patched_sources))
        names = [patch.function, *(f.function for f in patch.findings)]
        cost = measure(original, built, path, patch.contract, [n for n in names if n])
        return kept, cost
    return kept, not_measured(first.contract, "no candidate generated code")


def _rejection(finding: Localisation, template: str | None, reason: str) -> Rejection:
    return Rejection(finding.contract, finding.function, finding.vuln_class.value, template, reason)


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
    analysis: Analysis,
    compiler: Compiler,
    findings: list[Localisation],
    cands: list[Candidate],
    score: float,
    rejected: list[Rejection],
) -> Patch | None:
    version = analysis.program.vkey
    edits = tuple(
        sorted(
            {replace(e, replacement=downlevel(e.replacement, version)) for c in cands for e in c.edits},
            key=lambda e: (e.path, e.start, e.end, e.replacement),
        )
    )
    template = "+".join(dict.fromkeys(c.template for c in cands))

    def reject(reason: str) -> None:
        rejected.extend(_rejection(f, template, reason) for f in findings)

    try:
        patched = apply_all(analysis.sources, edits)
    except EditConflict as exc:
        _log.debug("patch_conflict", error=str(exc))
        reject(f"edits conflict: {exc}")
        return None
    full = {**analysis.sources, **patched}
    try:
        # the interface only: no code generation for a candidate (its cost is measured for the one applied)
        result = _compile(compiler, full, analysis.result.version, "interface")
    except CompileError as exc:
        _log.info("patch_discarded", reason="compile", template=cands[0].template, error=exc.user_message)
        reject(f"does not compile: {exc.user_message}")
        return None
    removed = frozenset().union(*(c.removed_selectors for c in cands))
    added = frozenset().union(*(c.added_selectors for c in cands))
    problem = interface_change(analysis.result, result, set(analysis.sources), removed, added)
    if problem:
        _log.info("patch_discarded", reason=problem, template=cands[0].template)
        reject(problem)
        return None
    first = cands[0]
    rationale = " ".join(c.rationale for c in cands)
    # the calling protocol the patch asks for: every candidate's changes, once each, in order
    caller_changes = tuple(dict.fromkeys(ch for c in cands for ch in c.caller_changes))
    return Patch(
        vuln_class=first.vuln_class,
        contract=first.contract,
        function=first.function,
        template=template,
        edits=edits,
        patched_sources=patched,
        diff=unified_diff({**analysis.sources, **analysis.as_written}, patched),
        rationale=rationale,
        compiled=True,
        solc_version=result.version,
        findings=tuple(findings),
        score=round(min(score, 1.0), 3),
        caller_changes=caller_changes,
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
