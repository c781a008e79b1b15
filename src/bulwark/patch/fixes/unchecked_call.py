"""Unchecked results: revert when a low-level call or a token transfer fails.

Tokens go through a SafeERC20-style call that accepts both a ``true`` result and no result at
all (USDT-style tokens) but rejects ``false`` and calls to addresses without code. When the
contract already uses OpenZeppelin's SafeERC20, its ``safe*`` function is used instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.solast import Contract, Node, call_target, callee_name, src, type_string, walk

_SELECTORS = {"transfer": "0xa9059cbb", "transferFrom": "0x23b872dd", "approve": "0x095ea7b3"}
_SAFE_NAMES = {"transfer": "safeTransfer", "transferFrom": "safeTransferFrom", "approve": "forceApprove"}


def _statement_at(ctx: FixContext, finding: Localisation) -> Node | None:
    contract = ctx.program.contract(finding.contract)
    if contract is None or finding.start is None:
        return None
    for fn in contract.functions:
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
        stmt = _statement_at(ctx, finding)
        contract = ctx.program.contract(finding.contract)
        if stmt is None or contract is None or not ctx.editable(stmt):
            return
        call = stmt["expression"]
        name = callee_name(call)
        target = call_target(call)
        if target is None:
            return
        base = target.get("expression") or {}
        base_type = type_string(base)
        if name in ("transfer", "transferFrom", "approve") and not base_type.startswith("address"):
            yield from self._token(ctx, contract, finding, stmt, call, target, name, base_type)
            return
        expr = ctx.node_text(call)
        if name == "send" or not ctx.program.at_least(0, 5):
            fix = f"require({expr});"
            edits = [
                ctx.replace(stmt, fix)
                if _stmt_has_semicolon(ctx, stmt)
                else ctx.replace(call, f"require({expr})")
            ]
        else:
            var = f"bulwarkOk{src(stmt).start}"
            edits = [ctx.replace(call, f'(bool {var}, ) = {expr}; require({var}, "call failed")')]
        yield self.candidate(
            finding,
            edits,
            f"The result of .{name} in {finding.function} was ignored, so a failed transfer of value let the "
            "function carry on as if it had succeeded. The fix reverts when the call fails.",
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


def _stmt_has_semicolon(ctx: FixContext, stmt: Node) -> bool:
    return ctx.node_text(stmt).rstrip().endswith(";")
