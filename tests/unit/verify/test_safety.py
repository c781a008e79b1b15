"""Upgrade-safety checks on real solc output: the live FlashLender against deliberately wrong candidates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fixtures.verify.wrong import generated

from bulwark.domain.verify import LayoutChangeKind
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.solc import Compiler
from bulwark.verify.layout import layout_diff
from bulwark.verify.safety import SafetyInput, check_upgrade_safety

WRONG = generated()

ROOT = Path(__file__).resolve().parents[3]
LIVE = ROOT / "contracts" / "protocol" / "FlashLender.sol"


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler(root=ROOT) as c:
        yield c


@pytest.fixture(scope="module")
def live(compiler: Compiler) -> CompileResult:
    return compiler.compile_files([LIVE])


def codes(live: CompileResult, cand: CompileResult, name: str = "FlashLender") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in check_upgrade_safety(SafetyInput(live, "FlashLender", cand, name)):
        out.setdefault(r.code, []).append(r.subject)
    return out


def test_live_against_itself_is_clean(live: CompileResult) -> None:
    assert codes(live, live) == {}
    assert layout_diff(live, "FlashLender", live, "FlashLender").ok


def test_storage_insertion_names_the_variables(compiler: Compiler, live: CompileResult) -> None:
    cand = compiler.compile_files([WRONG["FlashLenderInserted"]])
    diff = layout_diff(live, "FlashLender", cand, "FlashLender")
    assert not diff.ok
    kinds = {(c.kind, c.label) for c in diff.errors}
    assert (LayoutChangeKind.INSERTED, "FlashLender.feeRecipient") in kinds
    assert (LayoutChangeKind.MOVED, "FlashLender.feeBps") in kinds
    assert codes(live, cand) == {}  # nothing else is wrong with it


def test_removed_public_function(compiler: Compiler, live: CompileResult) -> None:
    cand = compiler.compile_files([WRONG["FlashLenderRemoved"]])
    assert codes(live, cand) == {"selector-removed": ["balanceOf(address,address)"]}
    assert layout_diff(live, "FlashLender", cand, "FlashLender").ok


def test_unrestricted_authorize_upgrade(compiler: Compiler, live: CompileResult) -> None:
    cand = compiler.compile_files([WRONG["FlashLenderOpenUpgrade"]])
    found = codes(live, cand)
    assert found == {"authorize-upgrade-unrestricted": ["OpenProtectedUpgradeable._authorizeUpgrade"]}


def test_oversized_implementation(compiler: Compiler, live: CompileResult) -> None:
    cand = compiler.compile_files([WRONG["FlashLenderHuge"]])
    assert len(cand.contract("FlashLender").deployed_bytecode) > 24_576
    assert codes(live, cand) == {"code-size": ["FlashLender"]}


HAZARDS = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;
import {ProtectedUpgradeable} from "contracts/protocol/ProtectedUpgradeable.sol";
contract Hazard is ProtectedUpgradeable {
    uint256 public counter = 7;
    address public immutable deployer;
    constructor() { deployer = msg.sender; }
    function initialize(address admin, address guardian) external initializer {
        __Protected_init(admin, guardian);
    }
    function boom(address target, bytes calldata data) external {
        (bool ok,) = target.delegatecall(data);
        require(ok);
        selfdestruct(payable(msg.sender));
    }
}
"""

INIT_ORDER = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;
import {ReentrancyGuardTransientUpgradeable} from
    "@openzeppelin/contracts-upgradeable/utils/ReentrancyGuardTransientUpgradeable.sol";
import {ProtectedUpgradeable} from "contracts/protocol/ProtectedUpgradeable.sol";
contract Ordered is ProtectedUpgradeable, ReentrancyGuardTransientUpgradeable {
    function initialize(address admin, address guardian) external initializer {
        __ReentrancyGuardTransient_init();
        __Protected_init(admin, guardian);
    }
    function _authorizeUpgradeGuard() internal view { require(msg.sender != address(0)); }
}
"""


def test_constructor_state_immutable_and_hazards(compiler: Compiler) -> None:
    res = compiler.compile_sources({"Hazard.sol": HAZARDS})
    reasons = check_upgrade_safety(SafetyInput(res, "Hazard", res, "Hazard"))
    found = {(r.code, r.subject) for r in reasons}
    assert ("constructor-state", "Hazard.constructor") in found
    assert ("state-variable-assignment", "Hazard.counter") in found
    assert ("immutable", "Hazard.deployer") in found
    assert ("delegatecall", "Hazard.boom") in found
    assert ("selfdestruct", "Hazard.boom") in found


def test_initializer_order(compiler: Compiler) -> None:
    res = compiler.compile_sources({"Ordered.sol": INIT_ORDER})
    reasons = check_upgrade_safety(SafetyInput(res, "Ordered", res, "Ordered"))
    assert [r.code for r in reasons] == ["initializer-order"]
    assert "__ReentrancyGuardTransient_init before __Protected_init" in reasons[0].message


def test_slither_corroborates_the_storage_insertion(compiler: Compiler, live: CompileResult) -> None:
    from bulwark.verify.slither_checks import slither_upgradeability

    inserted = compiler.compile_files([WRONG["FlashLenderInserted"]])
    notes = slither_upgradeability(live, "FlashLender", inserted, "FlashLender", compiler.root)
    assert "slither:order-vars-contracts" in {n.code for n in notes}
    assert all(not n.fatal for n in notes)


_UUPS_LIVE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;
contract Vault {
    uint256 public total;
    function deposit() external payable { total += msg.value; }
    function proxiableUUID() external pure returns (bytes32) { return bytes32(0); }
    function upgradeToAndCall(address, bytes calldata) external payable { require(msg.sender == address(0)); }
}
"""
_PLAIN = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;
contract Vault {
    uint256 public total;
    function deposit() external payable { total += msg.value; }
}
"""


def test_uups_functions_are_required_only_when_the_live_implementation_had_them(compiler: Compiler) -> None:
    """Behind a Transparent proxy the ProxyAdmin upgrades: its implementation never had
    upgradeToAndCall, so a candidate without it is no hazard; a UUPS one losing it is."""
    uups = compiler.compile_sources({"Vault.sol": _UUPS_LIVE})
    plain = compiler.compile_sources({"Vault.sol": _PLAIN})
    dropped = {r.code: r.subject for r in check_upgrade_safety(SafetyInput(uups, "Vault", plain, "Vault"))}
    assert dropped.get("uups-missing") in {"upgradeToAndCall(address,bytes)", "proxiableUUID()"}
    transparent = {r.code for r in check_upgrade_safety(SafetyInput(plain, "Vault", plain, "Vault"))}
    assert not transparent & {"uups-missing", "authorize-upgrade-missing"}
