"""Indicators: what one incident teaches other protocols, and how it is derived from the chain."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_utils.address import to_checksum_address

from bulwark.chain import ChainClient
from bulwark.chain.bytecode import create_address
from bulwark.domain import Address, VulnClass
from bulwark.intel.fingerprint import bytecode_fingerprint, code_hash

__all__ = [
    "AttackEvidence",
    "Indicator",
    "IndicatorKind",
    "VulnerableCode",
    "collect_evidence",
    "create_address",
    "derive_indicators",
]


class IndicatorKind(enum.StrEnum):
    ACCOUNT = "account"  # an attacker's EOA or contract address
    CODE_HASH = "code-hash"  # keccak of an exploit contract's runtime code, as deployed
    CODE_FINGERPRINT = "code-fingerprint"  # normalised runtime code (addresses/immutables/metadata out)
    CALL_PATTERN = "call-pattern"  # the ordered selectors the attack called on the victim
    VULNERABLE_CODE = "vulnerable-code"  # name-free AST shape of the flawed function


@dataclass(frozen=True, slots=True)
class Indicator:
    kind: IndicatorKind
    value: str  # address, 0x hash, or comma-joined 0x selectors for a call pattern
    valid_from: datetime
    valid_until: datetime
    vuln_class: VulnClass | None = None
    description: str = ""
    chain_id: int | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.valid_until

    @property
    def selectors(self) -> tuple[str, ...]:
        return tuple(self.value.split(",")) if self.kind is IndicatorKind.CALL_PATTERN else ()


@dataclass(frozen=True, slots=True)
class VulnerableCode:
    """What the patcher's localisation found, abstracted from names."""

    vuln_class: VulnClass
    fingerprint: str
    function_kind: str = "function"


@dataclass(frozen=True, slots=True)
class AttackEvidence:
    """The chain facts of one confirmed incident."""

    chain_id: int
    attackers: tuple[Address, ...]
    exploit_code: Mapping[Address, bytes] = field(default_factory=dict)  # deployed exploit contracts
    call_pattern: tuple[str, ...] = ()  # selectors called on the victim, in order, de-duplicated runs
    vuln_class: VulnClass | None = None
    vulnerable: tuple[VulnerableCode, ...] = ()


def derive_indicators(
    evidence: AttackEvidence, *, ttl: timedelta = timedelta(days=30), now: datetime | None = None
) -> list[Indicator]:
    start = (now or datetime.now(UTC)).replace(microsecond=0)
    end = start + ttl
    cls = evidence.vuln_class
    out: list[Indicator] = []

    def add(kind: IndicatorKind, value: str, why: str, vc: VulnClass | None = cls) -> None:
        ind = Indicator(kind, value, start, end, vc, why, evidence.chain_id)
        if all((i.kind, i.value) != (kind, value) for i in out):
            out.append(ind)

    for a in evidence.attackers:
        add(IndicatorKind.ACCOUNT, to_checksum_address(a), "attacker account")
    for addr, code in evidence.exploit_code.items():
        add(IndicatorKind.ACCOUNT, to_checksum_address(addr), "exploit contract")
        add(IndicatorKind.CODE_HASH, code_hash(code), "exploit contract runtime code")
        add(IndicatorKind.CODE_FINGERPRINT, bytecode_fingerprint(code), "exploit contract, normalised")
    if len(evidence.call_pattern) >= 2:
        add(IndicatorKind.CALL_PATTERN, ",".join(evidence.call_pattern), "selectors the attack called")
    for v in evidence.vulnerable:
        add(IndicatorKind.VULNERABLE_CODE, v.fingerprint, f"vulnerable {v.function_kind} shape", v.vuln_class)
    return out


def _calls_into(frame: Mapping[str, Any], victims: set[str], out: list[str]) -> None:
    to = str(frame.get("to") or "").lower()
    data = str(frame.get("input") or "0x")
    if to in victims and len(data) >= 10 and frame.get("type") in ("CALL", "DELEGATECALL", "CALLCODE"):
        sel = data[:10].lower()
        if not out or out[-1] != sel:
            out.append(sel)
    for child in frame.get("calls") or []:
        _calls_into(child, victims, out)


def _created_in(frame: Mapping[str, Any], out: list[str]) -> None:
    if frame.get("type") in ("CREATE", "CREATE2") and frame.get("to") and not frame.get("error"):
        out.append(str(frame["to"]))
    for child in frame.get("calls") or []:
        _created_in(child, out)


_MAX_NONCE_SCAN = 256


async def collect_evidence(
    client: ChainClient,
    attack_txs: Sequence[str],
    victims: Iterable[str],
    *,
    vuln_class: VulnClass | None = None,
    vulnerable: Sequence[VulnerableCode] = (),
) -> AttackEvidence:
    """Senders, exploit contracts (their runtime code) and the selectors called on ``victims``,
    read from the transactions, receipts and ``callTracer`` traces of the attack.

    An exploit contract is one the attack deployed (a creation transaction, or a CREATE/CREATE2
    frame in its trace), or the contract an attack transaction called when one of the attack's
    senders deployed it (its address is a CREATE address of the sender at an earlier nonce): a
    third-party router the attacker merely used is never published as an indicator."""
    victim_set = {v.lower() for v in victims}
    attackers: list[Address] = []
    created: list[str] = []
    pattern: list[str] = []
    called: list[tuple[str, int]] = []
    for h in attack_txs:
        tx = await client.request("eth_getTransactionByHash", [h])
        receipt = await client.request("eth_getTransactionReceipt", [h])
        if tx is None or receipt is None:
            continue
        sender = Address(to_checksum_address(tx["from"]))
        if sender not in attackers:
            attackers.append(sender)
        if receipt.get("contractAddress"):
            created.append(str(receipt["contractAddress"]))
        elif tx.get("to") and str(tx["to"]).lower() not in victim_set:
            called.append((str(tx["to"]), int(str(tx["nonce"]), 16)))
        trace = await client.request("debug_traceTransaction", [h, {"tracer": "callTracer"}])
        _calls_into(trace, victim_set, pattern)
        _created_in(trace, created)
    for to, nonce in called:
        if any(
            create_address(a, n).lower() == to.lower()
            for a in attackers
            for n in range(min(nonce, _MAX_NONCE_SCAN))
        ):
            created.append(to)
    code: dict[Address, bytes] = {}
    for addr in created:
        key = Address(to_checksum_address(addr))
        if key.lower() in victim_set or key in code:
            continue
        raw = str(await client.request("eth_getCode", [key, "latest"]))
        if len(raw) > 2:
            code[key] = bytes.fromhex(raw[2:])
    chain_id = await client.chain_id()
    return AttackEvidence(chain_id, tuple(attackers), code, tuple(pattern), vuln_class, tuple(vulnerable))
