from __future__ import annotations

from dataclasses import replace

from tests.unit.detect.synth import (
    ATTACK_CONTRACT,
    ATTACKER,
    E18,
    FLASH,
    USD,
    USER,
    VAULT,
    ZERO,
    call,
    event,
    h,
    transfer_log,
    word,
)

from bulwark.detect.builtins.mint_pricing import DEPOSIT, MispricedMint
from bulwark.detect.builtins.reentrancy import Reentrancy
from bulwark.detect.builtins.share_inflation import ShareInflation
from bulwark.detect.builtins.signature_replay import SignatureReplay
from bulwark.detect.builtins.unchecked_return import UncheckedReturn
from bulwark.detect.model import ChainView, ProtocolState, VaultState
from bulwark.domain import TxHash, VulnClass

FALSE, TRUE = b"\x00" * 32, (1).to_bytes(32, "big")


def _deposit(output: bytes) -> dict[str, object]:
    pull = call(
        FLASH,
        USD,
        "transferFrom(address,address,uint256)",
        word(ATTACK_CONTRACT) + word(FLASH) + word(5),
        output=output,
    )
    return call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[call(ATTACK_CONTRACT, FLASH, "deposit(address,uint256)", calls=[pull])],
    )


def test_unchecked_false_transfer(view: ChainView) -> None:
    [f] = list(UncheckedReturn()(view, event(_deposit(FALSE))))
    assert f.vuln_class is VulnClass.UNCHECKED_RETURN and f.contract == FLASH
    assert list(UncheckedReturn()(view, event(_deposit(TRUE)))) == []
    assert list(UncheckedReturn()(view, event(_deposit(b"")))) == []  # no return data (USDT-style): not false


def test_flash_lender_side_entrance_is_reentrancy(view: ChainView) -> None:
    tx = call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[
            call(
                ATTACK_CONTRACT,
                FLASH,
                "flashLoan(address,address,uint256,bytes)",
                calls=[
                    call(FLASH, USD, "transfer(address,uint256)"),
                    call(
                        FLASH,
                        ATTACK_CONTRACT,
                        "onFlashLoan(address,address,uint256,uint256,bytes)",
                        calls=[call(ATTACK_CONTRACT, FLASH, "deposit(address,uint256)")],
                    ),
                ],
            )
        ],
    )
    [f] = list(Reentrancy()(view, event(tx)))
    assert f.contract == FLASH


def _claim(sig: bytes) -> bytes:
    # claim(uint256 epoch, uint256 amount, bytes sig): head (3 words) + length + padded data
    return word(1) + word(100) + word(96) + word(65) + sig + b"\x00" * 31


def test_signature_replay_within_and_across_transactions(view: ChainView) -> None:
    det = SignatureReplay()
    sig = bytes(range(65))
    looped = call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[call(ATTACK_CONTRACT, VAULT, "claim(uint256,uint256,bytes)", _claim(sig)) for _ in range(3)],
    )
    [f] = list(det(view, event(looped)))
    assert f.vuln_class is VulnClass.SIGNATURE_REPLAY and f.evidence["uses_in_tx"] == 3
    once = call(USER, VAULT, "claim(uint256,uint256,bytes)", _claim(bytes(65)))
    assert list(det(view, event(once, pending=False))) == []  # first use, remembered
    assert list(det(view, event(once))) == []  # the same transaction pending again is not a replay
    first = event(call(ATTACKER, VAULT, "claim(uint256,uint256,bytes)", _claim(bytes(65))))
    other = replace(first, tx=replace(first.tx, hash=TxHash("0x" + "cd" * 32)))
    [g] = list(det(view, other))
    assert g.evidence["earlier_tx"] == "0x" + "ab" * 32


def _empty_vault(view: ChainView) -> ChainView:
    return ChainView(view.protocol, ProtocolState(vaults={VAULT: VaultState(USD, 0, 0)}))


def test_first_deposit_inflation(view: ChainView) -> None:
    v = _empty_vault(view)
    seed = call(
        ATTACK_CONTRACT,
        VAULT,
        "deposit(uint256,address)",
        logs=[
            transfer_log(USD, ATTACK_CONTRACT, VAULT, 1),
            transfer_log(VAULT, ZERO, ATTACK_CONTRACT, 1),
            transfer_log(USD, ATTACK_CONTRACT, VAULT, 10_000 * E18),
        ],
    )
    [f] = list(ShareInflation()(v, event(seed)))
    assert f.vuln_class is VulnClass.ERC4626_INFLATION
    honest = call(
        USER,
        VAULT,
        "deposit(uint256,address)",
        logs=[
            transfer_log(USD, USER, VAULT, 1_000 * E18),
            transfer_log(VAULT, ZERO, USER, 1_000 * E18 * 10**6),
        ],
    )
    assert list(ShareInflation()(v, event(honest))) == []
    assert list(ShareInflation()(view, event(honest))) == []  # into the seeded vault: fair price


def _deposit_log(assets: int, shares: int) -> dict[str, object]:
    return {
        "address": h(VAULT),
        "topics": [DEPOSIT, "0x" + "00" * 32, "0x" + "00" * 32],
        "data": "0x" + word(assets).hex() + word(shares).hex(),
    }


def test_mispriced_mint_and_wrapped_cost(view: ChainView) -> None:
    huge = 2**256 // (100_000 * E18 + 1) + 1
    tx = call(ATTACK_CONTRACT, VAULT, "mint(uint256,address)", logs=[_deposit_log(1, huge)])
    [f] = list(MispricedMint()(view, event(tx)))
    assert f.vuln_class is VulnClass.INTEGER_OVERFLOW
    cheap = call(ATTACK_CONTRACT, VAULT, "mint(uint256,address)", logs=[_deposit_log(1, 10**24)])
    [g] = list(MispricedMint()(view, event(cheap)))
    assert g.vuln_class is VulnClass.INVARIANT_BREAK
    fair = call(USER, VAULT, "mint(uint256,address)", logs=[_deposit_log(1_000 * E18, 1_000 * 10**24)])
    assert list(MispricedMint()(view, event(fair))) == []
