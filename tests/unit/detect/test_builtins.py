from __future__ import annotations

from dataclasses import replace

from eth_utils.crypto import keccak
from tests.unit.detect.synth import (
    ATTACK_CONTRACT,
    ATTACKER,
    E18,
    FEEDER,
    FLASH,
    LENDING,
    ORACLE,
    POOL,
    TIMELOCK,
    USD,
    USER,
    VAULT,
    WETH,
    ZERO,
    call,
    event,
    h,
    transfer_log,
    word,
)

from bulwark.detect.builtins.early_warning import EarlyWarning
from bulwark.detect.builtins.flashloan import FlashLoanPriceManipulation
from bulwark.detect.builtins.indicators import IndicatorMatch, IndicatorParams
from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.builtins.privileged import UnauthorisedPrivilegedCall
from bulwark.detect.builtins.reentrancy import Reentrancy
from bulwark.detect.model import ChainView
from bulwark.domain import Severity, VulnClass

# --- invariant break ------------------------------------------------------------------------------


def test_outflow_above_share_flags_and_small_withdrawal_does_not(view: ChainView) -> None:
    det = InvariantBreak()
    drain = call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[
            call(
                ATTACK_CONTRACT,
                LENDING,
                "borrow(uint256)",
                word(400_000 * E18),
                logs=[transfer_log(USD, LENDING, ATTACK_CONTRACT, 400_000 * E18)],
            )
        ],
    )
    [f] = list(det(view, event(drain)))
    assert f.vuln_class is VulnClass.INVARIANT_BREAK and f.severity is Severity.CRITICAL
    assert f.contract == LENDING and f.pending
    assert f.evidence["share"] == 0.4
    small = call(
        USER,
        LENDING,
        "borrow(uint256)",
        word(1_000 * E18),
        logs=[transfer_log(USD, LENDING, USER, 1_000 * E18)],
    )
    assert list(det(view, event(small))) == []


def test_outflow_absolute_threshold(view: ChainView) -> None:
    det = InvariantBreak.from_settings({"max_outflow": {"usd": 500}})
    tx = call(USER, LENDING, "borrow(uint256)", logs=[transfer_log(USD, LENDING, USER, 600 * E18)])
    assert [f.contract for f in det(view, event(tx))] == [LENDING]


def test_reverted_transaction_is_ignored(view: ChainView) -> None:
    tx = call(
        ATTACKER,
        LENDING,
        "borrow(uint256)",
        error="execution reverted",
        logs=[transfer_log(USD, LENDING, ATTACKER, 900_000 * E18)],
    )
    assert list(InvariantBreak()(view, event(tx))) == []


def test_inflow_then_outflow_nets_out(view: ChainView) -> None:
    # a flash loan repaid in the same transaction is not an outflow
    logs = [
        transfer_log(USD, FLASH, ATTACK_CONTRACT, 4_000_000 * E18, 0),
        transfer_log(USD, ATTACK_CONTRACT, FLASH, 4_000_400 * E18, 0),
    ]
    tx = call(ATTACKER, FLASH, "flashLoan(address,address,uint256,bytes)", logs=logs)
    assert list(InvariantBreak()(view, event(tx))) == []


def test_share_price_drop(view: ChainView) -> None:
    # 10% of the assets leave while only 1% of the shares are burnt: price falls ~9%
    shares = 1_000 * 10**24
    logs = [transfer_log(VAULT, ATTACKER, ZERO, shares), transfer_log(USD, VAULT, ATTACKER, 10_000 * E18)]
    tx = call(ATTACKER, VAULT, "redeem(uint256,address,address)", logs=logs)
    findings = [f for f in InvariantBreak()(view, event(tx)) if "share price" in f.title]
    assert len(findings) == 1 and findings[0].contract == VAULT
    # a fair redemption keeps the price
    fair = [transfer_log(VAULT, USER, ZERO, shares), transfer_log(USD, VAULT, USER, 1_000 * E18)]
    tx = call(USER, VAULT, "redeem(uint256,address,address)", logs=fair)
    assert [f for f in InvariantBreak()(view, event(tx)) if "share price" in f.title] == []


def test_oracle_move_beyond_bound(view: ChainView) -> None:
    det = InvariantBreak()
    jump = call(FEEDER, ORACLE, "setPrice(address,uint256)", word(WETH) + word(3_000 * E18))
    [f] = list(det(view, event(jump)))
    assert f.vuln_class is VulnClass.ORACLE_MANIPULATION and f.contract == ORACLE
    drift = call(FEEDER, ORACLE, "setPrice(address,uint256)", word(WETH) + word(2_100 * E18))
    assert list(det(view, event(drift))) == []


# --- reentrancy -----------------------------------------------------------------------------------


def _withdraw_with_callback(reenter: bool, error: str | None = None) -> dict[str, object]:
    inner = (
        [call(ATTACK_CONTRACT, VAULT, "withdraw(uint256,address,address)", error=error)] if reenter else []
    )
    return call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[
            call(
                ATTACK_CONTRACT,
                VAULT,
                "withdraw(uint256,address,address)",
                calls=[call(VAULT, ATTACK_CONTRACT, value=E18, calls=inner)],
            )
        ],
    )


def test_reentrancy_through_outside_contract(view: ChainView) -> None:
    [f] = list(Reentrancy()(view, event(_withdraw_with_callback(True))))
    assert f.vuln_class is VulnClass.REENTRANCY and f.contract == VAULT
    assert f.evidence["reentered_from"] == ATTACK_CONTRACT


def test_no_reentrancy_without_callback_or_when_reverted(view: ChainView) -> None:
    assert list(Reentrancy()(view, event(_withdraw_with_callback(False)))) == []
    assert (
        list(Reentrancy()(view, event(_withdraw_with_callback(True, "ReentrancyGuardReentrantCall")))) == []
    )


def test_internal_protocol_calls_and_views_are_not_reentrancy(view: ChainView) -> None:
    # lending -> oracle (protected) -> lending (protected, static): no outside contract in between
    tx = call(
        USER,
        LENDING,
        "borrow(uint256)",
        calls=[
            call(
                LENDING,
                ORACLE,
                "price(address)",
                typ="STATICCALL",
                calls=[call(ORACLE, LENDING, "healthFactor(address)", typ="STATICCALL")],
            ),
            call(LENDING, USER),
            call(USER, LENDING, "repay(uint256)"),
        ],
    )
    assert list(Reentrancy()(view, event(tx))) == []
    # sequential calls back into the same contract after returning are fine too
    assert (
        list(
            Reentrancy()(
                view,
                event(
                    call(
                        ATTACKER,
                        ATTACK_CONTRACT,
                        calls=[
                            call(ATTACK_CONTRACT, VAULT, "deposit(uint256,address)"),
                            call(ATTACK_CONTRACT, VAULT, "withdraw(uint256,address,address)"),
                        ],
                    )
                ),
            )
        )
        == []
    )


def test_reentrancy_through_proxy_delegatecall(view: ChainView) -> None:
    impl = h("0x" + "ee" * 20)
    inner_proxy = call(
        ATTACK_CONTRACT,
        LENDING,
        "borrow(uint256)",
        calls=[call(LENDING, impl, "borrow(uint256)", typ="DELEGATECALL")],
    )  # type: ignore[arg-type]
    outer = call(
        ATTACKER,
        LENDING,
        "withdrawCollateral(uint256)",
        calls=[
            call(
                LENDING,
                impl,
                "withdrawCollateral(uint256)",
                typ="DELEGATECALL",  # type: ignore[arg-type]
                calls=[call(LENDING, ATTACK_CONTRACT, value=E18, calls=[inner_proxy])],
            )
        ],
    )
    [f] = list(Reentrancy()(view, event(outer)))
    assert f.contract == LENDING


# --- unauthorised privileged call ---------------------------------------------------------------

DIFF = {
    "pre": {h(LENDING): {"storage": {"0x" + "00" * 32: "0x" + "00" * 32}}},
    "post": {h(LENDING): {"storage": {"0x" + "00" * 32: "0x" + "00" * 31 + "01"}}},
}


def test_set_oracle_by_stranger_flags_and_by_timelock_does_not(view: ChainView) -> None:
    det = UnauthorisedPrivilegedCall()
    tx = call(ATTACKER, LENDING, "setOracle(address)", word(ATTACK_CONTRACT))
    [f] = list(det(view, event(tx, diff=DIFF)))
    assert f.vuln_class is VulnClass.ACCESS_CONTROL and f.contract == LENDING
    assert f.evidence["caller"] == ATTACKER
    assert list(det(view, event(call(TIMELOCK, LENDING, "setOracle(address)", word(USER)), diff=DIFF))) == []


def test_privileged_call_without_state_change_or_reverted(view: ChainView) -> None:
    det = UnauthorisedPrivilegedCall()
    tx = call(ATTACKER, LENDING, "setOracle(address)", word(ATTACK_CONTRACT))
    assert list(det(view, event(tx, diff={"pre": {}, "post": {}}))) == []
    reverted = call(ATTACKER, LENDING, "setOracle(address)", error="AccessControlUnauthorizedAccount")
    assert list(det(view, event(reverted, diff=DIFF))) == []


def test_oracle_role_may_set_price_but_not_grant_roles(view: ChainView) -> None:
    det = UnauthorisedPrivilegedCall()
    diff = {
        "pre": {h(ORACLE): {"storage": {"0x01": "0x01"}}},
        "post": {h(ORACLE): {"storage": {"0x01": "0x02"}}},
    }
    ok = call(FEEDER, ORACLE, "setPrice(address,uint256)", word(WETH) + word(2_000 * E18))
    assert list(det(view, event(ok, diff=diff))) == []
    bad = call(FEEDER, ORACLE, "grantRole(bytes32,address)", word(0) + word(FEEDER))
    assert len(list(det(view, event(bad, diff=diff)))) == 1


def test_configured_privileged_function_by_abi_name(view: ChainView) -> None:
    info = view.protocol.contracts[FLASH]
    abi = ({"type": "function", "name": "setFeeReceiver", "inputs": [{"type": "address", "name": "r"}]},)
    contracts = dict(view.protocol.contracts)
    contracts[FLASH] = replace(info, abi=abi, privileged=("setFeeReceiver",))
    v = ChainView(replace(view.protocol, contracts=contracts), view.state)
    tx = call(ATTACKER, FLASH, "setFeeReceiver(address)", word(ATTACKER))
    assert len(list(UnauthorisedPrivilegedCall()(v, event(tx)))) == 1


# --- flash-loan price manipulation ------------------------------------------------------------------


def _manipulation(read_price: bool, flash: bool = True, amount: int = 3_000_000 * E18) -> dict[str, object]:
    back = 1_000 * E18 * amount // (2_000_000 * E18 + amount) // 1
    swap_in = call(
        ATTACK_CONTRACT,
        POOL,
        "swap(address,uint256,uint256,address)",
        logs=[
            transfer_log(USD, ATTACK_CONTRACT, POOL, amount, 0),
            transfer_log(WETH, POOL, ATTACK_CONTRACT, back, 0),
        ],
    )
    victim_calls = [call(LENDING, POOL, "spotPrice(address)", typ="STATICCALL")] if read_price else []
    borrow = call(ATTACK_CONTRACT, LENDING, "borrow(uint256)", calls=victim_calls)
    swap_back = call(
        ATTACK_CONTRACT,
        POOL,
        "swap(address,uint256,uint256,address)",
        logs=[
            transfer_log(WETH, ATTACK_CONTRACT, POOL, back, 0),
            transfer_log(USD, POOL, ATTACK_CONTRACT, amount, 0),
        ],
    )
    body = [swap_in, borrow, swap_back]
    if flash:
        return call(
            ATTACKER,
            ATTACK_CONTRACT,
            calls=[
                call(
                    ATTACK_CONTRACT,
                    FLASH,
                    "flashLoan(address,address,uint256,bytes)",
                    calls=[
                        call(
                            FLASH,
                            ATTACK_CONTRACT,
                            "onFlashLoan(address,address,uint256,uint256,bytes)",
                            calls=body,
                        )
                    ],
                )
            ],
        )
    return call(ATTACKER, ATTACK_CONTRACT, calls=body)


def test_flash_loan_price_manipulation_with_price_read(view: ChainView) -> None:
    [f] = list(FlashLoanPriceManipulation()(view, event(_manipulation(True))))
    assert f.vuln_class is VulnClass.ORACLE_MANIPULATION and f.contract == LENDING
    assert f.evidence["price_read_observed"] is True
    assert f.evidence["max_price_impact"] > 0.9  # pushed and restored within the transaction


def test_no_flash_loan_or_small_impact_is_not_flagged(view: ChainView) -> None:
    det = FlashLoanPriceManipulation()
    assert list(det(view, event(_manipulation(True, flash=False)))) == []
    assert list(det(view, event(_manipulation(True, amount=20_000 * E18)))) == []
    [f] = list(det(view, event(_manipulation(False))))
    assert f.evidence["price_read_observed"] is False


# --- early warning, indicators --------------------------------------------------------------------


def test_early_warning_on_deployment_referencing_protocol(view: ChainView) -> None:
    code = (
        bytes.fromhex("6080604052")
        + b"\x73"
        + bytes.fromhex(LENDING[2:])
        + b"\x73"
        + bytes.fromhex(FLASH[2:])
    )
    tx = call(ATTACKER, ATTACK_CONTRACT, typ="CREATE", output=code)
    [f] = list(EarlyWarning()(view, event(tx)))
    assert f.severity is Severity.MEDIUM and f.vuln_class is VulnClass.SUSPICIOUS_DEPLOYMENT
    assert f.evidence["references"] == sorted(
        ["lending", "flash"], key=lambda n: {"lending": LENDING, "flash": FLASH}[n]
    )
    plain = call(USER, ATTACK_CONTRACT, typ="CREATE", output=bytes.fromhex("6080604052"))
    assert list(EarlyWarning()(view, event(plain))) == []
    # the protocol's own role holders deploy upgrades: expected
    assert list(EarlyWarning()(view, event(tx, sender=TIMELOCK))) == []


def test_indicator_match_on_sender_and_code_hash(view: ChainView) -> None:
    code = b"\x60\x00\x60\x00\xf3"
    det = IndicatorMatch(
        IndicatorParams(addresses=frozenset({ATTACKER}), code_hashes=frozenset({"0x" + keccak(code).hex()}))
    )
    tx = call(ATTACKER, ATTACK_CONTRACT, typ="CREATE", output=code)
    whys = sorted(f.evidence["match"] for f in det(view, event(tx)))
    assert whys[0].startswith("code hash") and whys[1] == "sender"
    assert list(det(view, event(call(USER, POOL, "swap(address,uint256,uint256,address)")))) == []
    assert list(IndicatorMatch()(view, event(tx))) == []
