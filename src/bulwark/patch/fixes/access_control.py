"""Access control: gate the function the way the contract already gates its privileged functions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, Guard
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.fixes.reentrancy import _split
from bulwark.patch.solast import Contract, Function, Node, base_variable, is_msg_sender, src, type_string


class AccessControlFix(FixTemplate):
    NAME = "access-control-guard"
    CLASSES = frozenset(
        {VulnClass.ACCESS_CONTROL, VulnClass.UNPROTECTED_SELFDESTRUCT, VulnClass.UNPROTECTED_DELEGATECALL}
    )
    DESCRIPTION = "adds the contract's own caller check (modifier, owner variable or role) to the function"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        contract = ctx.program.contract(finding.contract)
        if contract is None or finding.function is None:
            return
        fn = contract.function(finding.function)
        if fn is None or fn.body is None or not ctx.editable(fn.node):
            return
        if "misnamed-constructor" in finding.detector:
            yield from self._constructor(ctx, contract, fn, finding)
            return
        if "unprotected-initializer" in finding.detector:
            yield from self._initializer(ctx, contract, fn, finding)
            return
        claimant = _claimant(ctx, contract, fn)
        if claimant is not None:
            yield self.candidate(
                finding,
                [ctx.body_start(fn, f"require(msg.sender == {claimant});")],
                f"{fn.name} in {contract.name} hands the caller a privileged role once {claimant} is set, "
                f"but never checks that the caller is {claimant}, the account a privileged function chose. "
                f"The fix lets only {claimant} complete the hand-over (a two-step transfer as intended); "
                "the ABI and storage layout are unchanged.",
                preference=1,
            )
        guards = [_without_origin(g) for g in ctx.guards(contract, fn)]
        if fn.name == "_authorizeUpgrade":
            guards.sort(key=lambda g: 0 if "UPGRADE" in (g.modifier or g.statement or "").upper() else 1)
            guards = _upgrade_roles(contract) + guards
        inherited = fn.contract.id != contract.id
        sites = _internal_sites(ctx, contract, fn)
        for rank, guard in enumerate(guards[:3] if sites and not inherited else []):
            # other functions call it as an internal step: they keep calling the body unguarded, the
            # public face gets the guard
            split = _split(ctx, contract, fn, guard.modifier or "", sites, first=guard.statement)
            if split is not None:
                yield self.candidate(
                    finding,
                    split,
                    f"{fn.name} in {contract.name} is an internal step of "
                    f"{', '.join(sorted({_caller_name(ctx, contract, s) for s in sites}))} but was public "
                    f"with no caller check, so anyone could run it alone. The fix guards the public "
                    f"{fn.name} with {guard.modifier or guard.statement} ({guard.origin}) and lets the "
                    "functions that use it internally call its unguarded body, so they work as before. ABI "
                    "and storage layout are unchanged.",
                    preference=0.5 - rank,
                )
        for rank, guard in enumerate(guards[:3]):
            if inherited:
                # the guard may not exist where fn is declared: guard an override in the contract
                override = _override(ctx, contract, fn, guard)
                if override is not None:
                    yield self.candidate(
                        finding,
                        override,
                        f"{fn.name}, inherited by {contract.name} from {fn.contract.name}, changed "
                        "privileged state with no check of the caller. The fix overrides it in "
                        f"{contract.name} with "
                        f"{guard.modifier or guard.statement} ({guard.origin}) and forwards to the inherited "
                        "code, so legitimate callers keep access and the public interface is unchanged.",
                        preference=-rank - 0.5,
                    )
            yield self.candidate(
                finding,
                [_apply(ctx, fn, guard)],
                f"{fn.name} in {contract.name} changed privileged state with no check of the caller. The fix "
                f"restricts it with {guard.modifier or guard.statement} ({guard.origin}), the check the "
                "contract already uses for its privileged functions, so legitimate callers keep access "
                "and the public interface is unchanged.",
                preference=-rank,
            )

    def _initializer(
        self, ctx: FixContext, contract: Contract, fn: Function, finding: Localisation
    ) -> Iterator[Candidate]:
        mods = contract.all_modifiers
        if "initializer" in mods:
            yield self.candidate(
                finding,
                [ctx.add_modifier(fn, "initializer")],
                f"{fn.name} could be called again by anyone to take over {contract.name}. The fix "
                "applies the "
                "contract's own `initializer` modifier, so it runs once (and never again on a live proxy).",
                preference=1,
            )
        addr = _first_written_address(ctx, fn)
        if addr is not None:
            yield self.candidate(
                finding,
                [ctx.body_start(fn, f"require({addr} == address(0));")],
                f"{fn.name} could be called again by anyone to overwrite {addr}. The fix lets it run "
                "only while "
                f"{addr} is unset, i.e. once, which keeps first-time initialisation working and stops "
                "re-runs.",
            )

    def _constructor(
        self, ctx: FixContext, contract: Contract, fn: Function, finding: Localisation
    ) -> Iterator[Candidate]:
        st = ctx.text(fn.node)
        s = src(fn.node)
        head = st.slice(s.start, s.start + 8 + 64)
        name_at = head.find(fn.name)
        if head.startswith("function") and name_at > 8 and not head[8:name_at].strip():
            yield self.candidate(
                finding,
                [
                    _edit(
                        st.path,
                        s.start,
                        s.start + len(head[: name_at + len(fn.name)].encode()),
                        # the keyword came with solc 0.4.22; before it a constructor bears the name
                        "constructor" if ctx.program.at_least(0, 4, 22) else f"function {contract.name}",
                    )
                ],
                f"{fn.name} was meant as the constructor of {contract.name} but its name does not match, so "
                "anyone could call it and become the owner. The fix makes it the constructor.",
                removed_selectors=frozenset({fn.signature}),
                preference=1,
            )
        addr = _first_written_address(ctx, fn)
        if addr is not None:
            yield self.candidate(
                finding,
                [ctx.body_start(fn, f"require({addr} == address(0));")],
                f"{fn.name} is a misnamed constructor anyone can call. The fix keeps the function "
                "(same ABI) but "
                f"lets it run only while {addr} is unset.",
            )


_ORIGIN = re.compile(r"\btx\.origin\b")


def _without_origin(guard: Guard) -> Guard:
    """A sibling's check copied as written would copy its flaw too: ``tx.origin`` in it (any contract
    the owner calls passes it) becomes ``msg.sender``, as the tx-origin fix makes it."""
    if guard.statement is None or not _ORIGIN.search(guard.statement):
        return guard
    return replace(guard, statement=_ORIGIN.sub("msg.sender", guard.statement))


def _edit(path: str, start: int, end: int, text: str) -> Edit:
    return Edit(path, start, end, text)


def _apply(ctx: FixContext, fn: Function, guard: Guard) -> Edit:
    if guard.modifier is not None:
        return ctx.add_modifier(fn, guard.modifier)
    assert guard.statement is not None
    return ctx.body_start(fn, guard.statement)


def _override(ctx: FixContext, contract: Contract, fn: Function, guard: Guard) -> list[Edit] | None:
    """An override of inherited ``fn`` in ``contract`` that applies ``guard`` and calls ``super``."""
    params = (fn.node.get("parameters") or {}).get("parameters") or []
    if fn.visibility != "public" or any(not p.get("name") for p in params) or not ctx.editable(fn.node):
        return None
    modern = ctx.program.at_least(0, 6)
    edits: list[Edit] = []
    if modern and not fn.node.get("virtual"):
        end = src(fn.node["parameters"]).end
        edits.append(Edit(ctx.text(fn.node).path, end, end, " virtual"))
    rets = fn.node.get("returnParameters") or {}
    returns = f" returns {ctx.node_text(rets)}" if rets.get("parameters") else ""
    mutability = " payable" if fn.mutability == "payable" else ""
    override = " override" if modern else ""
    mods = f" {guard.modifier}" if guard.modifier else ""
    first = f"{guard.statement}\n    " if guard.statement else ""
    args = ", ".join(str(p["name"]) for p in params)
    forward = f"return super.{fn.name}({args});" if returns else f"super.{fn.name}({args});"
    member = (
        f"function {fn.name}{ctx.node_text(fn.node['parameters'])} public{mutability}{override}{mods}"
        f"{returns} {{\n    {first}{forward}\n}}\n"
    )
    edits.append(ctx.contract_end(contract, member))
    return edits


def _upgrade_roles(contract: Contract) -> list[Guard]:
    if "onlyRole" not in contract.all_modifiers:
        return []
    roles = [
        str(v["name"])
        for v in contract.state_variables
        if v.get("constant") and "UPGRADE" in str(v["name"]).upper() and type_string(v) == "bytes32"
    ]
    return [Guard(f"onlyRole({r})", None, f"role {r}") for r in roles]


def _internal_sites(ctx: FixContext, contract: Contract, fn: Function) -> list[Node]:
    """Internal calls of ``fn`` from the contract's other functions."""
    program = ctx.program
    out: list[Node] = []
    for g in contract.all_functions:
        if g.id == fn.id or g.body is None:
            continue
        for call in program.nodes(g.body, "FunctionCall"):
            target = program.internal_target(contract, call)
            if target is not None and target.id == fn.id:
                out.append(call)
    return out


def _caller_name(ctx: FixContext, contract: Contract, call: Node) -> str:
    for g in contract.all_functions:
        if g.body is not None and any(c is call for c in ctx.program.nodes(g.body, "FunctionCall")):
            return g.name or g.kind
    return "another function"


def _claimant(ctx: FixContext, contract: Contract, fn: Function) -> str | None:
    """The pending account of a two-step hand-over: ``fn`` sets a state variable to ``msg.sender``
    and reads another address variable that only privileged functions (or the constructor) write
    (``nominee``, ``pendingOwner``): the one account meant to call it."""
    program = ctx.program
    takes = set()
    for n in program.nodes(fn.body, "Assignment"):
        if is_msg_sender(n.get("rightHandSide") or {}):
            root = base_variable(n.get("leftHandSide") or {}) or {}
            if root.get("referencedDeclaration") is not None:
                takes.add(int(root["referencedDeclaration"]))
    if not takes:
        return None
    for ref in sorted(program.reads(fn) - takes):
        decl = program.nodes_by_id.get(ref) or {}
        if type_string(decl) not in ("address", "address payable") or decl.get("constant"):
            continue
        writers = [g for g in contract.all_functions if g.kind != "constructor" and ref in program.writes(g)]
        if (
            writers
            and all(g.id == fn.id or program.checks_sender(g) for g in writers)
            and any(g.id != fn.id for g in writers)
        ):
            return str(decl.get("name"))
    return None


def _first_written_address(ctx: FixContext, fn: Function) -> str | None:
    program = ctx.program
    for var in sorted(program.direct_writes(fn.body)):
        decl = program.nodes_by_id.get(var) or {}
        if type_string(decl).startswith("address") and "mapping" not in type_string(decl):
            return str(decl.get("name"))
    return None
