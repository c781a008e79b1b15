"""The attack corpus: every manifest validates, the required classes are covered, no source hints."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bulwark.domain import VulnClass
from bulwark.errors import ScenarioError, UsageError
from bulwark.scenarios.corpus import REQUIRED_CLASSES, Scenario, load_corpus, load_scenario, load_script
from bulwark.scenarios.runner import ProtectLevel, parse_protect

CORPUS = load_corpus()
# Words that would tell a detector or patcher where the bug is. Matched in comments only.
HINT_WORDS = re.compile(
    r"vulnerab|\bbug|exploit|hack|attack|missing|forgot|unprotected|no access|anyone can|reentran|"
    r"re-enter|overflow|underflow|wrap|replay|inflat|donat|manipulat|front-?run|unchecked|not checked|"
    r"ignor|unsafe|insecure|dangerous|should|todo|fixme|xxx|careful|\bfix",
    re.IGNORECASE,
)
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def test_at_least_seven_scenarios_cover_every_required_class() -> None:
    assert len(CORPUS) >= 7
    classes = {s.vuln_class for s in CORPUS}
    assert classes >= REQUIRED_CLASSES, f"missing classes: {REQUIRED_CLASSES - classes}"
    assert len(set(CORPUS.names())) == len(CORPUS)


@pytest.mark.parametrize("scenario", CORPUS.scenarios, ids=CORPUS.names())
def test_manifest_is_complete(scenario: Scenario) -> None:
    assert scenario.vuln_class in set(VulnClass)
    assert scenario.folder.name == scenario.name
    assert scenario.vulnerable.source.is_file() and scenario.fix.source.is_file()
    assert scenario.fix.source.parent.name == "fix"
    assert scenario.attacker.source.is_file() and scenario.script.is_file()
    assert scenario.attack_txs >= 1
    assert len(scenario.description) >= 80
    text = scenario.vulnerable.source.read_text()
    assert re.search(rf"\bfunction\s+{scenario.function}\s*\(", text), "the vulnerable function is declared"
    assert scenario.vulnerable.source.read_text() != scenario.fix.source.read_text()
    module = load_script(scenario)
    assert callable(module.attack)


@pytest.mark.parametrize("scenario", CORPUS.scenarios, ids=CORPUS.names())
def test_sources_carry_no_hint_comments(scenario: Scenario) -> None:
    offenders = []
    for path in scenario.sources():
        for comment in COMMENT.findall(path.read_text()):
            for m in HINT_WORDS.finditer(comment):
                offenders.append(f"{path.name}: {m.group(0)!r} in {comment.strip()[:80]!r}")
    assert not offenders, "\n".join(offenders)


def test_hint_check_can_fail(tmp_path: Path) -> None:
    sol = "contract A {\n    // BUG: missing onlyOwner\n    function f() external {}\n}\n"
    assert HINT_WORDS.search(" ".join(COMMENT.findall(sol)))


def test_the_vulnerable_and_safe_interfaces_match() -> None:
    """A vulnerable variant keeps the initializer of the component it replaces."""
    for s in CORPUS:
        vuln = re.search(r"function initialize\(([^)]*)\)", s.vulnerable.source.read_text())
        fix = re.search(r"function initialize\(([^)]*)\)", s.fix.source.read_text())
        assert vuln and fix and vuln.group(1) == fix.group(1), s.name


def _copy(tmp_path: Path, name: str = "oracle-open-setprice") -> Path:
    dst = tmp_path / name
    shutil.copytree(CORPUS.get(name).folder, dst)
    return dst


def _edit(folder: Path, old: str, new: str) -> None:
    manifest = folder / "manifest.yaml"
    text = manifest.read_text()
    assert old in text
    manifest.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("class: access-control", "class: sorcery", "class 'sorcery' is not one of"),
        ("attack_txs: 3", "attack_txs: 0", "attack_txs must be an integer"),
        ("fix: fix/PriceOracle.sol", "fix: PriceOracle.sol", "fix must live in the scenario's fix/ folder"),
        ("source: PriceOracle.sol", "source: Nope.sol", "is not an existing .sol file"),
        ("contract: PriceOracle", "contract: Oracle", "declares no contract Oracle"),
        ("component: oracle", "component: treasury", "component 'treasury' is not one of"),
        ("loss_asset: usd", "loss_asset: gold", "loss_asset 'gold'"),
        ("script: attack.py", "script: attack.py\ncolour: red", "unknown key(s) colour"),
        ("name: oracle-open-setprice", "name: other-name", "differs from its folder name"),
    ],
)
def test_broken_manifests_are_rejected(tmp_path: Path, old: str, new: str, message: str) -> None:
    folder = _copy(tmp_path)
    _edit(folder, old, new)
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    assert message in info.value.user_message
    assert "\n" not in info.value.user_message


def test_one_broken_manifest_fails_the_whole_corpus(tmp_path: Path) -> None:
    _copy(tmp_path, "vault-mint-pricing")
    broken = _copy(tmp_path)
    (broken / "manifest.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError) as info:
        load_corpus(tmp_path)
    assert info.value.user_message.startswith("1 invalid scenario manifest(s): oracle-open-setprice/")


def test_seed_overrides_are_validated(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "attack_txs: 3", "attack_txs: 3\nseed:\n  pool_usd: -1")
    with pytest.raises(ScenarioError, match="non-negative"):
        load_scenario(folder)
    _edit(folder, "pool_usd: -1", "moon_price: 1")
    with pytest.raises(ScenarioError, match="not a SeedPlan field"):
        load_scenario(folder)


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match=r"known scenarios: .*oracle-open-setprice"):
        CORPUS.get("no-such-thing")


def test_protect_levels() -> None:
    assert parse_protect("none") is ProtectLevel.NONE
    with pytest.raises(UsageError, match="unknown protect level 'bogus'"):
        parse_protect("bogus")
    for later in ("detect", "contain", "full"):
        with pytest.raises(UsageError, match="not available yet"):
            parse_protect(later)


class _Out:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.returncode, self.stdout, self.stderr = code, out, err


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> _Out:
    """Run ``bulwark scenario ...`` in-process (a subprocess pays the whole CLI import each time)."""
    from bulwark.cli.main import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["scenario", *args])
    out = capsys.readouterr()
    return _Out(int(info.value.code or 0), out.out, out.err)


def test_cli_run_with_an_unknown_protect_level_errors_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    proc = _cli(capsys, "run", "oracle-open-setprice", "--protect", "bogus")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: unknown protect level 'bogus'; use one of: none, detect, contain, full"
    ]


@pytest.mark.parametrize("level", ["detect", "contain", "full"])
def test_cli_every_protect_level_checks_the_scenario_before_starting(
    capsys: pytest.CaptureFixture[str], level: str
) -> None:
    proc = _cli(capsys, "run", "no-such-thing", "--protect", level, "--json")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "unknown scenario 'no-such-thing'" in proc.stderr


def test_cli_run_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    proc = _cli(capsys, "run", "no-such-thing")
    assert proc.returncode == 2
    assert "unknown scenario 'no-such-thing'" in proc.stderr


def test_cli_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    proc = _cli(capsys, "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert {r["name"] for r in rows} == set(CORPUS.names())
    assert all(set(r) == {"name", "class", "description"} for r in rows)
    assert {r["class"] for r in rows} >= {c.value for c in REQUIRED_CLASSES}
