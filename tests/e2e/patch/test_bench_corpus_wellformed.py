"""The public patch benchmark (bench/patch_corpus, issue 18) is sound: every case is well formed, and on
the UNPATCHED contract its exploit reaches its goal and its functional test passes. A broken case would
otherwise show up in bench/patch.py as a "stopped" exploit or a "broken" patch that the engine never
earned. The patch engine is not run here (bench only).

One anvil (zero fees) and one compiler for the module; each case runs between an evm_snapshot and an
evm_revert (CaseRunner), so cases cannot see each other's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.support.patchcase import (
    ATTACK_FILE,
    BENCH_ROOT,
    CATEGORY,
    CLASSES,
    CORPUS_ROOT,
    EXTRA_CLASSES,
    ROLES,
    VICTIM_FILE,
    Case,
    CaseResult,
    CaseRunner,
    PatchOutcome,
    PhaseResult,
    anvil_options,
    case_dirs,
    load_case,
)

from bulwark.chain import ChainClient
from bulwark.errors import BulwarkError
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.solc import Compiler

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DIRS: list[Path] = case_dirs(BENCH_ROOT)
FIXTURE_NAMES = {p.name for p in case_dirs(CORPUS_ROOT)}
HINT = re.compile(r"vulnerab|\bbug|exploit|attack|hack|malicious|insecure|fixme|todo", re.IGNORECASE)
# the issue's classes, each of which the two corpora together must cover with several cases
REQUIRED_CATEGORIES = (
    "arithmetic",
    "reentrancy",
    "unchecked low-level calls",
    "access control",
    "bad randomness",
    "denial of service",
    "front running",
    "time manipulation",
    "other logic flaws",
    "arbitrary storage write",
)


def _load_all() -> list[Case]:
    return [load_case(p) for p in DIRS]


def test_public_benchmark_is_big_enough_and_covers_every_class_and_compiler() -> None:
    bench = _load_all()
    fixtures = [load_case(p) for p in case_dirs(CORPUS_ROOT)]
    assert len(bench) + len(fixtures) >= 85, f"{len(bench)} bench + {len(fixtures)} fixture cases"
    per_category = Counter(CATEGORY[c.vuln_class] for c in (*bench, *fixtures))
    thin = {cat: per_category[cat] for cat in REQUIRED_CATEGORIES if per_category[cat] < 3}
    assert not thin, f"classes with fewer than 3 cases: {thin}"
    minors = Counter(".".join(c.solc.split(".")[:2]) for c in bench)
    assert set(minors) >= {"0.4", "0.5", "0.6", "0.7", "0.8"}, minors


def test_every_class_has_an_issue_category() -> None:
    """bench/patch.py groups by CATEGORY; a class missing from it would be reported under its own name."""
    assert set(CLASSES + EXTRA_CLASSES) == set(CATEGORY)
    assert set(CATEGORY.values()) >= set(REQUIRED_CATEGORIES)


def test_every_folder_is_a_case_and_names_are_unique() -> None:
    folders = sorted(p.name for p in BENCH_ROOT.iterdir() if p.is_dir())
    assert folders == [p.name for p in DIRS], "a folder without case.yaml"
    assert not FIXTURE_NAMES & set(folders), "a bench case shares its name with a fixture case"


@pytest.mark.parametrize("path", DIRS, ids=[p.name for p in DIRS])
def test_case_shape(path: Path) -> None:
    case = load_case(path)
    assert case.vuln_class in CATEGORY, f"no issue category for class {case.vuln_class}"
    assert re.search(rf"\bcontract\s+{re.escape(case.contract)}\b", case.files[VICTIM_FILE]), (
        f"contract {case.contract} is not declared in {VICTIM_FILE}"
    )
    assert ATTACK_FILE not in case.victim_sources
    assert len(case.description) > 40, "describe the flaw and the attack in case.yaml"
    assert case.exploit and case.exploit_succeeds and case.functional and case.functional_expect
    assert "victim" in [s["deploy"]["as"] for s in case.setup if "deploy" in s]
    for name, text in case.victim_sources.items():
        for lineno, line in enumerate(text.splitlines(), 1):
            assert not HINT.search(line), f"{name}:{lineno} gives the flaw away: {line.strip()}"
    touched = [
        s
        for s in case.functional
        if ("call" in s and s["call"]["to"] == "victim") or ("send" in s and s["send"]["to"] == "$victim")
    ]
    assert len(touched) >= 2, "functional steps should use the victim at least twice"
    for step in (*case.setup, *case.exploit, *case.functional):
        body = next(iter(step.values()))
        if isinstance(body, dict):
            assert body.get("from", body.get("by", "deployer")) in ROLES


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with Anvil(anvil_options()) as anvil:
        yield anvil


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as solc:
        # warm the output cache on two threads (one solcjs process per version, each with its own
        # lock): compiling dominates this module when the cache is cold, as on a fresh machine
        with ThreadPoolExecutor(max_workers=2) as pool:
            for _ in pool.map(lambda p: _try_compile(solc, p), DIRS):
                pass
        yield solc


def _try_compile(solc: Compiler, path: Path) -> None:
    # a case that does not load or compile fails in its own test below, with its own message
    with contextlib.suppress(BulwarkError):
        case = load_case(path)
        solc.compile_sources(case.all_sources(), version=case.solc, outputs="minimal")


def _run(node: Anvil, compiler: Compiler, case: Case, sources: dict[str, str] | None = None) -> CaseResult:
    async def go() -> CaseResult:
        async with ChainClient(node.http_url) as client:
            return await CaseRunner(client, compiler, node.accounts).run(case, sources)

    return asyncio.run(go())


@pytest.mark.parametrize("path", DIRS, ids=[p.name for p in DIRS])
def test_exploit_works_and_normal_use_works_unpatched(node: Anvil, compiler: Compiler, path: Path) -> None:
    case = load_case(path)
    result = _run(node, compiler, case)
    if not (result.exploit_succeeded and result.functional_ok):
        # one more run from a fresh snapshot: anvil's timestamps follow the wall clock, so a stall of
        # the shared machine can shift a time-window case once; a broken case fails both runs
        first = result.summary()
        result = _run(node, compiler, case)
        assert result.exploit_succeeded and result.functional_ok, f"twice: {first} / {result.summary()}"
    assert result.compiled, result.compile_error
    assert result.setup.ok, result.setup.detail
    assert result.exploit.ok, f"the exploit does not work on the unpatched contract: {result.exploit.detail}"
    assert result.functional.ok, f"normal use fails on the unpatched contract: {result.functional.detail}"


def test_stopped_with_behaviour_kept_needs_both_the_exploit_stopped_and_normal_use_working() -> None:
    from bench.patch import stopped_kept, tally

    ok, bad = PhaseResult(True), PhaseResult(False, "x")

    def outcome(name: str, cls: str, exploit: PhaseResult, functional: PhaseResult) -> PatchOutcome:
        result = CaseResult(name, True, setup=ok, exploit=exploit, functional=functional)
        return PatchOutcome(name, cls, "0.8.26", 0.1, 1, diff="--- a\n", result=result)

    kept = outcome("a", "reentrancy", exploit=bad, functional=ok)
    broken = outcome("b", "reentrancy", exploit=bad, functional=bad)
    open_ = outcome("c", "tx-origin", exploit=ok, functional=ok)
    none = PatchOutcome("d", "access-control", "0.8.26", 0.1, 0, error="no patch")
    assert [stopped_kept(o) for o in (kept, broken, open_, none)] == [True, False, False, False]
    assert tally([kept, broken, open_, none], CATEGORY) == {
        "access control": {"kept": 0, "cases": 2, "rate": 0.0},
        "reentrancy": {"kept": 1, "cases": 2, "rate": 0.5},
    }
