"""Front-runnable one-shot setup: only the deployer may run it.

A contract deployed in one transaction and configured in another (``initialize``/``configure``
guarded only by a one-shot flag or an unset owner) can be configured first by anyone watching the
mempool. For a contract that is not behind a proxy the sound fix is to let only the account that
deployed it run the setup: the deployer is recorded by the constructor (one is added when there is
none) in an ERC-7201 namespaced slot, so the storage layout is unchanged, and the setup function
checks it. Behind a proxy the constructor never runs in the proxy's context, so this template does
not apply there (the initializer templates do).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import CALLER, CallerChange, Edit, Localisation, PreimagePart
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.solast import Contract, Function
from bulwark.toolchain.solast import type_string

NAMESPACE = "bulwark.patch.Deployer"


def _constructor_edits(ctx: FixContext, contract: Contract, record: str) -> list[Edit] | None:
    ctor = next((f for f in contract.functions if f.kind == "constructor"), None)
    if ctor is not None:
        if ctor.body is None or not ctx.editable(ctor.body):
            return None
        return [ctx.body_start(ctor, record)]
    program = ctx.program
    if not program.at_least(0, 4, 22):
        return None  # constructors are named after the contract before 0.4.22: leave it alone
    header = "constructor()" if program.at_least(0, 7) else "constructor() public"
    return [ctx.contract_start(contract, f"{header} {{\n    {record}\n}}\n")]


class DeployerOnlySetupFix(FixTemplate):
    NAME = "setup-deployer-only"
    CLASSES = frozenset({VulnClass.FRONT_RUNNING, VulnClass.ACCESS_CONTROL})
    DESCRIPTION = "lets only the deploying account run a one-shot setup function"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        if not any(d in finding.detector for d in ("frontrunnable-setup", "unprotected-initializer")):
            return
        found = ctx.target(finding)
        if found is None:
            return
        contract, fn = found
        if contract.is_upgradeable or fn.contract.id != contract.id:
            return
        slot = hex(erc7201_slot(NAMESPACE))
        record = f"assembly {{ sstore({slot}, caller()) }}"
        ctor = _constructor_edits(ctx, contract, record)
        if ctor is None:
            return
        getter = (
            f"/// @dev Added by Bulwark: the account that deployed this contract (ERC-7201 namespace\n"
            f'///      "{NAMESPACE}"; storage layout unchanged).\n'
            "function _bulwarkDeployer() private view returns (address deployer) {\n"
            f"    assembly {{ deployer := sload({slot}) }}\n"
            "}\n"
        )
        yield self.candidate(
            finding,
            [
                *ctor,
                ctx.body_start(fn, 'require(msg.sender == _bulwarkDeployer(), "deployer only");'),
                ctx.contract_end(contract, getter),
            ],
            f"{fn.name} sets up {contract.name} once, for whoever calls it first, so anyone watching the "
            "mempool could run it before the team and take the contract over. The fix lets only the account "
            "that deployed the contract run it (recorded by the constructor in an ERC-7201 namespaced slot, "
            "so the storage layout is unchanged); its parameters and the one-shot check are unchanged.",
            preference=2,
        )


COMMIT_NAMESPACE = "bulwark.patch.Commitments"
COMMIT = "bulwarkCommit(bytes32)"
COMMIT_BLOCKS = 1  # the reveal must land at least this many blocks after the commitment
_ELEMENTARY = re.compile(r"^(address|bool|string|bytes\d*|u?int\d*)$")


def _packed_type(param: Mapping[str, Any]) -> str | None:
    """The ABI type ``param`` is packed as by abi.encodePacked (None: one a client cannot encode)."""
    ts = type_string(param)
    for suffix in (" storage ref", " storage pointer", " memory", " calldata", " payable"):
        ts = ts.replace(suffix, "")
    base, dims = (ts[: ts.index("[")], ts[ts.index("[") :]) if "[" in ts else (ts, "")
    if base.startswith("contract "):
        base = "address"
    elif base.startswith("enum "):
        base = "uint8"
    if not _ELEMENTARY.match(base) or dims.count("[") > 1 or (dims and base in ("string", "bytes")):
        return None
    return base + dims


def _preimage(fn: Function, secrets: Sequence[Mapping[str, Any]]) -> tuple[PreimagePart, ...] | None:
    params = [int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []]
    parts = [PreimagePart(CALLER, "address")]
    for p in secrets:
        typ = _packed_type(p)
        if typ is None:
            return None
        parts.append(PreimagePart(str(p["name"]), typ, params.index(int(p["id"]))))
    return tuple(parts)


def _commit_helpers(ctx: FixContext) -> str:
    slot = hex(erc7201_slot(COMMIT_NAMESPACE))
    return f"""
/// @notice Commit to an answer before revealing it, in an earlier block: pass
///         keccak256(abi.encodePacked(yourAddress, answer...)). Only the first commitment counts.
function bulwarkCommit(bytes32 commitment) external {{
    bytes32 slot = keccak256(abi.encode(commitment, uint256({slot})));
    assembly {{
        if iszero(sload(slot)) {{ sstore(slot, number()) }}
    }}
}}

/// @dev Added by Bulwark: was `commitment` made in an earlier block (ERC-7201 namespace
///      "{COMMIT_NAMESPACE}"; storage layout unchanged)?
function _bulwarkCommitted(bytes32 commitment) private view returns (bool) {{
    bytes32 slot = keccak256(abi.encode(commitment, uint256({slot})));
    uint256 at;
    assembly {{ at := sload(slot) }}
    return at != 0 && at < block.number;
}}
"""


class CommitRevealFix(FixTemplate):
    NAME = "commit-reveal"
    CLASSES = frozenset({VulnClass.FRONT_RUNNING})
    DESCRIPTION = "a rewarded answer must have been committed (hashed with the caller) in an earlier block"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        from bulwark.patch.locate.checks.revealed_answer import revealed_parameters

        if "revealed-answer" not in finding.detector:
            return
        program = ctx.program
        if not program.at_least(0, 4, 22):
            return  # abi.encodePacked and functional-style assembly
        found = ctx.target(finding)
        if found is None:
            return
        contract, fn = found
        secrets = revealed_parameters(program, fn)
        if not secrets:
            return
        names = [str(p.get("name") or "") for p in secrets]
        if not all(names):
            return
        preimage = _preimage(fn, secrets)
        if preimage is None:
            return  # a value no client could hash the way abi.encodePacked does
        packed = ", ".join(["msg.sender", *names])
        reason = ', "Bulwark: commit the answer first (bulwarkCommit)"'
        check = f"require(_bulwarkCommitted(keccak256(abi.encodePacked({packed}))){reason});"
        listed = ", ".join(names)
        change = CallerChange(
            contract=contract.name,
            function=fn.signature,
            first=COMMIT,
            preimage=preimage,
            blocks_before=COMMIT_BLOCKS,
            text=(
                f"call {COMMIT} with keccak256(abi.encodePacked(caller, {listed})) first, then "
                f"{fn.signature} from the same account at least {COMMIT_BLOCKS} block after the "
                "commit is mined"
            ),
        )
        yield self.candidate(
            finding,
            [ctx.body_start(fn, check), ctx.contract_end(contract, _commit_helpers(ctx))],
            f"{fn.name} in {contract.name} rewarded whoever first sent {listed}, a value the contract checks "
            "against a stored hash; once the rightful caller sent it, it was public in the mempool and a "
            "copy with a higher tip was mined first. The fix is a commit-reveal: the caller first commits "
            f"keccak256(abi.encodePacked(caller, {listed})) with bulwarkCommit(), which reveals nothing "
            f"and is bound to its address, then calls {fn.name} in a later block. A copier's commitment "
            f"comes too late. Callers must now make the extra commit call; {fn.name}'s ABI and the storage "
            "layout are unchanged (commitments live in an ERC-7201 namespaced slot). What remains: a "
            "committed caller who never reveals blocks nobody, but the answer is public after the reveal.",
            added_selectors=frozenset({COMMIT}),
            caller_changes=(change,),
        )


DELAY_NAMESPACE = "bulwark.patch.DelayedParameter"
DELAY_BLOCKS = 25  # five minutes of 12-second slots: a payment pending when the rate changes lands first


def _delay_helpers() -> str:
    slot = hex(erc7201_slot(DELAY_NAMESPACE))
    return f"""
/// @dev Added by Bulwark: a rate change is scheduled and takes effect {DELAY_BLOCKS} blocks later
///      (ERC-7201 namespace "{DELAY_NAMESPACE}"; storage layout unchanged).
function _bulwarkSchedule(bytes32 key, uint256 value) private {{
    bytes32 slot = keccak256(abi.encode(key, uint256({slot})));
    uint256 due = block.number + {DELAY_BLOCKS};
    assembly {{
        sstore(slot, value)
        sstore(add(slot, 1), due)
    }}
}}

/// @dev The scheduled value once it is due (and then no longer scheduled), else `current`.
function _bulwarkSettled(bytes32 key, uint256 current) private returns (uint256 value) {{
    bytes32 slot = keccak256(abi.encode(key, uint256({slot})));
    uint256 due;
    assembly {{ due := sload(add(slot, 1)) }}
    if (due == 0 || block.number < due) {{
        return current;
    }}
    assembly {{
        value := sload(slot)
        sstore(add(slot, 1), 0)
    }}
}}
"""


class DelayedRateFix(FixTemplate):
    NAME = "delayed-rate"
    CLASSES = frozenset({VulnClass.FRONT_RUNNING})
    DESCRIPTION = "a privileged rate change applies only to payments made some blocks after it"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        from bulwark.patch.locate.checks.reprice import guarded_setters, rate_reads, repriced_payments

        if "reprice-ahead" not in finding.detector or not ctx.program.at_least(0, 4, 22):
            return
        found = ctx.target(finding)
        if found is None:
            return
        contract, fn = found
        program = ctx.program
        setters = guarded_setters(program, contract)
        edits: list[Edit] = []
        names: list[str] = []
        for var in sorted({v for v, _ in repriced_payments(program, fn)}):
            name = program.name_of(var)
            key = f"bytes32(uint256({var}))"
            names.append(name)
            setter_ids = {s.id for s in setters[var]}
            for setter in setters[var]:
                if setter.body is None or not ctx.editable(setter.body):
                    return
                for stmt in program.nodes(setter.body, "ExpressionStatement"):
                    expr = stmt.get("expression") or {}
                    lhs = expr.get("leftHandSide") or {}
                    if expr.get("nodeType") != "Assignment" or lhs.get("referencedDeclaration") != var:
                        continue
                    if expr.get("operator") != "=":
                        return  # a relative change (+=): the scheduled value would go stale
                    value = ctx.node_text(expr.get("rightHandSide") or {})
                    edits.append(ctx.replace_statement(stmt, f"_bulwarkSchedule({key}, {value});"))
            # every other state-changing function that prices with it settles a due change first
            for other in contract.all_functions:
                if other.id in setter_ids or other.body is None or not other.mutates:
                    continue
                if other.kind == "constructor" or not ctx.editable(other.body):
                    continue
                if rate_reads(program, other, var):
                    edits.append(ctx.body_start(other, f"{name} = _bulwarkSettled({key}, {name});"))
        if not edits:
            return
        edits.append(ctx.contract_end(contract, _delay_helpers()))
        listed = ", ".join(names)
        yield self.candidate(
            finding,
            edits,
            f"{fn.name} in {contract.name} converted a payment at {listed}, which a privileged account can "
            "change whenever it likes, so it could change it ahead of a payment it saw pending and the "
            f"payer got the new rate. The fix schedules a change of {listed} to take effect {DELAY_BLOCKS} "
            "blocks (about five minutes) later: payments until then convert at the rate in force when "
            "they were sent (the schedule lives in an ERC-7201 namespaced slot, so the storage layout is "
            "unchanged). ABI unchanged; the public getter shows a new value once it is in force.",
        )
