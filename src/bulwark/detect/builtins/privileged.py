"""Unauthorised privileged call: a call that succeeds in changing privileged state (owner, roles,
oracle, implementation, fees, initialisation) made by an account holding no matching role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.evm import selector
from bulwark.detect.model import ChainView, ContractInfo, ProtocolModel, TxEvent
from bulwark.domain import Address, Confidence, Finding, Selector, Severity, VulnClass

# signature -> role names (as configured, lower case) allowed to call it; () = any role holder.
KNOWN: Mapping[str, tuple[str, ...]] = {
    "grantRole(bytes32,address)": ("admin",),
    "revokeRole(bytes32,address)": ("admin",),
    "transferOwnership(address)": ("owner", "admin"),
    "renounceOwnership()": ("owner", "admin"),
    "upgradeTo(address)": ("upgrader", "admin"),
    "upgradeToAndCall(address,bytes)": ("upgrader", "admin"),
    "setOracle(address)": ("admin",),
    "setPrice(address,uint256)": ("oracle", "feeder"),
    "setRiskParams(uint256,uint256)": ("admin",),
    "setRiskParams(uint256,uint256,uint256)": ("admin",),
    "setFee(uint256)": ("admin",),
    "setFeeBps(uint256)": ("admin",),
    "unpause()": ("admin",),
    "unpauseSelectors(bytes4[])": ("admin",),
    "initialize(address,address,address)": (),
    "initialize(address,address,uint256)": (),
    "initialize(address,address,address,address)": (),
    "initialize(address,address,address,address,address)": (),
    "initialize(address,string,string,address,address)": (),
}
KNOWN_SELECTORS: Mapping[Selector, tuple[str, tuple[str, ...]]] = {
    selector(sig): (sig, roles) for sig, roles in KNOWN.items()
}


class PrivilegedParams(Params):
    # Extra role names (lower case) that may call anything privileged, e.g. a timelock's role.
    superusers: tuple[str, ...] = Field(default=("admin", "timelock", "governance"))


class UnauthorisedPrivilegedCall(Detector):
    """A successful state-changing privileged call from an account that holds no matching role."""

    ABOUT = About("unauthorised-privileged-call", VulnClass.ACCESS_CONTROL, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.HIGH
    params: PrivilegedParams

    def setup(self) -> None:
        self._tables: tuple[object, dict[Address, dict[bytes, tuple[str, tuple[str, ...]]]]] = (None, {})

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.success:
            return ()
        if self._tables[0] is not view.protocol:  # derived once per protocol, not per transaction
            self._tables = (view.protocol, _privileged_tables(view.protocol))
        tables = self._tables[1]
        # Cheap exit (most transactions): no state-changing call of a privileged function.
        for step in event.calls():
            f = step.frame
            if f is None or step.reverted or f.to is None or f.type in _NOT_DIRECT:
                continue
            table = tables.get(f.to)
            if table is not None and f.input[:4] in table:
                return self._judge(view, event)
        return ()

    def _judge(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        p = self.params
        reported: set[tuple[Address, Selector]] = set()
        for step in event.calls():
            f = step.frame
            if f is None or step.reverted or f.type in _NOT_DIRECT:
                continue
            info = view.protocol.contracts.get(f.to) if f.to is not None else None
            sel = f.selector
            if info is None or sel is None:
                continue
            roles = privileged_signature(info, sel)
            if roles is None:
                continue
            signature, allowed = roles
            if self._authorised(view, f.sender, allowed, p):
                continue
            if not _changed_state(event, info.address):
                continue
            if (info.address, sel) in reported:
                continue
            reported.add((info.address, sel))
            yield self.finding(
                view,
                event,
                title=f"{signature} on {info.name} by {f.sender}, which holds no matching role",
                contract=info.address,
                function=sel,
                selectors=(sel,),
                evidence={"caller": f.sender, "function": signature, "roles_required": list(allowed)},
            )

    @staticmethod
    def _authorised(view: ChainView, caller: Address, allowed: tuple[str, ...], p: PrivilegedParams) -> bool:
        roles = {name.lower(): holders for name, holders in view.protocol.roles.items()}
        names = [n for n in roles if any(a in n for a in allowed + p.superusers)] if allowed else list(roles)
        if not names:  # no matching role configured: any configured role holder counts
            names = list(roles)
        return any(caller in roles[n] for n in names)


# Frames that change no state of their own (a delegate frame runs in its caller's call).
_NOT_DIRECT = frozenset({"STATICCALL", "DELEGATECALL", "CALLCODE"})


def _privileged_tables(protocol: ProtocolModel) -> dict[Address, dict[bytes, tuple[str, tuple[str, ...]]]]:
    """Per protected contract, calldata's first four bytes -> what :func:`privileged_signature`
    answers for that selector (the built-in ones and the contract's configured list)."""
    out: dict[Address, dict[bytes, tuple[str, tuple[str, ...]]]] = {}
    for address, info in protocol.contracts.items():
        table: dict[bytes, tuple[str, tuple[str, ...]]] = {}
        for sel in (*KNOWN_SELECTORS, *(_configured(info) if info.privileged else ())):
            found = privileged_signature(info, Selector(sel))
            try:
                raw = bytes.fromhex(sel[2:]) if len(sel) == 10 else b""
            except ValueError:  # not hex: no calldata's selector can equal it
                continue
            if found is not None and len(raw) == 4:
                table[raw] = found
        out[address] = table
    return out


def privileged_signature(info: ContractInfo, sel: Selector) -> tuple[str, tuple[str, ...]] | None:
    known = KNOWN_SELECTORS.get(sel)
    if known is not None:
        return known
    if not info.privileged:
        return None
    sig = _configured(info).get(sel)
    return (sig, ()) if sig is not None else None


_CONFIGURED: dict[int, tuple[ContractInfo, dict[str, str]]] = {}


def _configured(info: ContractInfo) -> dict[str, str]:
    """Selector -> entry of the contract's configured ``privileged`` list, resolved once per
    contract (hashing each entry on every call screened cost a keccak per call and entry)."""
    hit = _CONFIGURED.get(id(info))
    if hit is not None and hit[0] is info:
        return hit[1]
    table: dict[str, str] = {}
    for entry in info.privileged:
        if entry.startswith("0x"):
            table.setdefault(entry.lower(), entry)
        elif "(" in entry:
            table.setdefault(selector(entry), entry)
        else:
            for item in info.abi:
                if item.get("type") == "function" and item.get("name") == entry:
                    sig = f"{entry}({','.join(i['type'] for i in item.get('inputs', ()))})"
                    table.setdefault(selector(sig), sig)
    _CONFIGURED[id(info)] = (info, table)
    return table


def _changed_state(event: TxEvent, contract: Address) -> bool:
    # Without a state diff a successful frame is taken as a change. With one, an event from the
    # contract counts too: an attacker who restores a value before the end nets the diff to zero.
    if event.diff is None:
        return True
    if event.diff.storage.get(contract) or contract in event.diff.code_changed:
        return True
    return any(log.address == contract for log in event.logs)
