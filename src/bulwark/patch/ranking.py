"""The behaviour check over ranked candidates: each of the best is built and run against the original
in an in-process EVM (patch/behaviour.py), with the attack synthesised from its localisation, and
the candidates are ranked again on what the check saw."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bulwark import logs
from bulwark.domain import VulnClass
from bulwark.domain.patch import BehaviourCheck, Patch
from bulwark.errors import CompileError
from bulwark.patch.edit import Src
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.solc import Compiler

if TYPE_CHECKING:
    from bulwark.patch.behaviour import Checker
    from bulwark.patch.engine import Analysis

_log = logs.get_logger(__name__)

# The behaviour check builds each candidate's bytecode (otherwise only the applied one is): for files
# up to this many functions, and for this many best-ranked candidates.
BEHAVIOUR_MAX_FUNCTIONS = 400
BEHAVIOUR_MAX_CANDIDATES = 4
# ... and fewer on a larger file: about this many functions' worth of code generation in all (a
# 400-function file takes ~3 s to generate code for), never fewer than one candidate
BEHAVIOUR_BUDGET_FUNCTIONS = 1000


def check_behaviour(
    analysis: Analysis, compiler: Compiler, patches: list[Patch], notes: list[str]
) -> list[Patch]:
    """Run the best candidates against the original (behaviour.Checker) and rank them again."""
    if analysis.functions > BEHAVIOUR_MAX_FUNCTIONS:
        notes.append(
            f"behaviour not checked: {analysis.functions} functions (over {BEHAVIOUR_MAX_FUNCTIONS}, "
            "each candidate would need code generation)"
        )
        return patches
    # pyrevm and eth_abi load only when a candidate is checked; without them the candidates stay
    # unchecked and the report says so
    try:
        from bulwark.patch.evm import CHECK_ERRORS, PROBE_SOLC, PROBE_SOURCE
    except ImportError as exc:
        notes.append(f"behaviour not checked: {exc.name or exc} is not installed")
        return patches
    try:
        probe_build = compiler.compile_sources(
            {"bulwark/BulwarkProbe.sol": PROBE_SOURCE}, version=PROBE_SOLC, optimize=False, outputs="minimal"
        )
        original = compiler.compile_sources(
            analysis.sources, version=analysis.result.version, optimize=False, outputs="minimal"
        )
    except CompileError as exc:
        notes.append(f"behaviour not checked: code generation failed: {exc.user_message}")
        return patches
    probe = next(c.bytecode for c in probe_build.contracts if c.name == "BulwarkProbe")
    checkers: dict[tuple[str, str], Checker | str] = {}
    # every candidate of a class is attacked through the same functions (all it was localised to in
    # that contract): one fixing fewer of them must not look better for being attacked less
    attacked: dict[tuple[str, VulnClass], set[str]] = {}
    for patch in patches:
        names = attacked.setdefault((patch.contract, patch.vuln_class), set())
        names.update(n for n in (patch.function, *(f.function for f in patch.findings)) if n)
    checked: list[Patch] = []
    budget = max(1, min(BEHAVIOUR_MAX_CANDIDATES, BEHAVIOUR_BUDGET_FUNCTIONS // max(analysis.functions, 1)))
    for i, patch in enumerate(patches):
        if i >= budget:
            checked.append(replace(patch, behaviour=BehaviourCheck(False, "not checked: ranked too low")))
            continue
        key = (unit_of(patch), patch.contract)
        checker = checkers.get(key)
        if checker is None:
            checker = checkers[key] = _checker(analysis, original, key, probe)
        if isinstance(checker, str):
            checked.append(replace(patch, behaviour=BehaviourCheck(False, f"not checked: {checker}")))
            continue
        try:
            built = compiler.compile_sources(
                {**analysis.sources, **patch.patched_sources},
                version=original.version,
                optimize=False,
                outputs="minimal",
            )
        except CompileError as exc:
            why = f"not checked: code generation failed: {exc.user_message}"
            checked.append(replace(patch, behaviour=BehaviourCheck(False, why)))
            continue
        art = next((c for c in built.contracts if (c.source_path, c.name) == key), None)
        if art is None:
            checked.append(replace(patch, behaviour=BehaviourCheck(False, "not checked: no artifact")))
            continue
        flaw = {n for n in (patch.function, *(f.function for f in patch.findings)) if n}
        try:
            edited = edited_functions(analysis, patch)
            also = frozenset(f.vuln_class for f in patch.findings)
            behaviour = checker.behaviour(art, flaw, patch.vuln_class, edited, also)
            attack = checker.attack(
                art, attacked[(patch.contract, patch.vuln_class)], patch.vuln_class, edited
            )
        except CHECK_ERRORS as exc:  # a contract the generator cannot drive: the candidate stays, unchecked
            _log.warning("behaviour_check_failed", template=patch.template, error=str(exc)[:200])
            why = f"not checked: the check could not drive the contract ({type(exc).__name__})"
            checked.append(replace(patch, behaviour=BehaviourCheck(False, why)))
            continue
        _log.debug("behaviour_checked", template=patch.template, kept=behaviour.kept, attack=attack.outcome)
        checked.append(replace(patch, behaviour=behaviour, attack=attack))
    return rerank(checked)


def rerank(patches: Sequence[Patch]) -> list[Patch]:
    """A candidate that a synthesised attack still gets through goes after every other; one that
    changes behaviour off the flaw path goes after the other fixes of its own flaw (same class and
    function) only: the check's notion of the flaw path is a heuristic, and a fix of the flaw that
    changes a little too much still beats a tidy fix of a weaker finding. Otherwise the order stays."""
    groups: dict[tuple[str, str, str | None], int] = {}
    for p in patches:
        groups.setdefault((p.vuln_class.value, p.contract, p.function), len(groups))

    def key(i: int) -> tuple[bool, int, bool, int]:
        p = patches[i]
        not_blocked = p.attack is not None and p.attack.outcome == "not-blocked"
        changed = p.behaviour is not None and p.behaviour.kept is False
        return not_blocked, groups[(p.vuln_class.value, p.contract, p.function)], changed, i

    return [patches[i] for i in sorted(range(len(patches)), key=key)]


def edited_functions(analysis: Analysis, patch: Patch) -> frozenset[str]:
    """Names of the functions whose source the patch edits, or that use a modifier it edits."""

    def touched(node: Mapping[str, Any], path: str) -> bool:
        where = Src.parse(str(node["src"]))
        return any(e.path == path and where.start <= e.start <= where.end for e in patch.edits)

    out: set[str] = set()
    for contract in analysis.program.editable():
        modifiers = {m.name for m in contract.modifiers if touched(m.node, contract.path)}
        for fn in contract.all_functions:
            if touched(fn.node, fn.contract.path) or modifiers & set(fn.modifier_names):
                out.add(fn.name)
    return frozenset(out)


def unit_of(patch: Patch) -> str:
    path = next((f.path for f in patch.findings if f.path and f.contract == patch.contract), None)
    return path or next(iter(patch.patched_sources))


def _checker(
    analysis: Analysis, original: CompileResult, key: tuple[str, str], probe: bytes
) -> Checker | str:
    """The original contract's checker, or why it cannot be exercised."""
    from bulwark.patch.behaviour import Checker
    from bulwark.patch.evm import CHECK_ERRORS

    art = next((c for c in original.contracts if (c.source_path, c.name) == key), None)
    layout = next(
        (c.storage_layout for c in analysis.result.contracts if (c.source_path, c.name) == key), None
    )
    if art is None:
        return f"no bytecode for {key[1]}"
    try:
        return Checker(art, probe, layout)
    except CHECK_ERRORS as exc:
        return f"{key[1]} cannot be exercised in an in-process EVM: {exc}"
