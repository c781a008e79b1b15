"""What a fix template works with: the program (AST + facts), and edit builders that keep style.

Builders return ``Edit`` objects at AST byte offsets; nothing here searches the text with regexes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak

from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.edit import SourceText
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    callee_name,
    is_msg_sender,
    src,
    type_string,
    walk,
)

_GUARD_WORDS = ("only", "auth", "restricted", "admin", "owner", "governance", "role", "keeper")


_SETTER_PREFIXES = ("set", "update", "change", "grant", "revoke", "configure", "add", "remove")


def _is_setter(name: str) -> bool:
    return name.startswith(_SETTER_PREFIXES) or name.startswith(
        tuple(p.capitalize() for p in _SETTER_PREFIXES)
    )


def _reverts(body: Node) -> bool:
    """``revert(...)``, ``revert Err()`` or ``throw``, alone or as the only statement of a block."""
    stmts = body.get("statements") if body.get("nodeType") == "Block" else [body]
    if not stmts or len(stmts) != 1:
        return False
    only = stmts[0]
    if only.get("nodeType") in ("RevertStatement", "Throw"):
        return True
    expr = only.get("expression") or {}
    return only.get("nodeType") == "ExpressionStatement" and callee_name(expr) == "revert"


def erc7201_slot(namespace: str) -> int:
    """``keccak256(abi.encode(uint256(keccak256(id)) - 1)) & ~bytes32(uint256(0xff))`` (ERC-7201)."""
    inner = int.from_bytes(keccak(namespace.encode()), "big") - 1
    outer = int.from_bytes(keccak(inner.to_bytes(32, "big")), "big")
    return outer & ~0xFF


@dataclass(frozen=True, slots=True)
class Guard:
    """A way to restrict a function to privileged callers, as the contract already does it."""

    modifier: str | None  # invocation text, e.g. "onlyRole(ORACLE_ROLE)"
    statement: str | None  # or a statement to put first in the body, e.g. "require(msg.sender == owner);"
    origin: str  # why this guard: "sibling setPrices", "owner variable owner", ...


class FixContext:
    def __init__(self, program: Program) -> None:
        self.program = program
        self._unbraced: frozenset[int] | None = None

    def target(self, finding: Localisation) -> tuple[Contract, Function] | None:
        """The finding's contract and function, when the function has a body in an editable file."""
        contract = self.program.contract(finding.contract)
        fn = contract.function(finding.function) if contract and finding.function is not None else None
        if contract is None or fn is None or fn.body is None or not self.editable(fn.body):
            return None
        return contract, fn

    def reason(self, text: str) -> str:
        """``, "Bulwark: <text>"`` for a require's reason string (none before solc 0.4.22)."""
        return f', "Bulwark: {text}"' if self.program.at_least(0, 4, 22) else ""

    # -- text helpers ------------------------------------------------------------------------------

    def text(self, node: Mapping[str, Any]) -> SourceText:
        st = self.program.text_of(node)
        if st is None:
            raise KeyError("node is not in an editable file")
        return st

    def editable(self, node: Mapping[str, Any]) -> bool:
        return self.program.text_of(node) is not None

    def node_text(self, node: Mapping[str, Any]) -> str:
        return self.text(node).of(node)

    def replace(self, node: Mapping[str, Any], replacement: str) -> Edit:
        s = src(node)
        return Edit(self.text(node).path, s.start, s.end, replacement)

    def replace_statement(self, node: Mapping[str, Any], replacement: str) -> Edit:
        """Replace a statement together with its ';' (solc's ``src`` may stop before it)."""
        s = src(node)
        st = self.text(node)
        end = s.end + 1 if st.slice(s.end, s.end + 1) == ";" else s.end
        return Edit(st.path, s.start, end, replacement)

    def _unbraced_body(self, node: Mapping[str, Any]) -> bool:
        """Is ``node`` the whole body of an ``if``/``else``/loop written without braces? A statement
        put beside it would leave the branch (``if (c) x;`` + ``y;`` runs ``y`` unconditionally)."""
        if self._unbraced is None:
            ids: set[int] = set()
            for n in self.program.nodes_by_id.values():
                kind = n.get("nodeType")
                bodies: tuple[Any, ...]
                if kind == "IfStatement":
                    bodies = (n.get("trueBody"), n.get("falseBody"))
                elif kind in ("ForStatement", "WhileStatement", "DoWhileStatement"):
                    bodies = (n.get("body"),)
                else:
                    continue
                ids.update(int(b["id"]) for b in bodies if b and b.get("nodeType") != "Block" and "id" in b)
            self._unbraced = frozenset(ids)
        return "id" in node and int(node["id"]) in self._unbraced

    def _braced(self, node: Mapping[str, Any], before: str, after: str) -> Edit:
        """The unbraced body ``node`` wrapped in braces with ``before``/``after`` beside it."""
        s = src(node)
        st = self.text(node)
        end = s.end + 1 if st.slice(s.end, s.end + 1) == ";" else s.end
        body = st.slice(s.start, end)
        inner = " ".join(part for part in (before, body, after) if part)
        return Edit(st.path, s.start, end, f"{{ {inner} }}")

    def insert_before(self, node: Mapping[str, Any], statement: str) -> Edit:
        """Insert ``statement`` on its own line before the statement ``node`` (same indentation);
        an unbraced branch or loop body gets braces around both."""
        if self._unbraced_body(node):
            return self._braced(node, statement, "")
        st = self.text(node)
        s = src(node)
        indent = st.indent_at(s.start)
        line_start = st.line_start(s.start)
        if st.slice(line_start, s.start).strip():  # statement shares its line: stay inline
            return Edit(st.path, s.start, s.start, f"{statement} ")
        return Edit(st.path, line_start, line_start, f"{indent}{statement}\n")

    def insert_after(self, node: Mapping[str, Any], statement: str) -> Edit:
        """Insert ``statement`` after the statement ``node``; an unbraced branch or loop body gets
        braces around both."""
        if self._unbraced_body(node):
            return self._braced(node, "", statement)
        st = self.text(node)
        s = src(node)
        end = s.end
        # a statement's src excludes its ';' before 0.8-ish for some nodes; include it if present
        if st.slice(end, end + 1) == ";":
            end += 1
        indent = st.indent_at(s.start)
        return Edit(st.path, end, end, f"\n{indent}{statement}")

    def body_start(self, fn: Function, statement: str) -> Edit:
        body = fn.body
        assert body is not None
        st = self.text(body)
        stmts = body.get("statements") or []
        if stmts:
            return self.insert_before(stmts[0], statement)
        s = src(body)
        indent = st.indent_at(src(fn.node).start) + st.unit()
        return Edit(st.path, s.start + 1, s.start + 1, f"\n{indent}{statement}")

    def add_modifier(self, fn: Function, invocation: str, *, first: bool = False) -> Edit:
        """Add a modifier invocation to ``fn``'s header (after its last modifier, else its parameters).

        ``first`` puts it ahead of the modifiers already there: modifiers run in the order written,
        so a lock must come before one that makes an external call, or that call runs unlocked."""
        st = self.text(fn.node)
        mods = fn.modifiers
        if mods and first:
            return Edit(st.path, src(mods[0]).start, src(mods[0]).start, f"{invocation} ")
        if mods:
            last = src(mods[-1])
            if not st.slice(st.line_start(last.start), last.start).strip():  # one modifier per line
                return Edit(st.path, last.end, last.end, f"\n{st.indent_at(last.start)}{invocation}")
            return Edit(st.path, last.end, last.end, f" {invocation}")
        returns = (fn.node.get("returnParameters") or {}).get("parameters") or []
        body = fn.body
        if not returns and body is not None:
            pos = src(body).start
            before = st.slice(st.line_start(pos), pos)
            if before.strip():  # "... external {" on one line
                return Edit(st.path, pos, pos, f"{invocation} ")
            indent = st.indent_at(src(fn.node).start) + st.unit()
            return Edit(st.path, pos, pos, f"{st.unit()}{invocation}\n{indent[: -len(st.unit())]}")
        end = src(fn.node["parameters"]).end
        return Edit(st.path, end, end, f" {invocation}")

    def contract_end(self, contract: Contract, member: str) -> Edit:
        """Append a member (function, modifier, constant) before the contract's closing brace."""
        st = contract.source
        s = src(contract.node)
        close = s.end - 1
        unit = st.unit()
        base = st.indent_at(s.start)
        body = "\n".join((base + unit + ln) if ln.strip() else "" for ln in member.strip("\n").splitlines())
        return Edit(st.path, close, close, f"\n{body}\n{base}")

    def contract_start(self, contract: Contract, member: str) -> Edit:
        """Insert a member right after the contract's opening brace (before the first member)."""
        st = contract.source
        nodes = contract.node.get("nodes") or []
        unit = st.unit()
        base = st.indent_at(src(contract.node).start)
        body = "\n".join((base + unit + ln) if ln.strip() else "" for ln in member.strip("\n").splitlines())
        if nodes:
            first = src(nodes[0]).start
            ls = st.line_start(first)
            return Edit(st.path, ls, ls, f"{body}\n\n")
        return self.contract_end(contract, member)

    # -- the contract's own access-control pattern --------------------------------------------------

    def guards(self, contract: Contract, fn: Function | None = None) -> list[Guard]:
        """Ways this contract restricts callers, best first.

        Sibling entry points writing the same state come first (their exact modifier invocation),
        then the contract's most used caller-checking modifier, an owner-like variable, roles.
        """
        program = self.program
        out: list[Guard] = []
        seen: set[str] = set()

        def add(g: Guard) -> None:
            key = g.modifier or g.statement or ""
            if key and key not in seen:
                seen.add(key)
                out.append(g)

        gating = self.gating_modifiers(contract)
        target_writes = program.writes(fn) if fn is not None else set()
        siblings: dict[str, float] = {}
        sibling_origin: dict[str, str] = {}
        for other in contract.all_functions:
            if fn is not None and other.id == fn.id:
                continue
            if not other.is_entry:
                continue
            for m, name in zip(other.modifiers, other.modifier_names, strict=False):
                if name not in gating:
                    continue
                inv = self.node_text(m) if self.program.text_of(m) is not None else name
                if self.program.text_of(m) is None and m.get("arguments"):
                    continue  # an invocation with arguments in an imported file: skip
                siblings[inv] = siblings.get(inv, 0.0) + self._affinity(fn, other, target_writes)
                sibling_origin.setdefault(inv, other.name)
            # or an inline caller check at the top of its body: require(isGuardian[msg.sender], ...)
            for stmt in self._sender_checks(other):
                siblings[stmt] = siblings.get(stmt, 0.0) + self._affinity(fn, other, target_writes)
                sibling_origin.setdefault(stmt, other.name)
        for inv in sorted(siblings, key=lambda k: -siblings[k]):
            if inv.endswith(";"):
                add(Guard(None, inv, f"the check {sibling_origin[inv]} makes"))
            else:
                add(Guard(inv, None, f"modifier {inv} as on {sibling_origin[inv]}"))
        # gating modifiers declared but used nowhere (e.g. an inherited onlyOwner)
        for name, mod in gating.items():
            params = (mod.node.get("parameters") or {}).get("parameters") or []
            if not params:
                add(Guard(name, None, f"modifier {name}"))
        owner = self.owner_variable(contract)
        if owner is not None:
            add(Guard(None, f"require(msg.sender == {owner});", f"owner variable {owner}"))
        names = {f.name for f in contract.all_functions}
        if "hasRole" in names and "onlyRole" in contract.all_modifiers:
            add(Guard("onlyRole(DEFAULT_ADMIN_ROLE)", None, "AccessControl admin role"))
        if "owner" in names and "onlyOwner" not in contract.all_modifiers:
            add(Guard(None, "require(msg.sender == owner());", "owner() getter"))
        return out

    def _affinity(self, fn: Function | None, other: Function, target_writes: set[int]) -> float:
        """How strongly ``other``'s guard is evidence for ``fn``'s: it calls fn, shares its state,
        or is the same kind of function (a configuration setter, or an operation)."""
        program = self.program
        if fn is not None and program.reaches(other, fn.id):
            return 4.0
        weight = 2.0 if target_writes & program.writes(other) else 1.0
        if fn is not None and _is_setter(fn.name) == _is_setter(other.name):
            weight += 0.5
        return weight

    def _sender_checks(self, fn: Function) -> list[str]:
        """Leading ``require``/``if-revert`` statements of ``fn`` that gate on the caller and refer
        only to state and globals (so they can be copied into another function as they are)."""
        from bulwark.patch.solast import _deny_list, _sender_condition

        out: list[str] = []
        body = fn.body
        if body is None or self.program.text_of(body) is None:
            return out
        for stmt in (body.get("statements") or [])[:3]:
            kind = stmt.get("nodeType")
            expr = stmt.get("expression") or {}
            if kind == "ExpressionStatement" and expr.get("nodeType") == "FunctionCall":
                args = expr.get("arguments") or []
                if callee_name(expr) not in ("require", "assert") or not args:
                    continue
                cond = args[0]
            elif kind == "IfStatement" and not stmt.get("falseBody") and _reverts(stmt.get("trueBody") or {}):
                cond = stmt.get("condition") or {}
            else:
                continue
            if not _sender_condition(cond, self.program):
                continue
            names = [str(n.get("name") or "") for n in walk(cond) if n.get("nodeType") == "Identifier"]
            if any(_deny_list(n) for n in names):
                continue
            if all(self._portable(n) for n in walk(stmt) if n.get("nodeType") == "Identifier"):
                text = self.node_text(stmt).rstrip()
                out.append(text if text.endswith((";", "}")) else text + ";")
        return out

    def _portable(self, ident: Mapping[str, Any]) -> bool:
        ref = ident.get("referencedDeclaration")
        if ref is None or int(ref) < 0:
            return True  # msg, require, revert: globals
        decl = self.program.nodes_by_id.get(int(ref)) or {}
        if decl.get("nodeType") == "VariableDeclaration":
            return bool(decl.get("stateVariable"))
        return True  # functions, errors, events, contracts

    def gating_modifiers(self, contract: Contract) -> dict[str, Any]:
        """Modifiers of the contract that check the caller's identity (once per contract)."""
        key = ("gating-modifiers", contract.id)
        if key not in self.program.memo:
            self.program.memo[key] = self._gating_modifiers(contract)
        return dict(self.program.memo[key])

    def _gating_modifiers(self, contract: Contract) -> dict[str, Any]:
        from bulwark.patch.solast import _gates_on_sender

        out = {}
        for name, mod in contract.all_modifiers.items():
            parts = self.program.closure(mod)
            if any(_gates_on_sender(p.body, self.program) for p in parts) or (
                any(w in name.lower() for w in _GUARD_WORDS) and name.lower().startswith("only")
            ):
                out[name] = mod
        return out

    def owner_variable(self, contract: Contract) -> str | None:
        """An address state variable compared with msg.sender somewhere (or named like an owner);
        a walk of every function, so once per contract."""
        key = ("owner-variable", contract.id)
        if key not in self.program.memo:
            self.program.memo[key] = self._owner_variable(contract)
        return self.program.memo[key]  # type: ignore[no-any-return]

    def _owner_variable(self, contract: Contract) -> str | None:
        compared: Counter[str] = Counter()
        addr_vars = {
            int(v["id"]): str(v["name"])
            for v in contract.state_variables
            if type_string(v).startswith("address") and not v.get("constant")
        }
        for fn in contract.all_functions:
            for n in self.program.nodes(fn.body):
                if n.get("nodeType") == "BinaryOperation" and n.get("operator") in ("==", "!="):
                    sides = [n.get("leftExpression") or {}, n.get("rightExpression") or {}]
                    if any(is_msg_sender(s) for s in sides):
                        for s in sides:
                            ref = s.get("referencedDeclaration")
                            if s.get("nodeType") == "Identifier" and ref in addr_vars:
                                compared[addr_vars[int(ref)]] += 1
        for mod in contract.all_modifiers.values():
            for n in self.program.nodes(mod.body):
                if (
                    n.get("nodeType") == "Identifier"
                    and n.get("referencedDeclaration") in addr_vars
                    and any(is_msg_sender(x) for x in self.program.nodes(mod.body))
                ):
                    compared[addr_vars[int(n["referencedDeclaration"])]] += 1
        if compared:
            return compared.most_common(1)[0][0]
        for name in addr_vars.values():
            if name.lower().lstrip("_") in ("owner", "admin", "governance", "gov", "controller"):
                return name
        return None

    def all_nodes(self, fn: Function, node_type: str) -> list[Node]:
        return [n for n in self.program.nodes(fn.body) if n.get("nodeType") == node_type]
