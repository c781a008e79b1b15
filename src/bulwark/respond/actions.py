"""Circuit-breaker actions, as values, and how each becomes one call on the BulwarkGuardian.

Every action restricts; none lifts (the guardian has no unpause, unblock or loosening path):

* ``pause``: whole components (``pause(target)``, or ``pauseMany(targets)`` for several at once);
* ``pause-selectors``: some functions of one component (``pauseSelectors(target, selectors)``);
* ``block-address``: accounts refused by a component's guarded functions
  (``blockAccounts(target, accounts)``; only governance unblocks);
* ``rate-limit``: stop a component's outflows of an asset (``tripOutflowLimit(target, asset)``),
  the ERC-7265-style limiter of the demo protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from bulwark.domain import Action, Address, Selector

__all__ = ["GuardianCall", "PlannedAction", "guardian_call"]

_SIGS = {
    "pause": "pause(address)",
    "pauseMany": "pauseMany(address[])",
    "pauseSelectors": "pauseSelectors(address,bytes4[])",
    "blockAccounts": "blockAccounts(address,address[])",
    "tripOutflowLimit": "tripOutflowLimit(address,address)",
}
_SELECTORS = {name: keccak(text=sig)[:4] for name, sig in _SIGS.items()}


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One restriction to apply. ``targets`` are protected components; ``selectors`` are for
    ``pause-selectors``, ``accounts`` for ``block-address``, ``asset`` for ``rate-limit``."""

    kind: Action
    targets: tuple[Address, ...]
    selectors: tuple[Selector, ...] = ()
    accounts: tuple[Address, ...] = ()
    asset: Address | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two actions the same (a second one would change nothing)."""
        return (
            self.kind.value,
            *sorted(t.lower() for t in self.targets),
            *sorted(self.selectors),
            *sorted(a.lower() for a in self.accounts),
            (self.asset or "").lower(),
        )

    def describe(self) -> str:
        where = ", ".join(self.targets)
        if self.kind is Action.PAUSE_SELECTORS:
            return f"pause {', '.join(self.selectors)} on {where}"
        if self.kind is Action.BLOCK_ADDRESS:
            return f"block {', '.join(self.accounts)} on {where}"
        if self.kind is Action.RATE_LIMIT:
            return f"trip the outflow limit of {self.asset} on {where}"
        return f"pause {where}"


@dataclass(frozen=True, slots=True)
class GuardianCall:
    function: str
    data: bytes


def guardian_call(action: PlannedAction) -> GuardianCall:
    """The guardian calldata for ``action`` (one transaction)."""
    if not action.targets:
        raise ValueError("an action needs at least one target")
    kind = action.kind
    if kind is Action.PAUSE:
        if len(action.targets) == 1:
            return _call("pause", ["address"], [action.targets[0]])
        return _call("pauseMany", ["address[]"], [list(action.targets)])
    (target,) = _one(action)
    if kind is Action.PAUSE_SELECTORS:
        if not action.selectors:
            raise ValueError("pause-selectors needs selectors")
        sels = [bytes.fromhex(s.removeprefix("0x")) for s in action.selectors]
        return _call("pauseSelectors", ["address", "bytes4[]"], [target, sels])
    if kind is Action.BLOCK_ADDRESS:
        if not action.accounts:
            raise ValueError("block-address needs accounts")
        return _call("blockAccounts", ["address", "address[]"], [target, list(action.accounts)])
    if kind is Action.RATE_LIMIT:
        if action.asset is None:
            raise ValueError("rate-limit needs an asset")
        return _call("tripOutflowLimit", ["address", "address"], [target, action.asset])
    raise ValueError(f"{kind.value} is not an on-chain action")


def _one(action: PlannedAction) -> tuple[Address]:
    if len(action.targets) != 1:
        raise ValueError(f"{action.kind.value} takes exactly one target")
    return (action.targets[0],)


def _call(name: str, types: list[str], args: list[object]) -> GuardianCall:
    return GuardianCall(name, _SELECTORS[name] + encode(types, args))
