"""Denial of service by a failing payment: pay if the recipient accepts, else credit it (pull payment).

A payment whose failure reverts the whole function lets one recipient that refuses ether (a
contract without a payable fallback, or one that reverts on purpose) block everyone else: a
payout loop stops for all members, a throne can no longer change hands. The fix keeps paying in
the same call when the recipient accepts, with the same gas the original gave it; when the
recipient refuses, the amount is credited to it instead of reverting, and it can collect it later
with ``bulwarkWithdrawPending()``. The credits live in an ERC-7201 namespaced slot, so the storage
layout is unchanged; the one function added is the withdrawal half of the pull payment.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.dos import blocking_payments
from bulwark.patch.solast import Function, Node, call_target, callee_name

NAMESPACE = "bulwark.patch.PendingPayments"
WITHDRAW = "bulwarkWithdrawPending()"


def pull_payment_helpers(ctx: FixContext, with_call: bool = True) -> str:
    """The credit/withdraw helpers (the same text for every template, so combined fixes share one copy)."""
    program = ctx.program
    slot = hex(erc7201_slot(NAMESPACE))
    payable = "address payable" if program.at_least(0, 5) else "address"
    sender = "msg.sender"
    if program.at_least(0, 5):
        call_stmt = (
            '(bool ok, ) = to.call{value: amount}("");'
            if program.at_least(0, 6, 2)
            else ('(bool ok, ) = to.call.value(amount)("");')
        )
        send_back = (
            f'(bool sent, ) = {sender}.call{{value: amount}}("");'
            if program.at_least(0, 6, 2)
            else f'(bool sent, ) = {sender}.call.value(amount)("");'
        )
    else:
        call_stmt = "bool ok = to.call.value(amount)();"
        send_back = f"bool sent = {sender}.call.value(amount)();"
    out = f"""
/// @dev Added by Bulwark: pending payments of recipients that refused a push payment, kept in the
///      ERC-7201 namespace "{NAMESPACE}" (storage layout unchanged).
function _bulwarkCredit(address to, uint256 amount) private {{
    bytes32 slot = keccak256(abi.encode(to, uint256({slot})));
    uint256 pending;
    assembly {{ pending := sload(slot) }}
    pending += amount;
    require(pending >= amount);
    assembly {{ sstore(slot, pending) }}
}}

/// @dev Added by Bulwark: pays like `send` (2300 gas) and credits the recipient when it refuses.
function _bulwarkSendOrCredit({payable} to, uint256 amount) private returns (bool) {{
    if (!to.send(amount)) {{
        _bulwarkCredit(to, amount);
    }}
    return true;
}}

/// @notice Collect payments credited to you because you refused them when they were pushed.
function bulwarkWithdrawPending() external {{
    bytes32 slot = keccak256(abi.encode({sender}, uint256({slot})));
    uint256 amount;
    assembly {{ amount := sload(slot) }}
    require(amount > 0);
    assembly {{ sstore(slot, 0) }}
    {send_back}
    require(sent);
}}
"""
    if with_call:
        ret = "(bool, bytes memory)" if program.at_least(0, 5) else "(bool)"
        done = 'return (true, "");' if program.at_least(0, 5) else "return true;"
        out += f"""
/// @dev Added by Bulwark: pays like the original call (all gas) and credits the recipient when it
///      refuses, so one refusing recipient cannot make the caller revert.
function _bulwarkCallOrCredit({payable} to, uint256 amount) private returns {ret} {{
    {call_stmt}
    if (!ok) {{
        _bulwarkCredit(to, amount);
    }}
    {done}
}}
"""
    return out


def _recipient(ctx: FixContext, node: Node) -> str:
    text = ctx.node_text(node)
    program = ctx.program
    if program.at_least(0, 6) and not str(node.get("typeDescriptions", {}).get("typeString", "")).endswith(
        "payable"
    ):
        return f"payable({text})"
    if program.at_least(0, 5) and not str(node.get("typeDescriptions", {}).get("typeString", "")).endswith(
        "payable"
    ):
        return f"address(uint160({text}))"
    return text


class PullPaymentFix(FixTemplate):
    NAME = "pay-or-credit"
    CLASSES = frozenset({VulnClass.DOS})
    DESCRIPTION = "a refused payment is credited for later withdrawal instead of reverting the function"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        found = ctx.target(finding)
        if found is None:
            return
        contract, fn = found
        edits = pay_or_credit_edits(ctx, fn)
        if not edits:
            return
        # the same helpers whatever was rewritten, so two such fixes combine into one copy
        edits.append(ctx.contract_end(contract, pull_payment_helpers(ctx)))
        yield self.candidate(
            finding,
            edits,
            f"{fn.name} in {contract.name} reverted whenever one recipient refused its payment, so a single "
            "recipient contract that rejects ether could block the function for everyone. The fix still "
            "pays every recipient that accepts, in the same call and with the same gas; a refused payment "
            "is credited to its recipient, who can collect it with bulwarkWithdrawPending(), instead of "
            "reverting. Credits live in an ERC-7201 namespaced slot, so no storage variable moves.",
            added_selectors=frozenset({WITHDRAW}),
        )


def pay_or_credit_edits(ctx: FixContext, fn: Function) -> list[Edit] | None:
    """Each blocking payment of ``fn`` rewritten to pay or credit (helpers not included); None when
    one of them cannot be rewritten."""
    edits: list[Edit] = []
    for call in blocking_payments(ctx.program, fn):
        target = call_target(call) or {}
        recipient = _recipient(ctx, target.get("expression") or {})
        if callee_name(call) in ("transfer", "send"):
            amount = ctx.node_text((call.get("arguments") or [{}])[0])
            edits.append(ctx.replace(call, f"_bulwarkSendOrCredit({recipient}, {amount})"))
        else:
            value = _value_of(ctx, call)
            if value is None:
                return None
            edits.append(ctx.replace(call, f"_bulwarkCallOrCredit({recipient}, {value})"))
    return edits


def _value_of(ctx: FixContext, call: Node) -> str | None:
    """``v`` in ``x.call{value: v}("")`` / ``x.call.value(v)("")`` when the call sends no data."""
    args = call.get("arguments") or []
    if len(args) > 1 or (args and ctx.node_text(args[0]).strip() not in ('""', "''", "")):
        return None
    expr = call.get("expression") or {}
    if expr.get("nodeType") == "FunctionCallOptions":
        names = list(expr.get("names") or [])
        options = expr.get("options") or []
        if names != ["value"]:
            return None
        return ctx.node_text(options[0])
    if expr.get("nodeType") == "FunctionCall":
        inner = expr.get("arguments") or []
        if (expr.get("expression") or {}).get("memberName") == "value" and len(inner) == 1:
            return ctx.node_text(inner[0])
    return None


class BoundedGrowthFix(FixTemplate):
    NAME = "bounded-growth"
    CLASSES = frozenset({VulnClass.DOS})
    DESCRIPTION = "caps a caller-growable array so every loop over it still fits in a block"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        from bulwark.patch.locate.checks.unbounded_loop import (
            LOOP_GAS_BUDGET,
            growable_loops,
            growth_sites,
            iteration_gas,
        )

        if "unbounded-loop" not in finding.detector:
            return
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None:
            return
        # per array: the dearest loop over it sets the cap
        cost: dict[int, int] = {}
        for _, loop, array in growable_loops(program, contract):
            cost[array] = max(cost.get(array, 0), iteration_gas(program, loop))
        edits: list[Edit] = []
        caps: list[str] = []
        for array, per_item in sorted(cost.items()):
            cap = max(16, LOOP_GAS_BUDGET // per_item)
            name = program.name_of(array)
            reason = ctx.reason(f"{name} is full")
            for _, stmt in growth_sites(program, contract, array):
                # an unbraced ``if (full) list.length += 1;`` gets braces around the check and it
                edits.append(ctx.insert_before(stmt, f"require({name}.length < {cap}{reason});"))
            caps.append(f"{name} at {cap} entries (about {per_item:,} gas per iteration)")
        if not edits:
            return
        yield self.candidate(
            finding,
            edits,
            f"Anyone could grow the array a loop in {contract.name} walks over, so a few hundred cheap "
            "entries made that loop cost more gas than a block holds and blocked it for everyone. The fix "
            f"caps {'; '.join(caps)}, so the loop always fits in {LOOP_GAS_BUDGET:,} gas. What remains: once "
            "full, new entries are refused until the contract removes some; a paginated loop would lift "
            "that but changes the function's interface. ABI and storage layout are unchanged.",
        )


class SkipBadEntryFix(FixTemplate):
    NAME = "skip-bad-entry"
    CLASSES = frozenset({VulnClass.DOS})
    DESCRIPTION = "a batch skips an entry that fails its check instead of reverting for everyone"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        from bulwark.patch.locate.checks.batch_require import element_requires

        if "batch-element-require" not in finding.detector:
            return
        program = ctx.program
        found = ctx.target(finding)
        if found is None:
            return
        contract, fn = found
        edits: list[Edit] = []
        for stmt in element_requires(program, fn):
            cond = ((stmt.get("expression") or {}).get("arguments") or [{}])[0]
            edits.append(ctx.replace_statement(stmt, f"if (!({ctx.node_text(cond)})) continue;"))
        if not edits:
            return
        # a refusing recipient in the same batch is the other way one entry stops it: fix both
        paying = pay_or_credit_edits(ctx, fn) or []
        if paying:
            edits += [*paying, ctx.contract_end(contract, pull_payment_helpers(ctx))]
        yield self.candidate(
            finding,
            edits,
            f"{fn.name} in {contract.name} required every entry of a list anyone can append to to pass a "
            "check, so one entry queued to fail it reverted the whole batch every time and blocked the "
            "entries behind it. The fix skips an entry that fails the check and goes on with the rest; "
            "entries that pass are processed exactly as before. ABI and storage layout are unchanged."
            + (
                " A payment its recipient refuses is credited for bulwarkWithdrawPending() too."
                if paying
                else ""
            ),
            added_selectors=frozenset({WITHDRAW}) if paying else frozenset(),
            preference=1,
        )
