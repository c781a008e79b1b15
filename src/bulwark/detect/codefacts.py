"""What a protected contract's code says matters, derived from its sources (AST + storageLayout),
never from function names:

* privileged slots: state variables compared with ``msg.sender`` in an access check (``require``,
  ``if``, modifiers, through a view getter one call deep), and mappings indexed by ``msg.sender``
  in one; role maps (a mapping whose value holds a ``mapping(address => bool)``, e.g.
  AccessControl's ``_roles``) are privileged wholesale;
* writers: the selectors of entry points that (through internal calls and modifiers) assign one of
  them, so the screener knows when a storage diff is worth asking for;
* balance maps (``mapping(address => uintN)``) and allowance maps
  (``mapping(address => mapping(address => uintN))``), where value sits whatever the events say.

The EIP-1967 slots are privileged on every protected contract (see :mod:`bulwark.detect.statediff`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulwark.domain import Selector
from bulwark.toolchain.artifacts import CompileResult, StorageLayout
from bulwark.toolchain.solast import Node, root_identifier, walk

_SENDER_FUNCS = frozenset({"_msgSender"})  # OpenZeppelin Context: msg.sender behind a call
_UINT_MAP = re.compile(r"^mapping\(address => uint\d*\)$")
_ALLOWANCE_MAP = re.compile(r"^mapping\(address => mapping\(address => uint\d*\)\)$")


@dataclass(frozen=True, slots=True)
class CodeFacts:
    privileged_slots: frozenset[int] = frozenset()  # plain slots (owner, admin, ...)
    privileged_maps: frozenset[int] = frozenset()  # mapping bases (admins[a], _roles[r].members[a])
    writers: frozenset[Selector] = frozenset()
    balance_maps: frozenset[int] = frozenset()
    allowance_maps: frozenset[int] = frozenset()
    labels: Mapping[int, str] | None = None  # slot -> variable name, for evidence


def _is_sender(node: Node) -> bool:
    if node.get("nodeType") == "MemberAccess" and node.get("memberName") == "sender":
        base = node.get("expression") or {}
        return base.get("nodeType") == "Identifier" and base.get("name") == "msg"
    if node.get("nodeType") == "FunctionCall":
        callee = node.get("expression") or {}
        return callee.get("nodeType") == "Identifier" and callee.get("name") in _SENDER_FUNCS
    return False


def _written(node: Node) -> list[Node]:
    kind = node.get("nodeType")
    if kind == "Assignment":
        lhs = node.get("leftHandSide") or {}
        if lhs.get("nodeType") == "TupleExpression":
            return [c for c in lhs.get("components") or [] if c]
        return [lhs]
    if kind == "UnaryOperation" and node.get("operator") in ("++", "--", "delete"):
        return [node.get("subExpression") or {}]
    return []


def contract_facts(result: CompileResult, contract: str) -> CodeFacts:
    """Facts for ``contract`` (``Name`` or ``path:Name``) of a compiled project."""
    artifact = result.contract(contract)
    layout = artifact.storage_layout or StorageLayout((), {})
    by_id = {v.ast_id: v for v in layout.variables}
    nodes: dict[int, Node] = {}
    defs: dict[str, Node] = {}
    for unit in result.sources.values():
        for node in walk(unit.ast):
            if isinstance(node.get("id"), int):
                nodes[node["id"]] = node
            if node.get("nodeType") == "ContractDefinition":
                defs[f"{unit.path}:{node.get('name')}"] = node
    main = defs.get(artifact.qualified_name)
    if main is None:
        return CodeFacts()
    bases = [nodes[i] for i in main.get("linearizedBaseContracts") or [] if i in nodes]
    callables = [
        n
        for b in bases
        for n in b.get("nodes") or []
        if n.get("nodeType") in ("FunctionDefinition", "ModifierDefinition")
    ]

    # ERC-7201 namespaced storage: `$.slot := CONSTANT` binds a struct to a fixed slot; its members
    # follow from there (one slot each: exact for the single-member and mapping structs OZ uses).
    ns_base: dict[int, int] = {}
    for fn in callables:
        for n in walk(fn.get("body") or {}):
            if n.get("nodeType") != "InlineAssembly":
                continue
            refs = n.get("externalReferences") or []
            ptrs = [nodes.get(r.get("declaration", -1)) for r in refs if r.get("suffix") == "slot"]
            found = [nodes.get(r.get("declaration", -1)) for r in refs if not r.get("suffix")]
            consts = [c for c in found if c is not None and c.get("constant")]
            if len(ptrs) == 1 and ptrs[0] is not None and len(consts) == 1:
                struct_id = (ptrs[0].get("typeName") or {}).get("referencedDeclaration")
                value = (consts[0].get("value") or {}).get("value")
                if isinstance(struct_id, int) and isinstance(value, str):
                    ns_base[struct_id] = int(value, 0)
    ns_member: dict[int, Node] = {}  # -(slot + 1) -> member declaration
    for struct_id, base in ns_base.items():
        for i, member in enumerate((nodes.get(struct_id) or {}).get("members") or []):
            ns_member[-(base + i + 1)] = member

    def namespaced(expr: Node | None) -> int | None:
        while expr is not None:
            kind = expr.get("nodeType")
            if kind == "MemberAccess":
                inner = expr.get("expression") or {}
                if inner.get("nodeType") == "Identifier":
                    decl = nodes.get(inner.get("referencedDeclaration") or -1) or {}
                    struct_id = (decl.get("typeName") or {}).get("referencedDeclaration")
                    if struct_id in ns_base:
                        names = [m.get("name") for m in nodes[struct_id].get("members") or []]
                        if expr.get("memberName") in names:
                            return -(ns_base[struct_id] + names.index(expr.get("memberName")) + 1)
                expr = inner
            elif kind == "IndexAccess":
                expr = expr.get("baseExpression")
            else:
                return None
        return None

    def state_var(expr: Node | None) -> int | None:
        ident = root_identifier(expr) if expr is not None else None
        ref = ident.get("referencedDeclaration") if ident is not None else None
        if isinstance(ref, int) and ref in by_id:
            return ref
        return namespaced(expr)

    def getter_var(call: Node) -> int | None:
        # owner() / _owner() style views: `return <state variable>;` one call deep
        callee = nodes.get((call.get("expression") or {}).get("referencedDeclaration") or -1)
        if callee is None or callee.get("nodeType") != "FunctionDefinition":
            return None
        for n in walk(callee.get("body") or {}):
            if n.get("nodeType") == "Return":
                return state_var(n.get("expression"))
        return None

    def var_label(key: int) -> str:
        if key < 0:
            return str((ns_member[key].get("typeDescriptions") or {}).get("typeString") or "")
        t = layout.types.get(by_id[key].type)
        return t.label if t is not None else ""

    checked: set[int] = set()
    for fn in callables:
        for n in walk(fn.get("body") or {}):
            if n.get("nodeType") == "BinaryOperation" and n.get("operator") in ("==", "!="):
                left, right = n.get("leftExpression") or {}, n.get("rightExpression") or {}
                for a, b in ((left, right), (right, left)):
                    if _is_sender(a):
                        var = state_var(b) if b.get("nodeType") != "FunctionCall" else getter_var(b)
                        if var is not None:
                            checked.add(var)
            elif n.get("nodeType") == "IndexAccess" and _is_sender(n.get("indexExpression") or {}):
                var = state_var(n)
                # a membership test (admins[msg.sender]); a balance compared in a require is not one
                if var is not None and var_label(var).endswith("=> bool)") and _in_condition(fn, n):
                    checked.add(var)
    plain: set[int] = set()
    maps: set[int] = set()
    balances: set[int] = set()
    allowances: set[int] = set()
    labels: dict[int, str] = {}
    for sv in layout.variables:
        label = layout.types[sv.type].label if sv.type in layout.types else ""
        # a role map holds membership maps (AccessControl's _roles[role].hasRole[account]); a
        # plain mapping(address => bool) is privileged only when checked against the sender
        t = layout.types.get(sv.type)
        role_map = t is not None and t.value is not None and _holds_address_bool(layout, t.value)
        if sv.ast_id in checked or role_map:
            (maps if label.startswith("mapping(") else plain).add(sv.slot)
            labels[sv.slot] = sv.label
        if _UINT_MAP.match(label):
            balances.add(sv.slot)
            labels.setdefault(sv.slot, sv.label)
        elif _ALLOWANCE_MAP.match(label):
            allowances.add(sv.slot)
            labels.setdefault(sv.slot, sv.label)
    ns_privileged: set[int] = set()
    for key, member in ns_member.items():
        slot = -key - 1
        label = var_label(key)
        value_struct = nodes.get(
            ((member.get("typeName") or {}).get("valueType") or {}).get("referencedDeclaration") or -1
        )
        role_map = value_struct is not None and any(
            (m.get("typeDescriptions") or {}).get("typeString") == "mapping(address => bool)"
            for m in value_struct.get("members") or []
        )
        if key in checked or role_map:
            (maps if label.startswith("mapping(") else plain).add(slot)
            labels[slot] = str(member.get("name"))
            ns_privileged.add(key)
    privileged_ids = {v.ast_id for v in layout.variables if v.slot in plain | maps} | ns_privileged
    writers = _writers(callables, nodes, privileged_ids, state_var)
    return CodeFacts(
        frozenset(plain), frozenset(maps), writers, frozenset(balances), frozenset(allowances), labels
    )


def _in_condition(fn: Node, target: Node) -> bool:
    """``target`` sits in a require/assert/if condition of ``fn``."""
    for n in walk(fn.get("body") or {}):
        if n.get("nodeType") == "IfStatement":
            cond = n.get("condition")
        elif n.get("nodeType") == "FunctionCall" and (n.get("expression") or {}).get("name") in (
            "require",
            "assert",
        ):
            cond = (n.get("arguments") or [None])[0]
        else:
            continue
        if cond is not None and any(m is target for m in walk(cond)):
            return True
    return False


def _holds_address_bool(layout: StorageLayout, type_key: str, depth: int = 0) -> bool:
    t = layout.types.get(type_key)
    if t is None or depth > 4:
        return False
    if t.label == "mapping(address => bool)":
        return True
    if t.value is not None and _holds_address_bool(layout, t.value, depth + 1):
        return True
    return any(_holds_address_bool(layout, m.type, depth + 1) for m in t.members)


def _writers(
    callables: list[Node], nodes: Mapping[int, Node], privileged: set[int], state_var: Any
) -> frozenset[Selector]:
    by_id = {n["id"]: n for n in callables if isinstance(n.get("id"), int)}

    def direct(fn: Node) -> tuple[bool, set[int]]:
        writes, callees = False, set()
        for n in walk(fn.get("body") or {}):
            for target in _written(n):
                if state_var(target) in privileged:
                    writes = True
            if n.get("nodeType") == "FunctionCall":
                ref = (n.get("expression") or {}).get("referencedDeclaration")
                if isinstance(ref, int):
                    callees.add(ref)
        for mod in fn.get("modifiers") or []:
            ref = (mod.get("modifierName") or {}).get("referencedDeclaration")
            if isinstance(ref, int):
                callees.add(ref)
        return writes, callees

    info = {i: direct(n) for i, n in by_id.items()}
    writes = {i for i, (w, _) in info.items() if w}
    changed = True
    while changed:  # fixpoint over internal calls (virtual overrides resolve by name, too)
        changed = False
        for i, (_, callees) in info.items():
            if i not in writes and any(
                c in writes or _overridden_writes(c, nodes, by_id, writes) for c in callees
            ):
                writes.add(i)
                changed = True
    out = set()
    for i in writes:
        sel = by_id[i].get("functionSelector")
        if isinstance(sel, str) and by_id[i].get("visibility") in ("public", "external"):
            out.add(Selector("0x" + sel))
    return frozenset(out)


def _overridden_writes(
    ref: int, nodes: Mapping[int, Node], by_id: Mapping[int, Node], writes: set[int]
) -> bool:
    target = nodes.get(ref)
    if target is None:
        return False
    name = target.get("name")
    return any(by_id[w].get("name") == name for w in writes)
