"""An account's balance inside a protected contract lowered by a transaction that account neither
sent nor called into, with no allowance of its spent and no ``Transfer`` from it: value taken
wherever it sits, even in a token that emits no events (read from the storage diff).

Balance entries are found through the layout's ``mapping(address => uint)`` bases, or, with no
sources, through a probe of the low slots (``keccak(pad(a) . k)`` for the transaction's addresses);
see :mod:`bulwark.detect.statediff`. Lending markets are left out: a liquidation lowers a
borrower's collateral by design.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bulwark.detect.base import About, Detector
from bulwark.detect.evm import checksum, transfer
from bulwark.detect.model import ChainView, TxEvent
from bulwark.detect.statediff import SMALL_BASES, entries, mapping_slot, nested_entries, touched, word_int
from bulwark.domain import Address, Confidence, Finding, Severity, StateDiff, VulnClass


class ForeignBalanceDebit(Detector):
    """A balance lowered in a protected contract by a transaction its owner neither sent nor allowed."""

    ABOUT = About("foreign-balance-debit", VulnClass.ACCESS_CONTROL, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.MEDIUM

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        # Cheap exit as a plain return (no generator): most transactions carry no state diff.
        if not event.success or event.tx.sender in view.protocol.role_holders:
            return ()
        pulls = _relayed_pulls(view, event)
        if pulls:
            relayed = self._relayed(view, event, pulls)
            return relayed if event.diff is None else [*relayed, *self._judge(view, event, event.diff)]
        if event.diff is None:
            return ()
        return self._judge(view, event, event.diff)

    def _relayed(self, view: ChainView, event: TxEvent, pulls: list[_Pull]) -> list[Finding]:
        return [
            self.finding(
                view,
                event,
                title=f"{spender} pulled {amount} of {token} from {owner} to {taker} in a transaction "
                f"{owner} neither sent, called into nor signed (an approval to {spender} spent "
                "for another)",
                contract=spender,
                evidence={
                    "owner": owner,
                    "sender": event.tx.sender,
                    "spender": spender,
                    "token": token,
                    "to": taker,
                    "amount": str(amount),
                },
            )
            for token, owner, taker, amount, spender in pulls
        ]

    def _judge(self, view: ChainView, event: TxEvent, diff: StateDiff) -> Iterable[Finding]:
        proto = view.protocol
        addrs: frozenset[Address] | None = None
        for contract, changes in diff.storage.items():
            info = proto.contracts.get(contract)
            if info is None or info.kind == "lending":
                continue
            lowered = {
                int(ch.slot, 16): word_int(ch.before) - word_int(ch.after)
                for ch in changes
                if word_int(ch.before) > word_int(ch.after)
            }
            if not lowered:
                continue
            if addrs is None:
                addrs, _ = touched(event)
            balances = info.balance_maps if info.has_layout else SMALL_BASES
            owners = {slot: key for slot, key in entries(addrs, balances).items() if slot in lowered}
            if not owners:
                continue
            # Who acted in this contract: callers into it, and owners whose allowance was spent.
            callers = {s.frame.sender for s in event.calls() if s.frame is not None and s.context == contract}
            allowed_bases = info.allowance_maps if info.has_layout else SMALL_BASES
            spent = {
                k1
                for slot, (k1, _, _) in nested_entries(addrs, addrs, allowed_bases).items()
                if slot in lowered
            }
            sent = {t[1] for lg in event.logs if (t := transfer(lg)) is not None and t[0] == contract}
            signed = _recovered(event, contract)  # a signature's reuse is signature-replay's call
            read = (event.reads or {}).get(contract, {})
            actors = callers | {event.tx.sender}
            for slot, (owner, base) in owners.items():
                if owner == event.tx.sender or owner in callers | spent | sent | signed:
                    continue
                if _delegated(read, owner, actors, {*balances, *allowed_bases, *SMALL_BASES}):
                    continue
                amount = lowered[slot]
                label = info.slot_labels.get(base, f"mapping at slot {base}")
                yield self.finding(
                    view,
                    event,
                    title=f"{label}[{owner}] in {info.name} lowered by {amount} in a transaction "
                    f"{owner} neither sent nor allowed",
                    contract=contract,
                    evidence={
                        "owner": owner,
                        "sender": event.tx.sender,
                        "amount": str(amount),
                        "slot": hex(slot),
                        "mapping_slot": base,
                    },
                )


_ECRECOVER = checksum("0x" + "00" * 19 + "01")
_TRANSFER_FROM = bytes.fromhex("23b872dd")  # transferFrom(address,address,uint256)

# (token, owner, recipient, amount, spender) of an allowance pull relayed for someone else
_Pull = tuple[Address, Address, Address, int, Address]


def _relayed_pulls(view: ChainView, event: TxEvent) -> list[_Pull]:
    """``transferFrom(owner, to, amount)`` calls a protected contract made to a token, delivering
    the owner's tokens to the transaction's sender (or to the sender's own entry contract), when
    the owner neither sent the transaction, called anything in it, nor signed for it.

    The owner's allowance was given to the protected contract (a router, a batcher, a zap), not to
    whoever steers it: a contract that relays arbitrary calls, or pulls from a caller-chosen
    address, spends it for anyone. A spender that calls the token itself is the owner's own choice
    and is left to the token's rules; pulls into the protocol (deposits for someone) are not
    deliveries to the sender. Read from the call tree alone: the token's Transfer log leaves the
    state diff unasked."""
    proto = view.protocol
    sender = event.tx.sender
    entry = event.tx.to
    takers = {sender} if entry is None or proto.is_protected(entry) else {sender, entry}
    out: list[_Pull] = []
    actors: set[Address] | None = None
    for step in event.calls():
        f = step.frame
        if (
            f is None
            or step.reverted
            or f.to is None
            or len(f.input) != 100
            or f.input[:4] != _TRANSFER_FROM
            or f.type != "CALL"
        ):
            continue
        spender = f.sender
        if spender in takers or not proto.is_protected(spender):
            continue
        owner = checksum("0x" + f.input[16:36].hex())
        taker = checksum("0x" + f.input[48:68].hex())
        amount = int.from_bytes(f.input[68:100], "big")
        if taker not in takers or owner in takers or not amount:
            continue
        if actors is None:
            actors = {s.frame.sender for s in event.calls() if s.frame is not None} | _signers(event)
        if owner not in actors:
            out.append((f.to, owner, taker, amount, spender))
    return out


def _signers(event: TxEvent) -> set[Address]:
    """Every address the ecrecover precompile returned in the transaction, whoever asked."""
    return {
        checksum("0x" + s.frame.output[12:].hex())
        for s in event.calls()
        if s.frame is not None and not s.reverted and s.frame.to == _ECRECOVER and len(s.frame.output) == 32
    }


def _recovered(event: TxEvent, contract: Address) -> set[Address]:
    """Signers the contract recovered with the ecrecover precompile during the transaction."""
    out: set[Address] = set()
    for s in event.calls():
        f = s.frame
        if (
            f is not None
            and not s.reverted
            and f.to == _ECRECOVER
            and f.sender == contract
            and len(f.output) == 32
        ):
            out.add(checksum("0x" + f.output[12:].hex()))
    return out


def _delegated(read: Mapping[int, int], owner: Address, actors: set[Address], bases: set[int]) -> bool:
    """The transaction read, under the owner's key, a stored value naming one of its actors (an
    operator or delegate the owner appointed)."""
    if not read:
        return False
    named = {int(a, 16) for a in actors}
    return any(read.get(mapping_slot(owner, b)) in named for b in bases)
