"""Privileged state written by an account without the role: found in the storage diff, whatever the
function is called and whichever code ran (a ``delegatecall`` writes the caller's storage, so the
write shows in the protected contract's diff either way).

A slot is privileged when the contract's sources read it in an access check
(:mod:`bulwark.detect.codefacts`), when it is an EIP-1967 slot, or, with no sources, when it is a
plain slot that held the address of a configured role holder (an owner variable, by any name).
"""

from __future__ import annotations

from collections.abc import Iterable

from bulwark.detect.base import About, Detector
from bulwark.detect.model import ChainView, ContractInfo, TxEvent
from bulwark.detect.statediff import (
    EIP1967_SLOTS,
    PLAIN_SLOTS,
    entries,
    nested_entries,
    pad,
    touched,
    word_int,
)
from bulwark.domain import Address, Confidence, Finding, Severity, StateDiff, StorageChange, VulnClass


class PrivilegedStateWrite(Detector):
    """Owner, role, admin or implementation storage written by an account that holds no role."""

    ABOUT = About("privileged-state-write", VulnClass.ACCESS_CONTROL, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.HIGH

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        # Cheap exit as a plain return (no generator): most transactions carry no state diff.
        if not event.success or event.diff is None or event.tx.sender in view.protocol.role_holders:
            return ()
        return self._judge(view, event, event.diff)

    def _judge(self, view: ChainView, event: TxEvent, diff: StateDiff) -> Iterable[Finding]:
        proto = view.protocol
        holders = proto.role_holders
        addrs: frozenset[Address] | None = None
        words: frozenset[bytes] = frozenset()
        for contract, changes in diff.storage.items():
            info = proto.contracts.get(contract)
            if info is None:
                continue
            if any(
                s.frame is not None and s.frame.sender in holders and s.context == contract
                for s in event.calls()
            ):
                continue  # a role holder (e.g. the timelock) made the call into this contract
            found: list[tuple[str, int, int]] = []
            keyed: dict[int, str] = {}
            if info.privileged_maps:
                if addrs is None:
                    addrs, words = touched(event)
                keyed = _map_labels(info, addrs, words)
                if _gives_up_own_entry(info, changes, event.tx.sender, addrs, words):
                    continue  # a member of a role map handing over its own entry (a key rotation)
            for ch in changes:
                before, after = word_int(ch.before), word_int(ch.after)
                if before == after:
                    continue
                slot = int(ch.slot, 16)
                what = _classify(info, slot, before, holders, keyed)
                if what is None:
                    continue
                if slot < PLAIN_SLOTS and _holds(before, event.tx.sender):
                    continue  # the current owner handing over its own slot
                found.append((what, before, after))
            if not found:
                continue
            what = "; ".join(w for w, _, _ in found)
            yield self.finding(
                view,
                event,
                title=f"privileged state of {info.name} written by {event.tx.sender} (no role): {what}",
                contract=contract,
                evidence={
                    "sender": event.tx.sender,
                    "writes": [{"what": w, "before": hex(b), "after": hex(a)} for w, b, a in found],
                },
            )


def _gives_up_own_entry(
    info: ContractInfo,
    changes: Iterable[StorageChange],
    sender: Address,
    addrs: frozenset[Address],
    words: frozenset[bytes],
) -> bool:
    """Was the sender's own entry in a role map set before the transaction, and cleared or changed
    by it? The map form of an owner handing over its slot: the sender held the role on chain."""
    own = set(entries([sender], info.privileged_maps))
    own |= set(nested_entries([*words, *addrs], [sender], info.privileged_maps))
    return any(int(ch.slot, 16) in own and word_int(ch.before) != 0 for ch in changes)


def _holds(value: int, address: Address) -> bool:
    return pad(address)[12:] in value.to_bytes(32, "big")


def _classify(
    info: ContractInfo, slot: int, before: int, holders: frozenset[Address], keyed: dict[int, str]
) -> str | None:
    if slot in EIP1967_SLOTS:
        return EIP1967_SLOTS[slot]
    if slot in info.privileged_slots:
        return f"{info.slot_labels.get(slot, f'slot {slot}')} (read in an access check)"
    if slot in keyed:
        return keyed[slot]
    if slot < PLAIN_SLOTS and before:
        for h in holders:
            if _holds(before, h):
                return f"slot {slot} (held role holder {h})"
    return None


def _map_labels(info: ContractInfo, addrs: frozenset[Address], words: frozenset[bytes]) -> dict[int, str]:
    out: dict[int, str] = {}
    for slot, (a, b) in entries(addrs, info.privileged_maps).items():
        out[slot] = f"{info.slot_labels.get(b, f'map@{b}')}[{a}]"
    for slot, (k1, k2, b) in nested_entries([*words, *addrs], addrs, info.privileged_maps).items():
        k = k1 if isinstance(k1, str) else "0x" + k1.hex()
        out.setdefault(slot, f"{info.slot_labels.get(b, f'map@{b}')}[{k}][{k2}]")
    return out
