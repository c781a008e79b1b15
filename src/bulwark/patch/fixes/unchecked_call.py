"""Unchecked results: revert when a low-level call or a token transfer fails.

Tokens go through a SafeERC20-style call that accepts both a ``true`` result and no result at
all (USDT-style tokens) but rejects ``false`` and calls to addresses without code. When the
contract already uses OpenZeppelin's SafeERC20, its ``safe*`` function is used instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.edit import EditConflict, check_disjoint
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.fixes.dos import WITHDRAW, pull_payment_helpers
from bulwark.patch.locate.checks.unchecked_call import check_unchecked_calls, wraps_low_level
from bulwark.patch.solast import (
    Contract,
    Node,
    Program,
    assigned_targets,
    base_variable,
    call_target,
    callee_name,
    src,
    type_string,
    walk,
)

_SELECTORS = {"transfer": "0xa9059cbb", "transferFrom": "0x23b872dd", "approve": "0x095ea7b3"}
_SAFE_NAMES = {"transfer": "safeTransfer", "transferFrom": "safeTransferFrom", "approve": "forceApprove"}


def _statement_at(ctx: FixContext, finding: Localisation) -> Node | None:
    contract = ctx.program.contract(finding.contract)
    if contract is None or finding.start is None:
        return None
    for fn in [*contract.functions, *contract.modifiers]:
        for n in walk(fn.body):
            if (
                n.get("nodeType") == "ExpressionStatement"
                and src(n).start <= finding.start < src(n).end
                and (n.get("expression") or {}).get("nodeType") == "FunctionCall"
            ):
                return n
    return None


def _token_helper(ctx: FixContext) -> str:
    modern = ctx.program.at_least(0, 5)
    call = "(bool ok, ) = token.call(data);" if modern else "bool ok = token.call(data);"
    return f"""
/// @dev Added by Bulwark: a token call that succeeds only if the token returned true or nothing
///      (tokens that predate the final ERC-20 text) and the token address holds code.
function _bulwarkCallToken(address token, bytes memory data) private {{
    {call}
    bool good;
    assembly {{
        switch returndatasize()
        case 0 {{ good := gt(extcodesize(token), 0) }}
        case 32 {{
            returndatacopy(0, 0, 32)
            good := iszero(iszero(mload(0)))
        }}
        default {{ good := 0 }}
    }}
    require(ok && good, "token call failed");
}}
"""


def _uses_safe_erc20(contract: Contract, base_type: str) -> bool:
    for c in contract.linearized:
        for u in c.own("UsingForDirective"):
            lib = str((u.get("libraryName") or {}).get("name") or "")
            target = type_string(u.get("typeName") or {})
            if lib.rsplit(".", maxsplit=1)[-1] == "SafeERC20" and (not target or target == base_type):
                return True
    return False


class UncheckedCallFix(FixTemplate):
    NAME = "check-call-result"
    CLASSES = frozenset({VulnClass.UNCHECKED_RETURN})
    DESCRIPTION = "reverts when a low-level call, send or token transfer reports failure"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        """Candidates for the located call; where the same function drops the result of other calls
        too (a payout that sends to the player, then to the last creditor), the first of those
        ranks first with each of the others fixed its own default way (one finding is kept per
        function, and fixing only its call would leave the others open)."""
        own = list(self._propose_one(ctx, finding))
        extra: list[Edit] = []
        for sibling in _siblings(ctx, finding):
            first = next(iter(self._propose_one(ctx, sibling)), None)
            if first is None:
                continue
            try:
                check_disjoint(dict.fromkeys([*extra, *first.edits]))
            except EditConflict:
                continue
            extra.extend(first.edits)
        for rank, cand in enumerate(own):
            if extra and rank == 0:
                edits = tuple(dict.fromkeys([*cand.edits, *extra]))
                try:
                    check_disjoint(edits)
                except EditConflict:
                    pass
                else:
                    yield replace(
                        cand,
                        edits=edits,
                        rationale=cand.rationale + " The other calls in the function whose result was "
                        "dropped are fixed the same way each of them would be on its own.",
                        preference=cand.preference + 0.5,
                    )
            yield cand

    def _propose_one(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        stmt = _statement_at(ctx, finding)
        contract = ctx.program.contract(finding.contract)
        if contract is not None and stmt is None:
            kept = _declaration_at(ctx, finding)
            if kept is not None and ctx.editable(kept):
                yield from self._kept_flag(ctx, contract, finding, kept)
            return
        if stmt is None or contract is None or not ctx.editable(stmt):
            return
        call = stmt["expression"]
        name = callee_name(call)
        target = call_target(call)
        if target is None and wraps_low_level(ctx.program, contract, call):
            target = {}  # an internal helper returning a send's flag: checked like the send itself
        if target is None:
            return
        base = target.get("expression") or {}
        base_type = type_string(base)
        if name in ("transfer", "transferFrom", "approve") and not base_type.startswith("address"):
            yield from self._token(ctx, contract, finding, stmt, call, target, name, base_type)
            return
        in_loop = _in_loop_context(ctx, contract, stmt)
        require = self._require(ctx, finding, stmt, call, name, in_loop)
        record = self._record(ctx, contract, finding, stmt, call, target, name, in_loop)
        # the surrounding code decides: a batch (a loop over recipients) records a failure and goes
        # on to the next one; a single call whose success the function relies on reverts
        if in_loop:
            undo = self._undo(ctx, finding, stmt, call, name) or self._on_success(
                ctx, contract, finding, stmt, call, name
            )
            if undo is not None:
                yield undo
            if record is not None:
                yield record
            yield require
        else:
            yield require
            if record is not None:
                yield record

    def _kept_flag(
        self, ctx: FixContext, contract: Contract, finding: Localisation, stmt: Node
    ) -> Iterator[Candidate]:
        """The call's success is kept in a local and only logged: the function was written to go on
        when the payment fails, so the failed amount must stay owed (the bookkeeping that recorded
        the payment is put back, else the amount is credited for withdrawal); reverting, which
        would hold up everything else the function does (a round closing, a batch), ranks last."""
        program = ctx.program
        call = stmt["initialValue"]
        target = call_target(call) or {}
        base = target.get("expression") or {}
        name = callee_name(call)
        flag = str((stmt.get("declarations") or [{}])[0].get("name") or "")
        if not flag:
            return
        in_loop = _in_loop_context(ctx, contract, stmt)
        block = _enclosing_block(program, stmt)
        statements = (block or {}).get("statements") or []
        at = next((i for i, x in enumerate(statements) if x is stmt), None)
        why = (
            f"The result of .{name} in {finding.function} was kept in `{flag}` but never tested (only "
            "logged), so when the payment failed the books still said it was made and the amount was lost."
        )
        if at is not None:
            # in a loop every write of the iteration is that element's; elsewhere only what is booked
            # against the recipient (its owed amount, its paid mark) belongs to the payment
            keyed = None if in_loop else _plain(ctx.node_text(base))
            restore = _restorable(ctx, statements[:at], keyed)
            if restore:
                edits = [ctx.insert_before(w, f"{t} {v} = {ctx.node_text(lhs)};") for w, lhs, t, v in restore]
                undo = " ".join(f"{ctx.node_text(lhs)} = {v};" for _, lhs, _, v in reversed(restore))
                edits.append(ctx.insert_after(stmt, f"if (!{flag}) {{ {undo} }}"))
                names = ", ".join(dict.fromkeys(ctx.node_text(lhs) for _, lhs, _, _ in restore))
                yield self.candidate(
                    finding,
                    edits,
                    f"{why} The function carries on whatever the outcome, so the fix puts back what "
                    f"booked the payment ({names}) when it fails: the amount stays owed and the rest of "
                    "the function runs as before. ABI and storage layout are unchanged.",
                    preference=2.0,
                )
        value = (call.get("arguments") or [None])[0] if name == "send" else _call_value(call)
        if value is not None and _pure(base) and _pure(value):
            credit = f"_bulwarkCredit(address({ctx.node_text(base)}), {ctx.node_text(value)});"
            yield self.candidate(
                finding,
                [
                    ctx.insert_after(stmt, f"if (!{flag}) {{ {credit} }}"),
                    ctx.contract_end(contract, pull_payment_helpers(ctx)),
                ],
                f"{why} The fix credits a failed payment to its recipient, who collects it with "
                "bulwarkWithdrawPending() (an ERC-7201 namespaced slot: no storage variable moves).",
                added_selectors=frozenset({WITHDRAW}),
                preference=1.0,
            )
        yield self.candidate(
            finding,
            [ctx.insert_after(stmt, f"require({flag});")],
            f"{why} The fix reverts when the call fails; it ranks last, since the function was written "
            "to go on after a failed payment.",
            preference=-1.0,
        )

    def _require(
        self, ctx: FixContext, finding: Localisation, stmt: Node, call: Node, name: str | None, in_loop: bool
    ) -> Candidate:
        expr = ctx.node_text(call)
        if type_string(call) == "bool":  # send, a call before 0.5, a helper returning one
            fix = f"require({expr});"
            edits = [
                ctx.replace(stmt, fix)
                if _stmt_has_semicolon(ctx, stmt)
                else ctx.replace(call, f"require({expr})")
            ]
        else:
            var = f"bulwarkOk{src(stmt).start}"
            edits = [ctx.replace(call, f'(bool {var}, ) = {expr}; require({var}, "call failed")')]
        why = (
            "It sits in a loop, so one failing recipient now stops the whole batch: ranked below recording."
            if in_loop
            else "Nothing around it handles the failure, so the function relies on the call succeeding."
        )
        return self.candidate(
            finding,
            edits,
            f"The result of .{name} in {finding.function} was ignored, so a failed transfer of value let the "
            f"function carry on as if it had succeeded. The fix reverts when the call fails. {why}",
            preference=-1.0 if in_loop else 0.0,
        )

    def _undo(
        self, ctx: FixContext, finding: Localisation, stmt: Node, call: Node, name: str | None
    ) -> Candidate | None:
        """Leave the failed element owed and go on: the bookkeeping this iteration did just before
        the call (``paid[m] = true``, ``owed[p] = 0``, ``total += x``) is put back when it fails."""
        program = ctx.program
        block = _enclosing_block(program, stmt)
        if block is None:
            return None
        statements = block.get("statements") or []
        writes = []
        for earlier in statements[: next(i for i, x in enumerate(statements) if x is stmt)]:
            expr = earlier.get("expression") or {}
            if earlier.get("nodeType") != "ExpressionStatement" or not assigned_targets(expr):
                continue
            for lhs in assigned_targets(expr):
                if _stored(program, lhs):
                    writes.append((earlier, dict(lhs)))
        if not writes:
            return None
        edits: list[Edit] = []
        restores: list[str] = []
        for earlier, lhs in writes:
            declared = _value_type(type_string(lhs))
            if declared is None or not _pure(lhs):
                return None
            var = f"bulwarkWas{src(lhs).start}"
            edits.append(ctx.insert_before(earlier, f"{declared} {var} = {ctx.node_text(lhs)};"))
            restores.append(f"{ctx.node_text(lhs)} = {var};")
        expr = ctx.node_text(call)
        undo = " ".join(reversed(restores))
        if type_string(call) == "bool":
            fix = f"if (!{expr}) {{ {undo} }}"
        else:
            ok = f"bulwarkOk{src(stmt).start}"
            fix = f"{{ (bool {ok}, ) = {expr}; if (!{ok}) {{ {undo} }} }}"
        edits.append(ctx.replace_statement(stmt, fix))
        names = ", ".join(dict.fromkeys(ctx.node_text(lhs) for _, lhs in writes))
        return self.candidate(
            finding,
            edits,
            f"The result of .{name} in {finding.function} was ignored, so when it failed the element was "
            f"booked as done ({names}) although nothing was paid, and the amount was lost. It runs once per "
            "element of a batch, so one failure must not stop the others: the fix puts that element's "
            "bookkeeping back when the call fails (it stays owed, and a later run pays it) and carries on "
            "with the rest. Calls that succeed behave exactly as before; ABI and storage are unchanged.",
            preference=2.0,
        )

    def _on_success(
        self,
        ctx: FixContext,
        contract: Contract,
        finding: Localisation,
        stmt: Node,
        call: Node,
        name: str | None,
    ) -> Candidate | None:
        """Leave the failed element owed and go on, when the iteration books the payment after the
        call (``investors[i].amount = 0; totalPaid += due;``): that bookkeeping runs only when the
        call succeeds. Not when it also moves the loop on (``next++`` in a ``while``): it would spin."""
        program = ctx.program
        block = _enclosing_block(program, stmt)
        statements = (block or {}).get("statements") or []
        at = next((i for i, x in enumerate(statements) if x is stmt), None)
        if block is None or at is None or not statements[at + 1 :]:
            return None
        rest = statements[at + 1 :]
        loop = next(
            (
                n
                for f in contract.all_functions
                for n in program.nodes(f.body)
                if n.get("nodeType") in _LOOPS and n.get("body") is block
            ),
            None,
        )
        progress = {
            x.get("referencedDeclaration")
            for x in walk((loop or {}).get("condition") or {})
            if x.get("nodeType") == "Identifier"
        }
        booked = False
        for later in rest:
            if later.get("nodeType") == "EmitStatement":
                continue
            expr = later.get("expression") or {}
            targets = assigned_targets(expr)
            if later.get("nodeType") != "ExpressionStatement" or (
                not targets and not _is_event(program, expr)
            ):
                return None  # control flow, calls, declarations: not plain bookkeeping
            for t in targets:
                # a counter the condition reads (next++), not an element of a list it measures
                moves = t.get("nodeType") == "Identifier" and t.get("referencedDeclaration") in progress
                if not _stored(program, t) or moves:
                    return None
                booked = True
        if not booked:
            return None
        st = ctx.text(stmt)
        end = src(rest[-1]).end
        end = end + 1 if st.slice(end, end + 1) == ";" else end
        expr = ctx.node_text(call)
        if type_string(call) == "bool":
            head = f"if ({expr}) {{"
        else:
            ok = f"bulwarkOk{src(stmt).start}"
            head = f"(bool {ok}, ) = {expr}; if ({ok}) {{"
        indent, unit = st.indent_at(src(stmt).start), st.unit()
        lines = st.slice(src(rest[0]).start, end).splitlines()
        body = "\n".join([indent + unit + lines[0], *((unit + ln) if ln.strip() else ln for ln in lines[1:])])
        return self.candidate(
            finding,
            [Edit(st.path, src(stmt).start, end, f"{head}\n{body}\n{indent}}}")],
            f"The result of .{name} in {finding.function} was ignored, and the element was booked as "
            "paid after the call whatever its outcome, so a failed payment was lost. It runs once per "
            "element of a batch, so one failure must not stop the others: the fix books the element "
            "only when the call succeeds (otherwise it stays owed, and a later run pays it) and carries "
            "on. Calls that succeed behave exactly as before; ABI and storage are unchanged.",
            preference=2.0,
        )

    def _record(
        self,
        ctx: FixContext,
        contract: Contract,
        finding: Localisation,
        stmt: Node,
        call: Node,
        target: Node,
        name: str | None,
        in_loop: bool,
    ) -> Candidate | None:
        """Record the failure and go on: a value payment is credited to its recipient (pull payment,
        collected with bulwarkWithdrawPending()); a call without value emits BulwarkCallFailed."""
        if name not in ("send", "call", "delegatecall", "callcode"):
            return None
        program = ctx.program
        base = target.get("expression") or {}
        value = (call.get("arguments") or [None])[0] if name == "send" else _call_value(call)
        if value is not None and (not _pure(base) or not _pure(value)):
            return None  # evaluated twice (the call, then the credit): only side-effect-free expressions
        modern = program.at_least(0, 5)
        expr = ctx.node_text(call)
        recipient = f"address({ctx.node_text(base)})"
        if value is not None:
            on_fail = f"_bulwarkCredit({recipient}, {ctx.node_text(value)});"
            helper = pull_payment_helpers(ctx)
            added = frozenset({WITHDRAW})
            what = (
                "credits the unpaid amount to its recipient, who collects it with bulwarkWithdrawPending() "
                "(kept in an ERC-7201 namespaced slot, so no storage variable moves)"
            )
        else:
            emit = "emit " if program.at_least(0, 4, 21) else ""
            on_fail = f"{emit}BulwarkCallFailed({recipient});"
            helper = _FAILED_EVENT
            added = frozenset()
            what = "emits BulwarkCallFailed(target)"
        if name == "send" or not modern:
            fix = f"if (!{expr}) {{ {on_fail} }}"
        else:
            var = f"bulwarkOk{src(stmt).start}"
            fix = f"{{ (bool {var}, ) = {expr}; if (!{var}) {{ {on_fail} }} }}"
        where = (
            "It runs once per element of a loop (a batch payout or refund), so one failing recipient "
            "must not stop the others: "
            if in_loop
            else "Alternative to reverting, for when the caller must not be held up by the recipient: "
        )
        return self.candidate(
            finding,
            [ctx.replace_statement(stmt, fix), ctx.contract_end(contract, helper)],
            f"The result of .{name} in {finding.function} was ignored, so a failed call went unnoticed and "
            f"its amount was lost to the books. {where}the fix keeps going when the call fails, and {what}. "
            "Calls that succeed behave exactly as before.",
            added_selectors=added,
            preference=1.0 if in_loop else -1.0,
        )

    def _token(
        self,
        ctx: FixContext,
        contract: Contract,
        finding: Localisation,
        stmt: Node,
        call: Node,
        target: Node,
        name: str,
        base_type: str,
    ) -> Iterator[Candidate]:
        assert name is not None
        if not ctx.program.at_least(0, 4, 22):
            # no abi.encodeWithSelector (nor returndatasize everywhere) on these compilers: require the
            # boolean the token returns, which is what a token of that era returns
            yield self.candidate(
                finding,
                [ctx.replace(call, f"require({ctx.node_text(call)})")],
                f"token.{name} in {finding.function} ignored the token's boolean result, so a token that "
                "returns false instead of reverting let the call succeed without moving funds. The fix "
                "requires the result.",
            )
            return
        if _uses_safe_erc20(contract, base_type):
            st = ctx.text(target)
            end = src(target).end
            begin = end - len(name.encode())
            if st.slice(begin, end) == name:
                safe = _SAFE_NAMES[name]
                yield self.candidate(
                    finding,
                    [Edit(st.path, begin, end, safe)],
                    f"token.{name} in {finding.function} ignored the token's boolean result, so a token that "
                    f"returns false instead of reverting let the call succeed without moving funds. The fix "
                    f"uses the contract's own SafeERC20 `{safe}`, which reverts on false and accepts tokens "
                    "that return nothing.",
                    preference=1,
                )
        args = ", ".join(ctx.node_text(a) for a in call.get("arguments") or [])
        base = ctx.node_text(target.get("expression") or {})
        replacement = (
            f"_bulwarkCallToken(address({base}), abi.encodeWithSelector(bytes4({_SELECTORS[name]}), {args}))"
        )
        yield self.candidate(
            finding,
            [ctx.replace(call, replacement), ctx.contract_end(contract, _token_helper(ctx))],
            f"token.{name} in {finding.function} ignored the token's boolean result, so a token that returns "
            "false instead of reverting let the call succeed without moving funds. The fix makes the call "
            "through a SafeERC20-style helper that reverts on false, accepts tokens that return nothing and "
            "rejects addresses without code.",
        )


def _siblings(ctx: FixContext, finding: Localisation) -> list[Localisation]:
    """The other dropped low-level results in ``finding``'s function, as findings of their own."""
    contract = ctx.program.contract(finding.contract)
    if contract is None or finding.function is None or "unchecked-lowlevel" not in finding.detector:
        return []
    return [
        f
        for f in check_unchecked_calls(ctx.program, contract)
        if f.function == finding.function and f.start != finding.start and f.detector == "unchecked-lowlevel"
    ]


def _declaration_at(ctx: FixContext, finding: Localisation) -> Node | None:
    """The ``bool ok = x.send(v);`` (or ``(bool ok, ) = x.call..``) statement a finding points at."""
    contract = ctx.program.contract(finding.contract)
    if contract is None or finding.start is None:
        return None
    for fn in [*contract.functions, *contract.modifiers]:
        for n in ctx.program.nodes(fn.body, "VariableDeclarationStatement"):
            if (
                src(n).start == finding.start
                and (n.get("initialValue") or {}).get("nodeType") == "FunctionCall"
            ):
                return n
    return None


def _plain(text: str) -> str:
    """``address(winner)`` -> ``winner``: the recipient as a mapping key is usually written bare."""
    m = re.fullmatch(r"\s*(?:address|payable)\s*\((.*)\)\s*", text)
    return _plain(m.group(1)) if m else text.strip()


def _restorable(ctx: FixContext, earlier: list[Node], keyed: str | None) -> list[tuple[Node, Node, str, str]]:
    """(statement, stored target, its type, a save variable) for the storage writes among ``earlier``
    statements that a failed payment should undo, each saved just before its last write; only those
    whose target is keyed by ``keyed`` (an index of that text) unless it is None."""
    program = ctx.program
    last: dict[str, tuple[Node, Node]] = {}
    for stmt in earlier:
        expr = stmt.get("expression") or {}
        if stmt.get("nodeType") != "ExpressionStatement":
            continue
        for lhs in assigned_targets(expr):
            if not _stored(program, lhs):
                continue
            if keyed is not None and not any(
                n.get("nodeType") == "IndexAccess"
                and _plain(ctx.node_text(n.get("indexExpression") or {})) == keyed
                for n in walk(lhs)
            ):
                continue
            last[ctx.node_text(lhs)] = (stmt, dict(lhs))
    out: list[tuple[Node, Node, str, str]] = []
    for stmt, lhs in sorted(last.values(), key=lambda t: src(t[1]).start):
        declared = _value_type(type_string(lhs))
        if declared is None or not _pure(lhs):
            return []
        out.append((stmt, lhs, declared, f"bulwarkWas{src(lhs).start}"))
    return out


def _is_event(program: Program, call: Node) -> bool:
    """``E(..)``: an event raised without ``emit`` (solc before 0.4.21 had no ``emit``)."""
    ref = (call.get("expression") or {}).get("referencedDeclaration")
    return ref is not None and (program.nodes_by_id.get(int(ref)) or {}).get("nodeType") == "EventDefinition"


def _stmt_has_semicolon(ctx: FixContext, stmt: Node) -> bool:
    return ctx.node_text(stmt).rstrip().endswith(";")


_LOOPS = frozenset({"ForStatement", "WhileStatement", "DoWhileStatement"})
_FAILED_EVENT = """
/// @dev Added by Bulwark: a call made in a batch failed; the batch went on without it.
event BulwarkCallFailed(address target);
"""


def _inside_loop(program: Program, body: Node | None, node: Node) -> bool:
    """Is ``node`` inside a loop's body in ``body`` (not only in its condition)?"""
    at = src(node)
    for loop in program.nodes(body):
        if loop.get("nodeType") in _LOOPS:
            inner = src(loop.get("body") or loop)
            if inner.start <= at.start and at.end <= inner.end:
                return True
    return False


def _in_loop_context(ctx: FixContext, contract: Contract, stmt: Node) -> bool:
    """Does ``stmt`` run once per element of a batch: inside a loop, or in an internal helper that a
    loop calls?"""
    program = ctx.program
    owner = next((f for f in contract.all_functions if f.body is not None and _contains(f.body, stmt)), None)
    if owner is None:
        return False
    if _inside_loop(program, owner.body, stmt):
        return True
    if owner.is_entry:
        return False
    sites = [
        (f, call)
        for f in contract.all_functions
        if f.id != owner.id
        for call in program.nodes(f.body, "FunctionCall")
        if (t := program.internal_target(contract, call)) is not None and t.id == owner.id
    ]
    # one call site in a loop makes the helper batch code: reverting there would stop the batch
    return any(_inside_loop(program, f.body, call) for f, call in sites)


def _enclosing_block(program: Program, stmt: Node) -> Node | None:
    """The Block whose statements hold ``stmt`` (None when it is a lone loop or if body)."""
    owner = program.contract_of_node.get(int(stmt["id"]))
    sid = stmt.get("id")
    for fn in [*owner.functions, *owner.modifiers] if owner is not None else []:
        if fn.body is None or not _contains(fn.body, stmt):
            continue
        for node in program.nodes(fn.body):
            if node.get("nodeType") in ("Block", "UncheckedBlock") and any(
                x.get("id") == sid for x in node.get("statements") or []
            ):
                return node
    return None


def _stored(program: Program, lhs: Mapping[str, Any]) -> bool:
    """Does ``lhs`` name contract storage (a state variable, or through a storage pointer)?"""
    root = base_variable(lhs) or {}
    ref = root.get("referencedDeclaration")
    decl = program.nodes_by_id.get(int(ref)) if ref is not None else None
    if decl is None:
        return False
    return bool(decl.get("stateVariable")) or (decl.get("storageLocation") == "storage" and root is not lhs)


def _value_type(ts: str) -> str | None:
    """The declaration type of an elementary value (to save it in a local), else None."""
    if ts in ("bool", "address", "address payable") or re.fullmatch(
        r"u?int\d*|bytes([1-9]|[12]\d|3[012])", ts
    ):
        return ts
    return None


def _contains(body: Node, node: Node) -> bool:
    outer, inner = src(body), src(node)
    return outer.file == inner.file and outer.start <= inner.start and inner.end <= outer.end


def _call_value(call: Node) -> Node | None:
    """``v`` in ``x.call{value: v}(..)`` / ``x.call.value(v)(..)`` (with or without data)."""
    expr = call.get("expression") or {}
    while expr:
        if expr.get("nodeType") == "FunctionCallOptions":
            for key, option in zip(expr.get("names") or [], expr.get("options") or [], strict=False):
                if key == "value":
                    return dict(option)
            expr = expr.get("expression") or {}
        elif expr.get("nodeType") == "FunctionCall":
            inner = expr.get("expression") or {}
            if inner.get("memberName") == "value" and len(expr.get("arguments") or []) == 1:
                return dict(expr["arguments"][0])
            expr = (inner.get("expression") or {}) if inner.get("memberName") == "gas" else {}
        else:
            return None
    return None


def _pure(expr: Node) -> bool:
    """No calls (bar type conversions) and no assignments: safe to evaluate twice."""
    for n in walk(expr):
        kind = n.get("nodeType")
        if kind == "FunctionCall" and n.get("kind") != "typeConversion":
            return False
        if kind == "Assignment" or (kind == "UnaryOperation" and n.get("operator") in ("++", "--", "delete")):
            return False
    return True
