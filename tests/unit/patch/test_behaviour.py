"""The behaviour check and the synthesised attacks (patch.behaviour), on contracts written here,
and their effect on ranking (ranking.check_behaviour) and on the JSON report."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bulwark.domain import VulnClass
from bulwark.domain.patch import AttackCheck, BehaviourChange, BehaviourCheck, Patch
from bulwark.patch.behaviour import Checker
from bulwark.patch.edit import unified_diff
from bulwark.patch.engine import PatchRequest, analyse, candidates, confidence
from bulwark.patch.evm import PROBE_SOLC, PROBE_SOURCE
from bulwark.patch.ranking import check_behaviour, rerank
from bulwark.toolchain.artifacts import ContractArtifact
from bulwark.toolchain.solc import Compiler

# A vault whose owner setter anyone can call: the flaw is setOwner.
VAULT = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract Vault {
    address public owner;
    uint256 public fee;
    mapping(address => uint256) public balances;
    event Deposited(address indexed who, uint256 amount);

    constructor() { owner = msg.sender; }

    function setOwner(address next) external {
        owner = next;
    }

    function setFee(uint256 next) external {
        require(msg.sender == owner, "owner");
        fee = next;
    }

    function deposit() external payable {
        balances[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external {
        require(balances[msg.sender] >= amount, "balance");
        balances[msg.sender] -= amount;
        payable(msg.sender).transfer(amount);
    }
}
"""
GUARD = (
    "    function setOwner(address next) external {\n",
    '    function setOwner(address next) external {\n        require(msg.sender == owner, "owner");\n',
)
# the same guard, plus a change off the flaw path: deposits of 1 wei or less are refused
BREAKS = (
    "balances[msg.sender] += msg.value;",
    'require(msg.value > 1, "dust"); balances[msg.sender] += msg.value;',
)
# a "fix" that leaves the flaw: setOwner still lets anyone in
NO_FIX = ("        owner = next;\n", "        owner = next == address(0) ? msg.sender : next;\n")

# A bank that pays before it books: withdraw can be re-entered from the payee's fallback.
BANK = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract Bank {
    mapping(address => uint256) public balances;
    bool private locked;

    function deposit() external payable {
        balances[msg.sender] += msg.value;
    }

    function withdraw() external {
        uint256 amount = balances[msg.sender];
        require(amount > 0, "empty");
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "send");
        balances[msg.sender] = 0;
    }
}
"""
LOCK = (
    "    function withdraw() external {\n",
    '    function withdraw() external {\n        require(!locked, "locked");\n        locked = true;\n',
)
UNLOCK = (
    "        balances[msg.sender] = 0;\n",
    "        balances[msg.sender] = 0;\n        locked = false;\n",
)
# books before paying (checks-effects-interactions): re-entry succeeds but pays nothing more
CEI = (
    '        (bool ok, ) = msg.sender.call{value: amount}("");\n        require(ok, "send");\n'
    "        balances[msg.sender] = 0;\n",
    '        balances[msg.sender] = 0;\n        (bool ok, ) = msg.sender.call{value: amount}("");\n'
    '        require(ok, "send");\n',
)


def _edit(source: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


def _build(compiler: Compiler, source: str, name: str) -> ContractArtifact:
    result = compiler.compile_sources({f"{name}.sol": source}, version="0.8.26", optimize=False)
    return next(c for c in result.contracts if c.name == name)


@pytest.fixture(scope="module")
def probe(compiler: Compiler) -> bytes:
    built = compiler.compile_sources({"Probe.sol": PROBE_SOURCE}, version=PROBE_SOLC, optimize=False)
    return next(c.bytecode for c in built.contracts if c.name == "BulwarkProbe")


@pytest.fixture(scope="module")
def vault(compiler: Compiler, probe: bytes) -> Checker:
    art = _build(compiler, VAULT, "Vault")
    return Checker(art, probe, art.storage_layout)


def test_a_guard_on_the_flaw_keeps_behaviour_and_its_refusals_are_expected(
    compiler: Compiler, vault: Checker
) -> None:
    check = vault.behaviour(
        _build(compiler, _edit(VAULT, GUARD), "Vault"), {"setOwner"}, VulnClass.ACCESS_CONTROL
    )
    assert check.checked and check.kept is True
    assert check.calls > 50
    # the guard refuses others' setOwner calls: a difference, but on the flaw path
    assert check.changes and all(c.expected and c.function == "setOwner(address)" for c in check.changes)
    assert {c.sender for c in check.changes} <= {"alice", "bob", "contract"}


def test_a_candidate_that_also_changes_deposit_is_reported_as_breaking_it(
    compiler: Compiler, vault: Checker
) -> None:
    check = vault.behaviour(
        _build(compiler, _edit(VAULT, GUARD, BREAKS), "Vault"), {"setOwner"}, VulnClass.ACCESS_CONTROL
    )
    assert check.kept is False
    broken = [c for c in check.changes if not c.expected]
    assert broken and {c.function for c in broken} == {"deposit()"}
    # refused: deposits of 0 or 1 wei, never the 1 ether ones
    assert all(c.what == "reverts" and "with 1000000000000000000 wei" not in c.detail for c in broken)


def test_the_same_seed_gives_the_same_report(compiler: Compiler, vault: Checker, probe: bytes) -> None:
    cand = _build(compiler, _edit(VAULT, GUARD, BREAKS), "Vault")
    again = Checker(vault.original, probe, vault.layout)
    assert again.behaviour(cand, {"setOwner"}, VulnClass.ACCESS_CONTROL) == vault.behaviour(
        cand, {"setOwner"}, VulnClass.ACCESS_CONTROL
    )


def test_non_owner_synthesis_tells_a_guard_from_a_non_fix(compiler: Compiler, vault: Checker) -> None:
    guarded = vault.attack(
        _build(compiler, _edit(VAULT, GUARD), "Vault"), {"setOwner"}, VulnClass.ACCESS_CONTROL
    )
    assert (guarded.shape, guarded.outcome) == ("non-owner", "blocked"), guarded.detail
    open_ = vault.attack(
        _build(compiler, _edit(VAULT, NO_FIX), "Vault"), {"setOwner"}, VulnClass.ACCESS_CONTROL
    )
    assert (open_.shape, open_.outcome) == ("non-owner", "not-blocked"), open_.detail


def test_reentrancy_synthesis_re_enters_from_a_contract_fallback(compiler: Compiler, probe: bytes) -> None:
    original = _build(compiler, BANK, "Bank")
    checker = Checker(original, probe, original.storage_layout)
    same = checker.attack(original, {"withdraw"}, VulnClass.REENTRANCY)
    assert (same.shape, same.outcome) == ("reentrancy", "not-blocked"), same.detail
    for fix in ((LOCK, UNLOCK), (CEI,)):
        got = checker.attack(_build(compiler, _edit(BANK, *fix), "Bank"), {"withdraw"}, VulnClass.REENTRANCY)
        assert (got.shape, got.outcome) == ("reentrancy", "blocked"), got.detail
    # and neither fix changes what a plain depositor or withdrawer sees
    locked = checker.behaviour(
        _build(compiler, _edit(BANK, LOCK, UNLOCK), "Bank"), {"withdraw"}, VulnClass.REENTRANCY
    )
    assert locked.kept is True and not locked.changes


def _patch(analysis_sources: dict[str, str], path: str, text: str, template: str) -> Patch:
    patched = {path: text}
    return Patch(
        vuln_class=VulnClass.ACCESS_CONTROL,
        contract="Vault",
        function="setOwner",
        template=template,
        edits=(),
        patched_sources=patched,
        diff=unified_diff(analysis_sources, patched),
        rationale="test",
        compiled=True,
        solc_version="0.8.26",
        score=0.9,
    )


def test_ranking_puts_a_behaviour_keeping_blocking_candidate_first(
    compiler: Compiler, tmp_path: Path
) -> None:
    analysis = analyse(PatchRequest(sources={"Vault.sol": VAULT}, use_slither=False), compiler)
    ranked = [
        _patch(analysis.sources, "Vault.sol", _edit(VAULT, NO_FIX), "no-fix"),
        _patch(analysis.sources, "Vault.sol", _edit(VAULT, GUARD, BREAKS), "breaks"),
        _patch(analysis.sources, "Vault.sol", _edit(VAULT, GUARD), "keeps"),
    ]
    notes: list[str] = []
    out = check_behaviour(analysis, compiler, ranked, notes)
    assert [p.template for p in out] == ["keeps", "breaks", "no-fix"], notes
    keeps, breaks, no_fix = out
    assert confidence(keeps).validation == 0.8 and "behaviour kept" in " ".join(confidence(keeps).validated)
    assert confidence(breaks).validation == 0.5
    assert confidence(no_fix).validation == 0.3
    # unchecked candidates keep their place and say so
    assert replace(keeps, behaviour=None).behaviour is None


def test_json_report_says_which_behaviours_changed(tmp_path: Path) -> None:
    source = tmp_path / "src" / "Vault.sol"
    source.parent.mkdir(parents=True)
    source.write_text(VAULT)
    proc = subprocess.run(
        [sys.executable, "-m", "bulwark.cli.main", "patch", str(source), "--json", "--no-slither"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    best = json.loads(proc.stdout)["patches"][0]
    assert best["function"] == "setOwner"
    assert best["behaviour"]["checked"] is True and best["behaviour"]["kept"] is True
    assert {c["function"] for c in best["behaviour"]["changes"]} == {"setOwner(address)"}
    assert all(c["expected"] for c in best["behaviour"]["changes"])
    assert best["attack"] == {"shape": "non-owner", "outcome": "blocked", "detail": best["attack"]["detail"]}


# solc 0.4: a misnamed constructor anyone can call (no storage layout output below 0.5.13)
TILL = """pragma solidity 0.4.24;

contract Till {
    address public owner;
    mapping(address => uint256) public credit;
    uint8 public lastPick;

    function Tlil() public {
        owner = msg.sender;
    }

    function bet(uint8 pick) public payable {
        credit[msg.sender] += msg.value;
        lastPick = pick;
    }

    function sweep(address to) public {
        require(msg.sender == owner);
        to.transfer(address(this).balance);
    }
}
"""
CTOR = ("    function Tlil() public {\n", "    constructor() public {\n")


def test_a_misnamed_constructor_made_a_constructor_is_compared_from_the_state_its_author_meant(
    compiler: Compiler, probe: bytes
) -> None:
    def build(source: str) -> ContractArtifact:
        result = compiler.compile_sources({"Till.sol": source}, version="0.4.24", optimize=False)
        return next(c for c in result.contracts if c.name == "Till")

    original, fixed = build(TILL), build(_edit(TILL, CTOR))
    assert original.storage_layout is None  # the slots are probed without a layout
    checker = Checker(original, probe, None)
    # without the deployer's Tlil() on the original, owner() and sweep() would differ on every sequence
    check = checker.behaviour(fixed, {"Tlil"}, VulnClass.ACCESS_CONTROL)
    assert check.kept is True, check.changes
    attack = checker.attack(fixed, {"Tlil"}, VulnClass.ACCESS_CONTROL)
    assert (attack.shape, attack.outcome) == ("non-owner", "blocked"), attack.detail
    # bet(uint8) is payable: the attack's funding step fits one ether's worth into a uint8
    assert any(f.signature == "bet(uint8)" for f in checker.fns)


# tx.origin in a modifier: the flaw is in no function, the attack goes through the functions using it
MINTER = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

contract Minter {
    address public owner;
    mapping(address => uint256) public minted;

    constructor() { owner = msg.sender; }

    modifier onlyOwner() {
        require(tx.origin == owner, "not owner");
        _;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        minted[to] += amount;
    }

    function handOver(address next) external onlyOwner {
        owner = next;
    }
}
"""


def test_a_tx_origin_fix_in_a_modifier_keeps_behaviour_and_blocks_the_relayed_call(
    compiler: Compiler,
) -> None:
    analysis = analyse(PatchRequest(sources={"Minter.sol": MINTER}, use_slither=False), compiler)
    patches = candidates(analysis, compiler).patches
    best = patches[0]
    assert best.template == "tx-origin-to-msg-sender"
    assert best.behaviour is not None and best.behaviour.kept is True, best.behaviour
    # a contract's calls now see msg.sender: the only differences, all on the modifier's functions
    assert all(c.sender == "contract" and c.expected for c in best.behaviour.changes)
    assert best.attack is not None and (best.attack.shape, best.attack.outcome) == (
        "tx-origin relay",
        "blocked",
    )


SALE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract Sale {
    uint256 constant PRICE = 2;
    mapping(address => uint256) public bought;

    function buy(uint256 n) external payable {
        uint256 cost;
        unchecked { cost = n * PRICE; }
        require(msg.value == cost, "pay");
        bought[msg.sender] += n;
    }
}
"""
CHECKED = ("        unchecked { cost = n * PRICE; }\n", "        cost = n * PRICE;\n")


def test_arithmetic_boundary_synthesis_finds_the_wrapping_multiplication(
    compiler: Compiler, probe: bytes
) -> None:
    original = _build(compiler, SALE, "Sale")
    checker = Checker(original, probe, original.storage_layout)
    same = checker.attack(original, {"buy"}, VulnClass.INTEGER_OVERFLOW)
    assert (same.shape, same.outcome) == ("arithmetic boundary", "not-blocked"), same.detail
    fixed = _build(compiler, _edit(SALE, CHECKED), "Sale")
    got = checker.attack(fixed, {"buy"}, VulnClass.INTEGER_OVERFLOW)
    assert got.outcome == "blocked", got.detail
    # the checked multiplication refuses only boundary inputs: behaviour is kept
    check = checker.behaviour(fixed, {"buy"}, VulnClass.INTEGER_OVERFLOW)
    assert check.kept is True and all(c.expected and c.what == "reverts" for c in check.changes)


def test_a_behaviour_change_demotes_a_candidate_within_its_flaw_only() -> None:
    def cand(name: str, function: str, *, kept: bool | None, attack: str | None = None) -> Patch:
        base = _patch({"A.sol": ""}, "A.sol", "", name)
        behaviour = None if kept is None else BehaviourCheck(True, "t", 1, 1, () if kept else (_BROKE,))
        shot = None if attack is None else AttackCheck("non-owner", attack, "t")
        return replace(base, function=function, behaviour=behaviour, attack=shot)

    ranked = [
        cand("a-changes", "setOwner", kept=False),
        cand("a-keeps", "setOwner", kept=True),
        cand("b-keeps", "other", kept=True),  # another flaw: stays behind the first flaw's fixes
        cand("a-open", "setOwner", kept=True, attack="not-blocked"),
        cand("b-unchecked", "other", kept=None),
    ]
    assert [p.template for p in rerank(ranked)] == [
        "a-keeps",
        "a-changes",
        "b-keeps",
        "b-unchecked",
        "a-open",
    ]


_BROKE = BehaviourChange("deposit()", "alice", "reverts", False, "deposit()")


LOCK_TIME = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract Lock {
    mapping(address => uint256) public until;

    function extend(uint256 secs) external {
        unchecked { until[msg.sender] += secs; }
    }
}
"""
LOCK_CHECKED = ("        unchecked { until[msg.sender] += secs; }\n", "        until[msg.sender] += secs;\n")


def test_an_accumulator_that_wraps_only_on_a_second_boundary_call_is_found(
    compiler: Compiler, probe: bytes
) -> None:
    original = _build(compiler, LOCK_TIME, "Lock")
    checker = Checker(original, probe, original.storage_layout)
    # one call of extend(max) from zero cannot overflow; the second one wraps
    got = checker.attack(
        _build(compiler, _edit(LOCK_TIME, LOCK_CHECKED), "Lock"), {"extend"}, VulnClass.INTEGER_OVERFLOW
    )
    assert (got.shape, got.outcome) == ("arithmetic boundary", "blocked"), got.detail


def test_without_pyrevm_candidates_stay_unchecked_and_the_notes_say_so(
    compiler: Compiler, monkeypatch: pytest.MonkeyPatch
) -> None:
    analysis = analyse(PatchRequest(sources={"Vault.sol": VAULT}, use_slither=False), compiler)
    ranked = [_patch(analysis.sources, "Vault.sol", _edit(VAULT, GUARD), "keeps")]
    monkeypatch.delitem(sys.modules, "bulwark.patch.behaviour")
    monkeypatch.delitem(sys.modules, "bulwark.patch.evm")
    monkeypatch.setitem(sys.modules, "pyrevm", None)  # import pyrevm now raises ImportError
    notes: list[str] = []
    assert check_behaviour(analysis, compiler, ranked, notes) == ranked
    assert notes == ["behaviour not checked: pyrevm is not installed"]
