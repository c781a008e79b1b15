"""The remedy catalogue: each protected contract's administrative setters, from its solc AST.

A setter is an external/public state-changing function guarded by a role or owner check (an
``onlyRole(X)``/``onlyOwner`` modifier, or a ``msg.sender`` comparison in its body) that assigns
state variables, directly or through internal functions. Upgrade, role administration, pausing and
initialisers are not remedies and are left out. For each parameter the catalogue also records the
public state variable it is stored in (followed through internal calls), so a remedy can change
one argument and keep the others at their current values.

Which finding classes a setter can neutralise is inferred from what it names and writes (an oracle,
a price source, a loan-to-value ratio, a cap, a fee); ``bulwark.yaml``'s ``remedies`` section
confirms or overrides the inference (:func:`apply_declared`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bulwark.domain.remedy import Setter, SetterParam
from bulwark.errors import BulwarkError
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.solast import AstIndex, Node, walk

__all__ = ["RemedyError", "apply_declared", "catalogue", "infer_classes"]

_NOT_REMEDIES = frozenset(
    {
        "upgradeToAndCall",
        "upgradeTo",
        "grantRole",
        "revokeRole",
        "renounceRole",
        "pause",
        "unpause",
        "pauseSelectors",
        "unpauseSelectors",
        "initialize",
        "transferOwnership",
        "renounceOwnership",
        "acceptOwnership",
    }
)
_OWNER_MODIFIERS = frozenset({"onlyOwner", "onlyAdmin", "onlyGovernance", "auth"})
_AUTH_CALLS = frozenset({"_checkRole", "_checkOwner", "_onlyOwner", "_auth"})

# (pattern over the function name, its parameters and the variables it writes) -> classes
_CLASS_HINTS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"oracle|price|source|feed|twap", re.I), ("oracle-manipulation",)),
    (
        re.compile(r"ltv|threshold|collateral|risk|cap|limit|borrow|maxloan", re.I),
        ("oracle-manipulation", "invariant-break"),
    ),
    (re.compile(r"fee", re.I), ("oracle-manipulation", "front-running")),
    (re.compile(r"rate|outflow|window", re.I), ("invariant-break", "reentrancy")),
)


class RemedyError(BulwarkError, ValueError):
    """The remedy catalogue or search cannot be built from what it was given."""


def _index(result: CompileResult, contract: str) -> tuple[AstIndex, Node]:
    index = AstIndex.of(result)
    try:
        return index, index.contract(contract)
    except KeyError:
        raise RemedyError(f"no contract {contract!r} in the compiled sources") from None


def _base_identifier(expr: Node) -> Node | None:
    """The identifier an lvalue is rooted at: ``a``, ``a[k]``, ``a.b``, ``a[k].b``."""
    while expr.get("nodeType") in ("IndexAccess", "MemberAccess", "IndexRangeAccess"):
        expr = expr.get("baseExpression") or expr.get("expression") or {}
    return expr if expr.get("nodeType") == "Identifier" else None


def _guard(fn: Node, index: AstIndex) -> str | None:
    for mod in fn.get("modifiers", []) or []:
        name = (mod.get("modifierName") or {}).get("name", "")
        if name == "onlyRole":
            args = mod.get("arguments") or []
            role = args[0].get("name") or args[0].get("memberName") if args else None
            return f"role:{role or '?'}"
        if name in _OWNER_MODIFIERS:
            return "owner"
    for node in walk(fn.get("body")):
        if node.get("nodeType") == "FunctionCall":
            callee = node.get("expression") or {}
            if callee.get("name") in _AUTH_CALLS:
                args = node.get("arguments") or []
                role = args[0].get("name") if args else None
                return f"role:{role}" if role else "owner"
        if (
            node.get("nodeType") == "BinaryOperation"
            and node.get("operator") in ("==", "!=")
            and any(_is_sender(node.get(side) or {}) for side in ("leftExpression", "rightExpression"))
        ):
            return "sender-check"
    return None


def _is_sender(expr: Node) -> bool:
    """``msg.sender`` or ``_msgSender()``."""
    if expr.get("nodeType") == "MemberAccess" and expr.get("memberName") == "sender":
        return (expr.get("expression") or {}).get("name") == "msg"
    if expr.get("nodeType") == "FunctionCall":
        return (expr.get("expression") or {}).get("name") == "_msgSender"
    return False


def _writes(
    fn: Node, index: AstIndex, bindings: Mapping[int, str | None], seen: set[int]
) -> tuple[dict[str, None], dict[str, str]]:
    """State variables ``fn`` assigns, and for each of its (bound) parameters the public state
    variable it ends up in. ``bindings`` maps this function's parameter ids to the setter's
    parameter names (None: not a setter parameter)."""
    writes: dict[str, None] = {}
    stored: dict[str, str] = {}
    if fn["id"] in seen:
        return writes, stored
    seen = seen | {fn["id"]}
    for node in walk(fn.get("body")):
        kind = node.get("nodeType")
        if kind == "Assignment":
            base = _base_identifier(node.get("leftHandSide") or {})
            decl = index.ref(base) if base else None
            if decl and decl.get("stateVariable"):
                writes[decl["name"]] = None
                rhs = node.get("rightHandSide") or {}
                src = index.ref(rhs) if rhs.get("nodeType") == "Identifier" else None
                param = bindings.get(src["id"]) if src else None
                if param and decl.get("visibility") == "public" and base is node.get("leftHandSide"):
                    stored.setdefault(param, decl["name"])
        elif kind == "UnaryOperation" and node.get("operator") in ("++", "--", "delete"):
            base = _base_identifier(node.get("subExpression") or {})
            decl = index.ref(base) if base else None
            if decl and decl.get("stateVariable"):
                writes[decl["name"]] = None
        elif kind == "FunctionCall":
            callee = node.get("expression") or {}
            target = index.ref(callee) if callee.get("nodeType") == "Identifier" else None
            if not target or target.get("nodeType") != "FunctionDefinition" or not target.get("body"):
                continue
            inner: dict[int, str | None] = {}
            params = (target.get("parameters") or {}).get("parameters", [])
            for p, arg in zip(params, node.get("arguments") or [], strict=False):
                ref = index.ref(arg) if arg.get("nodeType") == "Identifier" else None
                inner[p["id"]] = bindings.get(ref["id"]) if ref else None
            w, s = _writes(target, index, inner, seen)
            writes.update(w)
            for k, v in s.items():
                stored.setdefault(k, v)
    return writes, stored


def _abi_type(param: Node) -> str:
    td = param.get("typeDescriptions") or {}
    text = str(td.get("typeString", "")).replace("contract ", "").replace("struct ", "")
    if param.get("typeName", {}).get("nodeType") == "UserDefinedTypeName" and "enum" not in text:
        return "address"
    return text.split(" ")[0]


def infer_classes(function: str, params: Sequence[str], writes: Sequence[str]) -> tuple[str, ...]:
    """Finding classes a setter can plausibly neutralise, from the names it carries."""
    text = " ".join([function, *params, *writes])
    out: dict[str, None] = {}
    for pattern, classes in _CLASS_HINTS:
        if pattern.search(text):
            out.update(dict.fromkeys(classes))
    return tuple(out)


def catalogue(result: CompileResult, contract: str, component: str) -> tuple[Setter, ...]:
    """The administrative setters of ``contract`` (and its bases) as compiled in ``result``."""
    index, node = _index(result, contract)
    seen_names: set[str] = set()
    setters: list[Setter] = []
    for base_id in node.get("linearizedBaseContracts", [node["id"]]):
        base = index.nodes.get(base_id)
        if base is None:
            continue
        for fn in base.get("nodes", []):
            if fn.get("nodeType") != "FunctionDefinition" or fn.get("kind") != "function":
                continue
            name = fn.get("name", "")
            if name in seen_names:
                continue  # overridden in a more derived contract
            seen_names.add(name)
            if fn.get("visibility") not in ("external", "public") or name in _NOT_REMEDIES:
                continue
            if fn.get("stateMutability") in ("view", "pure"):
                continue
            guard = _guard(fn, index)
            if guard is None:
                continue
            params = (fn.get("parameters") or {}).get("parameters", [])
            bindings: dict[int, str | None] = {p["id"]: p["name"] for p in params}
            writes, stored = _writes(fn, index, bindings, set())
            if not writes:
                continue
            sparams = tuple(SetterParam(p["name"], _abi_type(p), stored.get(p["name"])) for p in params)
            setters.append(
                Setter(
                    component=component,
                    contract=contract,
                    function=name,
                    signature=f"{name}({','.join(p.type for p in sparams)})",
                    params=sparams,
                    guard=guard,
                    writes=tuple(writes),
                    classes=infer_classes(name, [p.name for p in sparams], tuple(writes)),
                )
            )
    return tuple(setters)


def apply_declared(
    setters: Sequence[Setter], declared: Mapping[str, Sequence[str]], *, only_declared: bool = False
) -> tuple[Setter, ...]:
    """Confirm or override inferred classes: ``declared`` maps ``component.function`` to the
    classes the user states it can neutralise. ``only_declared`` drops every setter not listed.
    A declared setter that does not exist is an error (a typo must not silently drop a remedy)."""
    known = {s.key for s in setters}
    missing = sorted(set(declared) - known)
    if missing:
        raise RemedyError(
            f"remedies declared for unknown setter(s) {', '.join(missing)}; "
            f"the catalogue has: {', '.join(sorted(known)) or 'none'}"
        )
    out = []
    for s in setters:
        if s.key in declared:
            out.append(replace(s, classes=tuple(declared[s.key]), confirmed=True))
        elif not only_declared:
            out.append(s)
    return tuple(out)
