"""Logic flaws whose fix is a missing check, taken from what the contract already says.

* an action recorded but never checked (``voted[msg.sender] = true`` read nowhere): the record is
  required to be unset before it is set, so the action runs once per key, as the record implies;
* a payout that changes no state: each stored record pays out once (a spent flag per record, in an
  ERC-7201 namespaced slot, so no storage variable moves);
* a keyed record overwritten without the owner check its sibling writers make: it may be taken
  only while unowned, or by its owner;
* an amount the caller names, recorded by a payable function and later paid out of, never compared
  with the ether sent: the ether sent must be that amount.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.logic import (
    replayable_payouts,
    unchecked_record_writes,
    unpaid_stakes,
    unread_flags,
)
from bulwark.patch.solast import Function, Node, Program, base_variable, src, walk

NAMESPACE = "bulwark.patch.PaidOnce"


def _statement_of(program: Program, fn: Function, node: Node) -> Node | None:
    """The innermost statement of ``fn`` holding ``node``."""
    at = src(node)
    best: Node | None = None
    for st in program.nodes(fn.body):
        if not str(st.get("nodeType", "")).endswith("Statement") or st.get("nodeType") == "Block":
            continue
        s = src(st)
        if s.start <= at.start and at.end <= s.end and (best is None or s.length < src(best).length):
            best = st
    return best


def _record_key(ctx: FixContext, fn: Function, amount: Node) -> str | None:
    """``keccak256(abi.encode(uint256(<record var id>), <index>...))`` for the stored record the
    amount is read from (through locals initialised from it)."""
    program = ctx.program
    inits: dict[int, Node] = {}
    for st in program.nodes(fn.body, "VariableDeclarationStatement"):
        decls = [d for d in st.get("declarations") or [] if d]
        if len(decls) == 1 and st.get("initialValue"):
            inits[int(decls[0]["id"])] = st["initialValue"]
    todo = [amount]
    for _ in range(4):
        nxt: list[Node] = []
        for expr in todo:
            for x in walk(expr):
                if x.get("nodeType") == "IndexAccess":
                    root = base_variable(x) or {}
                    ref = root.get("referencedDeclaration")
                    if ref is None or not (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
                        continue
                    indexes: list[str] = []
                    node: Node = x
                    while node.get("nodeType") == "IndexAccess":
                        indexes.insert(0, ctx.node_text(node.get("indexExpression") or {}))
                        node = node.get("baseExpression") or {}
                    if node is not root:
                        continue
                    return f"keccak256(abi.encode(uint256({int(ref)}), {', '.join(indexes)}))"
                ref = x.get("referencedDeclaration")
                if x.get("nodeType") == "Identifier" and ref is not None and int(ref) in inits:
                    nxt.append(inits[int(ref)])
        todo = nxt
    return None


def _debits(ctx: FixContext, fn: Function, calls: list[Node]) -> list[Edit]:
    """``owed[k] = 0;`` before each payment whose amount is a local read from a keyed whole-number
    record (``uint256 amount = owed[k];``), and nothing else: the record is cleared, the local still
    holds the amount. Empty when any payment is of another shape."""
    program = ctx.program
    inits: dict[int, Node] = {}
    for st in program.nodes(fn.body, "VariableDeclarationStatement"):
        decls = [d for d in st.get("declarations") or [] if d]
        if len(decls) == 1 and st.get("initialValue"):
            inits[int(decls[0]["id"])] = st["initialValue"]
    edits: list[Edit] = []
    for call in calls:
        amount = (call.get("arguments") or [{}])[0]
        ref = amount.get("referencedDeclaration") if amount.get("nodeType") == "Identifier" else None
        record = inits.get(int(ref)) if ref is not None else None
        at = _statement_of(program, fn, call)
        if record is None or at is None or record.get("nodeType") != "IndexAccess":
            return []
        root = base_variable(record) or {}
        decl = program.nodes_by_id.get(int(root.get("referencedDeclaration") or -1)) or {}
        if not decl.get("stateVariable") or not str(
            record.get("typeDescriptions", {}).get("typeString", "")
        ).startswith("uint"):
            return []
        edits.append(ctx.insert_before(at, f"{ctx.node_text(record)} = 0;"))
    return edits


def _paid_once_helper() -> str:
    slot = hex(erc7201_slot(NAMESPACE))
    return f"""
/// @dev Added by Bulwark: true the first time `key` (a stored record) pays out, false after; kept in
///      the ERC-7201 namespace "{NAMESPACE}" (storage layout unchanged).
function _bulwarkFirstPayout(bytes32 key) private returns (bool first) {{
    bytes32 slot = keccak256(abi.encode(key, uint256({slot})));
    assembly {{
        first := iszero(sload(slot))
        sstore(slot, 1)
    }}
}}
"""


class MissingCheckFix(FixTemplate):
    NAME = "missing-check"
    CLASSES = frozenset({VulnClass.INVARIANT_BREAK})
    DESCRIPTION = "adds the check the contract's own records or sibling functions imply"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        found = ctx.target(finding)
        if found is None:
            return
        contract, fn = found
        if "unread-flag" in finding.detector:
            edits: list[Edit] = []
            for flag in unread_flags(program, fn):
                lhs = ctx.node_text((flag.get("expression") or {}).get("leftHandSide") or {})
                edits.append(ctx.insert_before(flag, f"require(!{lhs}{ctx.reason('already done')});"))
            if edits:
                yield self.candidate(
                    finding,
                    edits,
                    f"{fn.name} in {contract.name} recorded that it ran for a key but never checked the "
                    "record, so it could run any number of times for the same key (vote twice, claim "
                    "twice). The fix requires the record to be unset before setting it, so it runs once "
                    "per key as the record says. ABI and storage layout are unchanged.",
                )
        if "replayable-payout" in finding.detector:
            debits = _debits(ctx, fn, replayable_payouts(program, fn))
            if debits:
                yield self.candidate(
                    finding,
                    debits,
                    f"{fn.name} in {contract.name} paid out an amount owed to a key (read into a local) "
                    "but never cleared what was owed, so the same call paid again and again. The fix "
                    "clears it before paying, as a withdrawal does; what is owed later is paid as "
                    "before. ABI and storage layout are unchanged.",
                    preference=1,
                )
        if "replayable-payout" in finding.detector and program.at_least(0, 4, 22):
            edits = []
            for call in replayable_payouts(program, fn):
                at = _statement_of(program, fn, call)
                amount = (call.get("arguments") or [{}])[0]
                key = _record_key(ctx, fn, amount)
                if at is None or key is None:
                    return
                check = f"require(_bulwarkFirstPayout({key}){ctx.reason('already paid')});"
                edits.append(ctx.insert_before(at, check))
            if edits:
                edits.append(ctx.contract_end(contract, _paid_once_helper()))
                yield self.candidate(
                    finding,
                    edits,
                    f"{fn.name} in {contract.name} paid an amount read from a stored record without "
                    "changing any state, so the same call paid again and again. The fix lets each record "
                    "pay out once (a spent flag per record in an ERC-7201 namespaced slot, so no storage "
                    "variable moves); the first payout is unchanged.",
                )
        if "sibling-owner-check" in finding.detector:
            edits = []
            for assignment, _, field in unchecked_record_writes(program, fn):
                where = _statement_of(program, fn, assignment)
                lhs = ctx.node_text(assignment.get("leftHandSide") or {})
                if where is None:
                    return
                owner = f"{lhs}.{field}" if field else lhs  # a struct's owner field, or a mapping of owners
                check = f"require({owner} == address(0) || {owner} == msg.sender{ctx.reason('taken')});"
                edits.append(ctx.insert_before(where, check))
            if edits:
                yield self.candidate(
                    finding,
                    edits,
                    f"{fn.name} in {contract.name} overwrote a record that every other function writing it "
                    "protects by checking its owner against the caller, so anyone could take over a record "
                    "that belongs to someone else. The fix lets it write a record only while it has no "
                    "owner, or for its owner. ABI and storage layout are unchanged.",
                )
        if "unpaid-stake" in finding.detector:
            names = [str(p.get("name")) for p in unpaid_stakes(program, fn)]
            if names:
                checks = " && ".join(f"msg.value == {n}" for n in names)
                yield self.candidate(
                    finding,
                    [ctx.body_start(fn, f"require({checks}{ctx.reason('value sent differs')});")],
                    f"{fn.name} in {contract.name} recorded the amount its caller named ({', '.join(names)}) "
                    "and later paid ether out of that record, but never checked that the caller sent it, "
                    "so a stake cost nothing. The fix requires the ether sent to equal the amount named. "
                    "ABI and storage layout are unchanged.",
                )
