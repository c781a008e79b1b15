"""ERC-4626 inflation: price shares with a virtual offset instead of 1:1-then-pro-rata.

``supply == 0 ? x : x * supply / assets`` becomes ``x * (supply + V) / (assets + 1)`` (and the
mirror for assets), OpenZeppelin's virtual shares and assets: a donation before the first deposit
can no longer round the victim's shares to zero profitably. Applied to every such conversion of
the contract at once, so both directions stay consistent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.erc4626 import supply_is_zero
from bulwark.patch.solast import Contract, Node, Program, callee_name, src, walk

_ASSET_CALLS = frozenset(
    {"totalAssets", "_totalAssets", "balanceOf", "getBalance", "totalDeposits", "getCash", "totalCash"}
)


def _is_assets(node: Node) -> bool:
    if node.get("nodeType") == "FunctionCall":
        return callee_name(node) in _ASSET_CALLS
    if node.get("nodeType") == "Identifier":
        name = str(node.get("name") or "").lower()
        return any(w in name for w in ("totalassets", "balance", "deposits", "reserve", "cash")) or name in (
            "assets_",
            "total",
        )
    return False


class VirtualOffsetFix(FixTemplate):
    NAME = "erc4626-virtual-offset"
    CLASSES = frozenset({VulnClass.ERC4626_INFLATION})
    DESCRIPTION = "replaces first-deposit 1:1 pricing by virtual shares and assets"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        contract = ctx.program.contract(finding.contract)
        if contract is None:
            return
        has_offset = any(f.name == "_decimalsOffset" for f in contract.all_functions)
        own_offset = any(f.name == "_decimalsOffset" for f in contract.functions)
        virtual = "10 ** _decimalsOffset()" if has_offset else "1"
        edits = self._rewrite(ctx, contract, virtual)
        if not edits:
            return
        if has_offset and not own_offset and ctx.program.at_least(0, 8):
            offset_fn = (
                "function _decimalsOffset() internal pure override returns (uint8) {\n    return 6;\n}\n"
            )
            yield self.candidate(
                finding,
                [*edits, ctx.contract_end(contract, offset_fn)],
                f"{contract.name} minted shares 1:1 into an empty vault and pro rata afterwards, so an "
                "attacker "
                "could deposit 1 wei, donate to the vault and make the next depositor's shares round to "
                "zero. The fix uses virtual shares and assets with a 6-decimal offset (OpenZeppelin's "
                "defence), which makes the donation cost the attacker a million times what it can take.",
                preference=1,
            )
        yield self.candidate(
            finding,
            edits,
            f"{contract.name} minted shares 1:1 into an empty vault and pro rata afterwards, so an attacker "
            "could deposit 1 wei, donate to the vault and make the next depositor's shares round to "
            "zero. The "
            f"fix always prices with virtual shares ({virtual}) and one virtual asset, so a donation "
            "is shared "
            "with the virtual shares and the attack no longer pays.",
        )

    def _rewrite(self, ctx: FixContext, contract: Contract, virtual: str) -> list[Edit]:
        edits: list[Edit] = []
        for fn in contract.functions:
            if fn.body is None or not ctx.editable(fn.node):
                continue
            for supply, branch, target in pricing_sites(ctx.program, fn.body):
                rewritten = self._offset(ctx, supply, branch, virtual)
                if rewritten is not None:
                    edits.append(ctx.replace(target, rewritten))
        return edits

    def _offset(self, ctx: FixContext, supply: Node, branch: Node, virtual: str) -> str | None:
        supply_text = ctx.node_text(supply)
        base = src(branch).start
        text = ctx.node_text(branch).encode()
        pieces: list[tuple[int, int, str]] = []
        taken: list[tuple[int, int]] = []
        for n in walk(branch):
            s = src(n)
            if any(a <= s.start < b for a, b in taken):
                continue
            if ctx.node_text(n) == supply_text and n.get("nodeType") in (
                "Identifier",
                "FunctionCall",
                "IndexAccess",
            ):
                pieces.append((s.start - base, s.end - base, f"({supply_text} + {virtual})"))
                taken.append((s.start, s.end))
            elif _is_assets(n):
                pieces.append((s.start - base, s.end - base, f"({ctx.node_text(n)} + 1)"))
                taken.append((s.start, s.end))
        if not any(v.startswith(f"({supply_text}") for _, _, v in pieces) or len(pieces) < 2:
            return None
        out = b""
        pos = 0
        for a, b, r in sorted(pieces):
            out += text[pos:a] + r.encode()
            pos = b
        return (out + text[pos:]).decode()


def pricing_sites(program: Program, body: Node) -> list[tuple[Node, Node, Node]]:
    """(supply expression, pro-rata expression, node to replace) for every empty-supply branch:
    ``supply == 0 ? a : b`` (the whole conditional becomes ``b`` with offsets) and
    ``if (supply == 0) return a; return b;`` (``b`` gets the offsets, the empty branch stays)."""
    out: list[tuple[Node, Node, Node]] = []
    for cond in (n for n in walk(body) if n.get("nodeType") == "Conditional"):
        supply = supply_is_zero(program, cond.get("condition") or {})
        if supply is not None:
            out.append((supply, cond.get("falseExpression") or {}, cond))
    for block in (n for n in walk(body) if n.get("nodeType") == "Block"):
        stmts = block.get("statements") or []
        for stmt, after in itertools.pairwise(stmts):
            if stmt.get("nodeType") != "IfStatement" or stmt.get("falseBody"):
                continue
            supply = supply_is_zero(program, stmt.get("condition") or {})
            if supply is None or after.get("nodeType") != "Return" or not after.get("expression"):
                continue
            out.append((supply, after["expression"], after["expression"]))
    return out
