"""The patch corpus is well formed, big enough, and covers every class and compiler band (issue 6)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from tests.support.patchcase import (
    ATTACK_FILE,
    CLASSES,
    CORPUS_ROOT,
    ROLES,
    VICTIM_FILE,
    Case,
    CaseError,
    case_dirs,
    load_case,
    parse_amount,
)

CASES: list[Case] = [load_case(p) for p in case_dirs()]
HINT = re.compile(r"vulnerab|\bbug|exploit|attack|hack|malicious|insecure|fixme|todo", re.IGNORECASE)


def test_corpus_has_at_least_40_cases() -> None:
    assert len(CASES) >= 40, f"only {len(CASES)} cases under {CORPUS_ROOT}"


def test_every_folder_is_a_case() -> None:
    folders = sorted(p.name for p in CORPUS_ROOT.iterdir() if p.is_dir())
    assert folders == [c.name for c in CASES], "a folder without case.yaml"


@pytest.mark.parametrize("vuln_class", CLASSES)
def test_each_class_has_at_least_two_cases(vuln_class: str) -> None:
    count = sum(c.vuln_class == vuln_class for c in CASES)
    assert count >= 2, f"{vuln_class}: {count} case(s)"


@pytest.mark.parametrize("band", ["0.4", "0.5-0.7", "0.8"])
def test_each_compiler_band_has_at_least_eight_cases(band: str) -> None:
    count = sum(c.version_band == band for c in CASES)
    assert count >= 8, f"solc {band}: {count} case(s)"


def test_bundled_compilers_are_used_across_bands() -> None:
    versions = Counter(c.solc for c in CASES)
    assert len(versions) >= 6, versions


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_shape(case: Case) -> None:
    assert VICTIM_FILE in case.files
    assert re.search(rf"\bcontract\s+{re.escape(case.contract)}\b", case.files[VICTIM_FILE]), (
        f"contract {case.contract} is not declared in {VICTIM_FILE}"
    )
    assert ATTACK_FILE not in case.victim_sources
    assert len(case.description) > 40, "describe the flaw and the attack in case.yaml"
    assert case.exploit and case.exploit_succeeds and case.functional and case.functional_expect
    # the victim is deployed during setup under the name `victim`
    deployed = [s["deploy"]["as"] for s in case.setup if "deploy" in s]
    assert "victim" in deployed


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_victim_sources_carry_no_hints(case: Case) -> None:
    for name, text in case.victim_sources.items():
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("import"):
                continue
            assert not HINT.search(line), f"{name}:{lineno} gives the flaw away: {line.strip()}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_functional_test_exercises_the_victim(case: Case) -> None:
    """A functional test that never touches the victim could not catch a broken patch."""
    touched = [
        s
        for s in case.functional
        if ("call" in s and s["call"]["to"] in {"victim", "victim2"})
        or ("send" in s and s["send"]["to"] in {"$victim", "$victim2"})
    ]
    assert len(touched) >= 2, "functional steps should use the victim at least twice"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_only_known_roles(case: Case) -> None:
    for step in (*case.setup, *case.exploit, *case.functional):
        body = next(iter(step.values()))
        if isinstance(body, dict):
            for key in ("from", "by"):
                assert body.get(key, "deployer") in ROLES


def test_loader_rejects_unknown_keys(tmp_path: Path) -> None:
    src = CASES[0].path
    for f in src.glob("*.sol"):
        (tmp_path / f.name).write_text(f.read_text())
    meta = yaml.safe_load((src / "case.yaml").read_text())
    meta["exploit_sucedes"] = meta["exploit_succeeds"]
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(meta))
    with pytest.raises(CaseError, match="unknown keys"):
        load_case(tmp_path)


def test_loader_rejects_a_floating_pragma(tmp_path: Path) -> None:
    src = CASES[0].path
    for f in src.glob("*.sol"):
        (tmp_path / f.name).write_text(
            f.read_text().replace(f"pragma solidity {CASES[0].solc};", "pragma solidity ^0.4.24;")
        )
    (tmp_path / "case.yaml").write_text((src / "case.yaml").read_text())
    with pytest.raises(CaseError, match="must pin exactly"):
        load_case(tmp_path)


def test_loader_rejects_unknown_step_and_check(tmp_path: Path) -> None:
    src = CASES[0].path
    for f in src.glob("*.sol"):
        (tmp_path / f.name).write_text(f.read_text())
    meta = yaml.safe_load((src / "case.yaml").read_text())
    meta["exploit"].append({"teleport": {"to": "victim"}})
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(meta))
    with pytest.raises(CaseError, match="unknown step"):
        load_case(tmp_path)
    meta["exploit"].pop()
    meta["exploit_succeeds"] = [{"balance": "$attacker", "bigger": 1}]
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(meta))
    with pytest.raises(CaseError, match="a check has one of"):
        load_case(tmp_path)


@pytest.mark.parametrize(
    ("text", "wei"),
    [
        ("1 ether", 10**18),
        ("0.5 ether", 5 * 10**17),
        ("3 gwei", 3 * 10**9),
        ("10e18", 10**19),
        ("-1 ether", -(10**18)),
        ("7", 7),
    ],
)
def test_amounts(text: str, wei: int) -> None:
    assert parse_amount(text) == wei


def test_amount_rejects_fractional_wei() -> None:
    with pytest.raises(CaseError):
        parse_amount("0.5 wei")
    assert parse_amount("$alice") is None
