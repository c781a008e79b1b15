"""Signature reuse in any encoding: separate (v, r, s), 65-byte and 64-byte compact signatures,
permit-style arguments (from the ABI), and ecrecover calls in the trace (no ABI at all)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eth_abi.abi import encode
from eth_keys.constants import SECPK1_N
from tests.unit.detect.synth import ATTACK_CONTRACT, ATTACKER, USD, USER, VAULT, addr, call, event, word

from bulwark.detect.builtins.signature_replay import ECRECOVER, SECP256K1_N, SignatureReplay
from bulwark.detect.model import ChainView, ContractInfo, ProtocolModel
from bulwark.domain import Action, Address, Severity, TxHash, VulnClass

R, S = 0x1234 << 200, 0x5678 << 190
SIGNER = addr(0x5E)
DIGEST = bytes([7]) * 32
PERMIT = "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"
CLAIM = "claim(uint256,bytes)"
ABI = (
    {
        "type": "function",
        "name": "permit",
        "inputs": [
            {"name": "owner", "type": "address"},
            {"name": "spender", "type": "address"},
            {"name": "value", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
            {"name": "v", "type": "uint8"},
            {"name": "r", "type": "bytes32"},
            {"name": "s", "type": "bytes32"},
        ],
    },
    {
        "type": "function",
        "name": "claim",
        "inputs": [{"name": "amount", "type": "uint256"}, {"name": "sig", "type": "bytes"}],
    },
)


def _typed(view: ChainView) -> ChainView:
    """The vault with its ABI configured."""
    contracts = dict(view.protocol.contracts)
    contracts[VAULT] = replace(contracts[VAULT], abi=ABI)
    p = view.protocol
    return ChainView(ProtocolModel(p.name, contracts, p.assets, p.roles, p.flash_lenders), view.state)


def _recover(by: Address, digest: bytes = DIGEST, signer: Address = SIGNER, v: int = 27) -> dict[str, Any]:
    return call(
        by, ECRECOVER, None, digest + word(v) + word(R) + word(S), typ="STATICCALL", output=word(signer)
    )


def _permit(v: int, r: int, s: int, deadline: int = 10**10) -> bytes:
    return encode(
        ["address", "address", "uint256", "uint256", "uint8", "bytes32", "bytes32"],
        [SIGNER, ATTACKER, 10**18, deadline, v, r.to_bytes(32, "big"), s.to_bytes(32, "big")],
    )


def _tx(frame: dict[str, Any], n: int, *, pending: bool = True, sender: Address = ATTACKER) -> Any:
    ev = event(frame, pending=pending, sender=sender)
    return replace(ev, tx=replace(ev.tx, hash=TxHash("0x" + f"{n:02x}" * 32), nonce=n))


def test_permit_style_vrs_replayed_after_a_mined_use(view: ChainView) -> None:
    v = _typed(view)
    det = SignatureReplay()
    first = call(USER, VAULT, PERMIT, _permit(27, R, S), calls=[_recover(VAULT)])
    assert list(det(v, _tx(first, 1, pending=False, sender=USER))) == []
    # the attacker sends the same permit again, with the malleated twin (s -> n - s, v flipped)
    again = call(ATTACKER, VAULT, PERMIT, _permit(28, R, SECP256K1_N - S), calls=[_recover(VAULT, v=28)])
    [f] = list(det(v, _tx(again, 2)))
    assert f.vuln_class is VulnClass.SIGNATURE_REPLAY and f.severity is Severity.CRITICAL
    assert f.action is Action.PAUSE and f.evidence["earlier_tx"] == "0x" + "01" * 32
    assert f.evidence["signatures"] and f.evidence["signers"] == [SIGNER]
    # the same transaction seen again (pending, then mined) is not a replay of itself
    assert list(det(v, _tx(first, 1, sender=USER))) == []


def test_compact_and_full_signatures_from_the_abi(view: ChainView) -> None:
    v = _typed(view)
    det = SignatureReplay()
    full = R.to_bytes(32, "big") + S.to_bytes(32, "big") + bytes([27])
    compact = R.to_bytes(32, "big") + (S | (1 << 255)).to_bytes(32, "big")  # EIP-2098, yParity 1
    outer = call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[
            call(
                ATTACK_CONTRACT,
                VAULT,
                CLAIM,
                encode(["uint256", "bytes"], [1, full]),
                calls=[_recover(VAULT)],
            ),
            call(
                ATTACK_CONTRACT,
                VAULT,
                CLAIM,
                encode(["uint256", "bytes"], [1, compact]),
                calls=[_recover(VAULT)],
            ),
        ],
    )
    [f] = list(det(v, _tx(outer, 3)))
    assert f.evidence["uses_in_tx"] == 2 and f.severity is Severity.CRITICAL
    # one typed 64-byte payload with no signature check below it is not a signature
    plain = call(USER, VAULT, CLAIM, encode(["uint256", "bytes"], [1, compact]))
    assert list(SignatureReplay()(v, _tx(call(ATTACKER, ATTACK_CONTRACT, calls=[plain, plain]), 4))) == []


def test_ecrecover_in_the_trace_without_any_abi(view: ChainView) -> None:
    """A token that spends a signer's balance for whoever brings the signature, in its own encoding."""
    det = SignatureReplay()
    odd = "spendFor(bytes32,uint256,address,bytes32,uint8)"  # no ABI, no recognisable shape

    def spend(sender: Address) -> dict[str, Any]:
        return call(
            sender, USD, odd, word(R) + word(5) + word(sender) + word(S) + word(27), calls=[_recover(USD)]
        )

    assert list(det(view, _tx(spend(USER), 5, pending=False, sender=USER))) == []
    [f] = list(det(view, _tx(spend(ATTACKER), 6)))
    assert f.contract == USD and f.evidence["digests"] == ["0x" + DIGEST.hex()]
    assert f.severity is Severity.CRITICAL
    # a fresh digest (the contract used a nonce) is no replay
    fresh = call(ATTACKER, USD, odd, b"", calls=[_recover(USD, digest=bytes([8]) * 32)])
    assert list(det(view, _tx(fresh, 7))) == []


def test_ecrecover_reuse_within_one_transaction_and_its_limits(view: ChainView) -> None:
    det = SignatureReplay()
    twice = call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[
            call(ATTACK_CONTRACT, VAULT, "take(uint256)", word(1), calls=[_recover(VAULT)]) for _ in range(2)
        ],
    )
    [f] = list(det(view, _tx(twice, 8)))
    assert f.evidence["uses_in_tx"] == 2
    # one call that checks the same signature twice (a view check, then the action) is one use
    once = call(ATTACKER, VAULT, "take(uint256)", word(1), calls=[_recover(VAULT), _recover(VAULT)])
    assert list(SignatureReplay()(view, _tx(once, 9))) == []
    # the sender's own signature is the sender acting: not someone else's authorisation reused
    own = call(
        SIGNER,
        ATTACK_CONTRACT,
        calls=[
            call(ATTACK_CONTRACT, VAULT, "take(uint256)", word(1), calls=[_recover(VAULT)]) for _ in range(2)
        ],
    )
    assert list(SignatureReplay()(view, _tx(own, 10, sender=SIGNER))) == []
    # checked from a view (STATICCALL) or in a reverted call: nothing consumed
    viewed = call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[
            call(ATTACK_CONTRACT, VAULT, "check(uint256)", word(1), typ="STATICCALL", calls=[_recover(VAULT)])
            for _ in range(2)
        ],
    )
    assert list(SignatureReplay()(view, _tx(viewed, 11))) == []


def test_reuse_seen_only_in_pending_transactions_is_a_medium_alert(view: ChainView) -> None:
    det = SignatureReplay()
    use = call(ATTACKER, VAULT, "take(uint256)", word(1), calls=[_recover(VAULT)])
    assert list(det(view, _tx(use, 12, sender=USER))) == []
    [f] = list(det(view, _tx(use, 13)))
    assert f.severity is Severity.MEDIUM and f.action is Action.ALERT and f.evidence["earlier_pending"]
    # a replacement of the first (same sender, same nonce) is the same transaction
    assert (
        list(
            det(view, replace(_tx(use, 14, sender=USER), tx=replace(_tx(use, 14).tx, sender=USER, nonce=12)))
        )
        == []
    )
    # once the first is mined, a later use of it is certain
    assert list(det(view, _tx(use, 12, pending=False, sender=USER))) == []
    [g] = list(det(view, _tx(use, 15)))
    assert g.severity is Severity.CRITICAL


def test_contract_info_abi_is_optional_and_the_curve_order_is_secp256k1s() -> None:
    assert ContractInfo("x", VAULT, "vault").abi == ()
    assert SECP256K1_N == SECPK1_N
