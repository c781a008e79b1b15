"""A typed view over solc's compact AST: contracts, functions, modifiers and what they touch.

Facts are computed from the AST (not from text): which state variables a function writes and
reads (through internal calls and modifiers too), which external calls it makes, whether it checks
``msg.sender``. The same AST gives the byte offsets the fix templates edit at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from bulwark.patch.edit import SourceText, Src
from bulwark.patch.expr import (
    ADDRESS_CALLS,
    Node,
    assigned_targets,
    call_target,
    callee_name,
    is_external_call,
    is_msg_sender,
    is_tx_origin,
)
from bulwark.toolchain import solast as _ast
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.solast import root_identifier as base_variable
from bulwark.toolchain.solast import type_string
from bulwark.toolchain.versions import version_key

__all__ = [
    "ADDRESS_CALLS",
    "Contract",
    "Function",
    "Modifier",
    "Node",
    "Program",
    "assigned_targets",
    "base_variable",
    "call_target",
    "callee_name",
    "is_external_call",
    "is_msg_sender",
    "is_tx_origin",
    "src",
    "type_string",
    "walk",
]

# Names of checks that gate on the caller even when msg.sender is not visible in the condition.
_AUTH_CALLS = frozenset(
    {"_checkRole", "_checkOwner", "hasRole", "_onlyOwner", "_checkOwnerOrRole", "_requireOwner", "_auth"}
)


def walk(node: Any) -> Iterator[Node]:
    """Every AST node under ``node`` (itself included), depth first, in source order (the one
    walker, toolchain.solast's, typed for the patch stage's mutable nodes)."""
    return cast(Iterator[Node], _ast.walk(node))


def src(node: Mapping[str, Any]) -> Src:
    return Src.parse(str(node["src"]))


@dataclass
class _Declared:
    """A declaration's AST node: its id and its name."""

    node: Node

    @property
    def id(self) -> int:
        return int(self.node["id"])

    @property
    def name(self) -> str:
        return str(self.node.get("name") or "")


@dataclass
class _Part(_Declared):
    """What a function and a modifier share: where they are, and what they call."""

    contract: Contract
    program: Program

    @property
    def body(self) -> Node | None:
        body = self.node.get("body")
        return body if isinstance(body, dict) else None

    def calls(self) -> list[Node]:
        return self.program.nodes(self.body, "FunctionCall")

    def _called(self) -> list[Function | Modifier]:
        """Functions of the contract this part calls internally."""
        out: list[Function | Modifier] = []
        for call in self.calls():
            target = self.program.internal_target(self.contract, call)
            if target is not None:
                out.append(target)
        return out


@dataclass
class Function(_Part):
    @property
    def kind(self) -> str:
        if self.node.get("kind"):
            return str(self.node["kind"])
        if self.node.get("isConstructor"):
            return "constructor"
        return "fallback" if not self.name else "function"

    @property
    def visibility(self) -> str:
        return str(self.node.get("visibility") or "public")

    @property
    def mutability(self) -> str:
        if self.node.get("stateMutability"):
            return str(self.node["stateMutability"])
        return (
            "view" if self.node.get("constant") else ("payable" if self.node.get("payable") else "nonpayable")
        )

    @property
    def is_entry(self) -> bool:
        return self.visibility in ("public", "external") and self.kind in ("function", "fallback", "receive")

    @property
    def mutates(self) -> bool:
        return self.mutability not in ("view", "pure", "constant")

    @property
    def body(self) -> Node | None:
        body = self.node.get("body")
        return body if isinstance(body, dict) and body.get("nodeType") == "Block" else None

    @property
    def modifiers(self) -> list[Node]:
        return [m for m in self.node.get("modifiers") or [] if m.get("nodeType") == "ModifierInvocation"]

    @property
    def modifier_names(self) -> list[str]:
        out = []
        for m in self.modifiers:
            ref = m.get("modifierName") or {}
            out.append(str(ref.get("name") or "").split(".")[-1])
        return out

    @property
    def signature(self) -> str:
        params = self.node.get("parameters", {}).get("parameters") or []
        types = [_abi_type(p) for p in params]
        return f"{self.name}({','.join(types)})"

    @property
    def source(self) -> SourceText | None:
        return self.program.text_of(self.node)

    def external_calls(self) -> list[Node]:
        return [c for c in self.calls() if is_external_call(c)]

    @cached_property
    def internal_callees(self) -> list[Function | Modifier]:
        """Functions called internally and modifiers applied (one level)."""
        out: list[Function | Modifier] = []
        for m in self.modifiers:
            ref = (m.get("modifierName") or {}).get("referencedDeclaration")
            mod = self.program.resolve_modifier(self.contract, ref)
            if mod is not None:
                out.append(mod)
        return out + self._called()


@dataclass
class Modifier(_Part):
    modifiers: list[Node] = field(default_factory=list)

    @cached_property
    def internal_callees(self) -> list[Function | Modifier]:
        return self._called()


def _abi_type(param: Mapping[str, Any]) -> str:
    ts = type_string(param)
    for prefix in ("contract ", "enum ", "struct "):
        if ts.startswith(prefix):
            return "address" if prefix == "contract " else ts.split(" ", 1)[1].split(".")[-1]
    return (
        ts.replace(" storage ref", "").replace(" memory", "").replace(" calldata", "").replace(" payable", "")
    )


@dataclass
class Contract(_Declared):
    path: str
    program: Program

    @property
    def kind(self) -> str:
        return str(self.node.get("contractKind") or "contract")

    @property
    def linearized(self) -> list[Contract]:
        out = []
        for cid in self.node.get("linearizedBaseContracts") or [self.id]:
            c = self.program.contracts_by_id.get(int(cid))
            if c is not None:
                out.append(c)
        return out

    def own(self, node_type: str) -> list[Node]:
        return [n for n in self.node.get("nodes") or [] if n.get("nodeType") == node_type]

    @cached_property
    def functions(self) -> list[Function]:
        return [Function(n, self, self.program) for n in self.own("FunctionDefinition")]

    @cached_property
    def all_functions(self) -> list[Function]:
        """Functions visible in this contract, most derived first (overridden ones dropped)."""
        seen: set[str] = set()
        out = []
        for c in self.linearized:
            for f in c.functions:
                key = f.signature if f.kind == "function" else f.kind
                if key in seen:
                    continue
                seen.add(key)
                out.append(f)
        return out

    @cached_property
    def modifiers(self) -> list[Modifier]:
        return [Modifier(n, self, self.program) for n in self.own("ModifierDefinition")]

    @cached_property
    def all_modifiers(self) -> dict[str, Modifier]:
        out: dict[str, Modifier] = {}
        for c in reversed(self.linearized):
            for m in c.modifiers:
                out[m.name] = m
        return out

    @cached_property
    def state_variables(self) -> list[Node]:
        out = []
        for c in reversed(self.linearized):
            out.extend(c.own("VariableDeclaration"))
        return out

    @cached_property
    def _by_name(self) -> dict[str, Function]:
        """Name and signature -> the first visible function (most derived), built once: a lookup
        per internal call must not scan every function (quadratic on large contracts)."""
        out: dict[str, Function] = {}
        for f in self.all_functions:
            if f.name:
                out.setdefault(f.name, f)
                out.setdefault(f.signature, f)
        return out

    def function(self, name: str) -> Function | None:
        """By name or signature; ``fallback`` and ``receive`` (unnamed before 0.6) by kind."""
        found = self._by_name.get(name)
        if found is not None:
            return found
        if name in ("fallback", "receive"):
            return next((f for f in self.all_functions if not f.name and f.kind == name), None)
        return None

    @property
    def source(self) -> SourceText:
        return self.program.texts[self.path]

    @property
    def is_upgradeable(self) -> bool:
        """Behind a proxy: inherits an Initializable/UUPS/proxy-aware base or has an initializer."""
        names = {c.name for c in self.linearized}
        if names & {"Initializable", "UUPSUpgradeable", "ERC1967Upgrade", "ERC1967UpgradeUpgradeable"}:
            return True
        if any(n.endswith("Upgradeable") for n in names):
            return True
        return any("initializer" in f.modifier_names for f in self.all_functions)


class Program:
    """All contracts of one compilation, indexed by AST id, with the text of the edited files."""

    def __init__(self, result: CompileResult, sources: Mapping[str, str]) -> None:
        self.result = result
        self.version = result.version
        self.texts: dict[str, SourceText] = {p: SourceText(p, t) for p, t in sources.items()}
        self.file_ids: dict[int, str] = {u.id: p for p, u in result.sources.items()}
        self.contracts_by_id: dict[int, Contract] = {}
        self.nodes_by_id: dict[int, Node] = {}
        self.contract_of_node: dict[int, Contract] = {}
        for path, unit in result.sources.items():
            for node in unit.ast.get("nodes") or []:
                if node.get("nodeType") == "ContractDefinition":
                    contract = Contract(node, path, self)
                    self.contracts_by_id[contract.id] = contract
                    for sub in walk(node):
                        if "id" in sub:
                            self.nodes_by_id[int(sub["id"])] = sub
                            self.contract_of_node[int(sub["id"])] = contract
        self._fn_cache: dict[int, Function] = {}
        self._mod_cache: dict[int, Modifier] = {}
        # per-function facts, computed once: the checks ask them of every function many times
        self._closure: dict[int, list[Function | Modifier]] = {}
        self._writes: dict[int, frozenset[int]] = {}
        self._reads: dict[int, frozenset[int]] = {}
        self._gates: dict[int, bool] = {}
        self._callers: dict[int, set[int]] | None = None
        # facts a check or template derives from the whole contract, keyed by what they depend on
        self.memo: dict[tuple[Any, ...], Any] = {}
        self._nodes: dict[int, tuple[Any, list[Node], dict[str, list[Node]]]] = {}

    def nodes(self, body: Any, kind: str | None = None) -> list[Node]:
        """``walk(body)`` as a list, or only the nodes of type ``kind``; indexed once per body: the
        checks go over every function body many times, and a recursive walk each time is most of
        the localisation's cost on a large contract."""
        if body is None:
            return []
        entry = self._nodes.get(id(body))
        if entry is None or entry[0] is not body:
            every = list(walk(body))
            by_kind: dict[str, list[Node]] = {}
            for n in every:
                by_kind.setdefault(str(n.get("nodeType")), []).append(n)
            entry = (body, every, by_kind)  # holding body keeps its id from being reused
            self._nodes[id(body)] = entry
        return entry[1] if kind is None else entry[2].get(kind, [])

    @property
    def vkey(self) -> tuple[int, ...]:
        return version_key(self.version)

    def at_least(self, *v: int) -> bool:
        return self.vkey >= v

    def text_of(self, node: Mapping[str, Any]) -> SourceText | None:
        return self.texts.get(self.file_ids.get(src(node).file, ""))

    def path_of(self, node: Mapping[str, Any]) -> str:
        return self.file_ids.get(src(node).file, "")

    def editable(self) -> list[Contract]:
        """Contracts defined in the files under repair (not in imports)."""
        return [c for c in self.contracts_by_id.values() if c.path in self.texts]

    def contract(self, name: str) -> Contract | None:
        for c in self.editable():
            if c.name == name:
                return c
        return None

    def function_by_id(self, fid: int) -> Function | None:
        if fid in self._fn_cache:
            return self._fn_cache[fid]
        node = self.nodes_by_id.get(fid)
        owner = self.contract_of_node.get(fid)
        if node is None or owner is None or node.get("nodeType") != "FunctionDefinition":
            return None
        for f in owner.functions:  # index the owner's functions in one pass
            self._fn_cache.setdefault(f.id, f)
        return self._fn_cache.get(fid)

    def resolve_modifier(self, contract: Contract, ref: Any) -> Modifier | None:
        if ref is None:
            return None
        node = self.nodes_by_id.get(int(ref))
        owner = self.contract_of_node.get(int(ref))
        if node is None or owner is None or node.get("nodeType") != "ModifierDefinition":
            return None
        # a derived contract may override the modifier: use the most derived one of that name
        return contract.all_modifiers.get(str(node.get("name"))) or next(
            (m for m in owner.modifiers if m.id == int(ref)), None
        )

    def internal_target(self, contract: Contract, call: Mapping[str, Any]) -> Function | None:
        expr = call.get("expression") or {}
        if expr.get("nodeType") == "Identifier":
            ref = expr.get("referencedDeclaration")
        elif expr.get("nodeType") == "MemberAccess" and " external" not in type_string(expr):
            base = expr.get("expression") or {}
            # super.f(), Base.f(), and library calls (internal library functions are inlined)
            ref = expr.get("referencedDeclaration") if base.get("nodeType") == "Identifier" else None
        else:
            return None
        if ref is None:
            return None
        fn = self.function_by_id(int(ref))
        if fn is None:
            return None
        if expr.get("nodeType") == "Identifier" and fn.kind == "function":
            # virtual dispatch: the most derived override in ``contract``
            return contract.function(fn.signature) or fn
        return fn

    # -- derived facts --------------------------------------------------------------------------

    def state_var_ids(self, contract: Contract) -> set[int]:
        return {int(v["id"]) for v in contract.state_variables}

    def direct_writes(self, body: Any) -> set[int]:
        out: set[int] = set()
        for n in walk(body):
            for target in assigned_targets(n):
                base = base_variable(target)
                ref = base.get("referencedDeclaration") if base else None
                decl = self.nodes_by_id.get(int(ref)) if ref is not None else None
                if decl is not None and decl.get("stateVariable"):
                    out.add(int(ref))  # type: ignore[arg-type]
            # storage pointers (Struct storage s = x[i]; s.a = 1) count as writes of x
            if n.get("nodeType") == "VariableDeclarationStatement":
                for d in n.get("declarations") or []:
                    if d and d.get("storageLocation") == "storage" and n.get("initialValue"):
                        base = base_variable(n["initialValue"])
                        ref = base.get("referencedDeclaration") if base else None
                        decl = self.nodes_by_id.get(int(ref)) if ref is not None else None
                        if decl is not None and decl.get("stateVariable"):
                            out.add(int(ref))  # type: ignore[arg-type]
        return out

    def direct_reads(self, body: Any) -> set[int]:
        out: set[int] = set()
        for n in walk(body):
            if n.get("nodeType") == "Identifier" and n.get("referencedDeclaration") is not None:
                decl = self.nodes_by_id.get(int(n["referencedDeclaration"]))
                if decl is not None and decl.get("stateVariable") and not decl.get("constant"):
                    out.add(int(n["referencedDeclaration"]))
        return out

    def closure(self, fn: Function | Modifier) -> list[Function | Modifier]:
        """``fn`` plus everything it calls internally or applies, transitively (memoised: the
        program is immutable once built)."""
        cached = self._closure.get(fn.id)
        if cached is not None:
            return list(cached)
        seen: dict[int, Function | Modifier] = {}
        stack: list[Function | Modifier] = [fn]
        while stack:
            cur = stack.pop()
            if cur.id in seen:
                continue
            seen[cur.id] = cur
            stack.extend(cur.internal_callees)
        self._closure[fn.id] = list(seen.values())
        return list(seen.values())

    def _direct_writes_of(self, part: Function | Modifier) -> frozenset[int]:
        if part.id not in self._writes:
            self._writes[part.id] = frozenset(self.direct_writes(part.body))
        return self._writes[part.id]

    def _direct_reads_of(self, part: Function | Modifier) -> frozenset[int]:
        if part.id not in self._reads:
            self._reads[part.id] = frozenset(self.direct_reads(part.body))
        return self._reads[part.id]

    def writes(self, fn: Function) -> set[int]:
        key = ("writes", fn.id)
        if key not in self.memo:
            self.memo[key] = frozenset().union(*(self._direct_writes_of(f) for f in self.closure(fn)))
        return set(self.memo[key])

    def reads(self, fn: Function) -> set[int]:
        key = ("reads", fn.id)
        if key not in self.memo:
            self.memo[key] = frozenset().union(*(self._direct_reads_of(f) for f in self.closure(fn)))
        return set(self.memo[key])

    def checks_sender(self, fn: Function, ignore: frozenset[int] = frozenset()) -> bool:
        """Does ``fn`` (or a modifier/internal call it makes) gate on the caller's identity? Flags
        in ``ignore`` (boolean mappings keyed by the caller) do not count as a gate."""
        for part in self.closure(fn):
            if ignore:
                if _gates_on_sender(part.body, self, ignore):
                    return True
                continue
            if part.id not in self._gates:
                self._gates[part.id] = _gates_on_sender(part.body, self)
            if self._gates[part.id]:
                return True
        return False

    def reaches(self, caller: Function | Modifier, fid: int) -> bool:
        """Is function ``fid`` in ``caller``'s closure (through a set, not a scan of the list)?"""
        callers = self._callers_index()
        return caller.id in callers.get(fid, ())

    def _callers_index(self) -> dict[int, set[int]]:
        if self._callers is None:
            self._callers = {}
            for contract in self.contracts_by_id.values():
                for f in contract.functions:
                    for part in self.closure(f):
                        self._callers.setdefault(part.id, set()).add(f.id)
                for m in contract.modifiers:
                    for part in self.closure(m):
                        self._callers.setdefault(part.id, set()).add(m.id)
        return self._callers

    def name_of(self, var_id: int) -> str:
        return str((self.nodes_by_id.get(var_id) or {}).get("name") or f"#{var_id}")


def _gates_on_sender(body: Any, program: Program, ignore: frozenset[int] = frozenset()) -> bool:
    for n in walk(body):
        kind = n.get("nodeType")
        if kind == "FunctionCall":
            name = callee_name(n)
            if name in _AUTH_CALLS:
                return True
            if (
                name in ("require", "assert")
                and n.get("arguments")
                and _sender_condition(n["arguments"][0], program, ignore)
            ):
                return True
        elif kind == "IfStatement" and _sender_condition(n.get("condition") or {}, program, ignore):
            return True
    return False


def _deny_list(name: str) -> bool:
    lowered = name.lower()
    return any(
        w in lowered for w in ("block", "black", "ban", "deny", "denied", "frozen", "sanction", "paused")
    )


def _is_caller(node: Mapping[str, Any]) -> bool:
    """``msg.sender``/``tx.origin``/``_msgSender()``, possibly inside type conversions."""
    if is_msg_sender(node) or is_tx_origin(node):
        return True
    args = node.get("arguments") or []
    return (
        node.get("nodeType") == "FunctionCall"
        and node.get("kind") == "typeConversion"
        and (len(args) == 1 and _is_caller(args[0]))
    )


def _is_parameter(node: Mapping[str, Any], program: Program) -> bool:
    """A parameter of the function (or modifier) it appears in, possibly inside type conversions:
    whatever the caller passes, so comparing the caller with it restricts no one."""
    args = node.get("arguments") or []
    if node.get("nodeType") == "FunctionCall" and node.get("kind") == "typeConversion" and len(args) == 1:
        return _is_parameter(args[0], program)
    ref = node.get("referencedDeclaration") if node.get("nodeType") == "Identifier" else None
    decl = program.nodes_by_id.get(int(ref)) if ref is not None else None
    scope = program.nodes_by_id.get(int(decl.get("scope") or -1)) if decl is not None else None
    if decl is None or scope is None or decl.get("stateVariable"):
        return False
    params = (scope.get("parameters") or {}).get("parameters") or []
    return any(p.get("id") == decl.get("id") for p in params)


def _sender_condition(
    cond: Mapping[str, Any], program: Program, ignore: frozenset[int] = frozenset()
) -> bool:
    """msg.sender compared for identity, or used as a key of a boolean mapping / role check."""
    for n in walk(cond):
        if n.get("nodeType") == "BinaryOperation" and n.get("operator") in ("==", "!="):
            sides = (n.get("leftExpression") or {}, n.get("rightExpression") or {})
            # the caller itself is compared (``owner == msg.sender``), not a value keyed by the caller
            # (``deposits[msg.sender] == 0`` is bookkeeping, not an identity check)
            if any(_is_caller(s) for s in sides):
                other = sides[1] if _is_caller(sides[0]) else sides[0]
                if not _is_parameter(other, program):
                    return True  # ``friend != msg.sender`` on an argument lets in every caller
        if n.get("nodeType") == "IndexAccess" and type_string(n) == "bool":
            indexed = n.get("baseExpression") or {}
            if _deny_list(str(indexed.get("memberName") or indexed.get("name") or "")):
                continue  # a blocklist keeps some callers out; it does not let only privileged ones in
            if indexed.get("referencedDeclaration") in ignore:
                continue
            if any(is_msg_sender(x) for x in walk(n.get("indexExpression") or {})):
                return True
        if (
            n.get("nodeType") == "FunctionCall"
            and type_string(n) == "bool"
            and any(is_msg_sender(x) for a in n.get("arguments") or [] for x in walk(a))
        ):
            name = (callee_name(n) or "").lower()
            if _deny_list(name):
                continue
            if any(k in name for k in ("role", "owner", "admin", "auth", "allowed", "whitelist", "operator")):
                return True
    return False
