"""Upgrade-safety checks between the live implementation and a candidate, read from solc's AST.

The checks users know from OpenZeppelin's upgrades plugins, written against the compact AST:

* ``constructor-state``: a constructor may only call ``_disableInitializers()``;
* ``state-variable-assignment``: a state variable initialised at its declaration (runs in the
  constructor, never in the proxy);
* ``immutable``: an immutable (lives in the implementation's code, not in the proxy's storage)
  unless NatSpec says ``@custom:oz-upgrades-unsafe-allow state-variable-immutable``;
* ``selfdestruct`` / ``delegatecall``: in the implementation's own code (Solidity or Yul);
* ``initializer-missing`` / ``initializer-order`` / ``initializer-call-dropped``: initialisers
  kept, parents initialised base-first, no parent initialiser dropped;
* ``uups-missing``: ``upgradeToAndCall`` and ``proxiableUUID`` still public;
* ``authorize-upgrade-unrestricted``: ``_authorizeUpgrade`` with no access-control modifier and
  no ``msg.sender``-based check in its body (Slither does not flag this one);
* ``selector-removed``: every public function of the live implementation is still there;
* ``code-size``: the deployed code exceeds EIP-170's 24,576 bytes.

Code from OpenZeppelin (under ``@openzeppelin/``) is trusted: its own ``delegatecall`` in
``ERC1967Utils`` and immutable ``__self`` in ``UUPSUpgradeable`` are by design.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from bulwark.domain.verify import EIP170_LIMIT, Check, Reason
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.solast import AstIndex, Node, members, walk
from bulwark.verify._ast import is_library_code, unsafe_allows

__all__ = ["SENDER_CHECKS", "SafetyInput", "check_upgrade_safety"]

# Calls that tie an action to the caller; a restriction must reach one of these (or msg.sender).
SENDER_CHECKS = frozenset(
    {
        "_msgSender",
        "_checkRole",
        "_checkOwner",
        "hasRole",
        "owner",
        "_checkAuthorized",
        "_checkCanCall",
        "_checkSender",
        "_onlyOwner",
        "_checkProxyAdmin",
    }
)
_INITIALIZER_MODIFIERS = frozenset({"initializer", "reinitializer"})
_UUPS_SELECTORS = ("upgradeToAndCall(address,bytes)", "proxiableUUID()")


@dataclass(frozen=True, slots=True)
class SafetyInput:
    live: CompileResult
    live_contract: str
    candidate: CompileResult
    candidate_contract: str


def _reason(code: str, subject: str, message: str) -> Reason:
    return Reason(Check.SAFETY, code, subject, message)


class _View:
    """One compiled contract: its AST node, linearization and the code we do not trust blindly."""

    def __init__(self, result: CompileResult, contract: str) -> None:
        self.result = result
        self.artifact = result.contract(contract)
        self.index = AstIndex.of(result)
        self.node = self.index.contract(self.artifact.name, self.artifact.source_path)
        self.bases = self.index.linearization(self.node)
        self.own = tuple(b for b in self.bases if not is_library_code(self.index, b))

    def functions(self, contracts: tuple[Node, ...] | None = None) -> Iterator[tuple[Node, Node]]:
        for contract in self.bases if contracts is None else contracts:
            for fn in members(contract, "FunctionDefinition"):
                yield contract, fn

    def initializers(self) -> dict[str, tuple[Node, Node]]:
        out: dict[str, tuple[Node, Node]] = {}
        for contract, fn in self.functions():
            if fn.get("visibility") not in ("public", "external") or fn.get("kind") != "function":
                continue
            mods = {_modifier_name(m) for m in fn.get("modifiers", [])}
            if mods & _INITIALIZER_MODIFIERS:
                out.setdefault(_signature(fn), (contract, fn))
        return out

    def scope_position(self, decl_id: int) -> int | None:
        decl = self.index.nodes.get(decl_id)
        if decl is None:
            return None
        scope = decl.get("scope")
        ids = [b.get("id") for b in self.bases]
        return ids.index(scope) if scope in ids else None


def _modifier_name(inv: Node) -> str:
    name = inv.get("modifierName") or {}
    return str(name.get("name", "")).split(".")[-1]


def _signature(fn: Node) -> str:
    params = (fn.get("parameters") or {}).get("parameters", [])
    types = ",".join(str((p.get("typeDescriptions") or {}).get("typeString", "")) for p in params)
    return f"{fn.get('name')}({types})"


def _called_name(call: Node) -> str:
    expr = call.get("expression") or {}
    if expr.get("nodeType") == "Identifier":
        return str(expr.get("name", ""))
    if expr.get("nodeType") == "MemberAccess":
        return str(expr.get("memberName", ""))
    return ""


def _call_target(call: Node) -> int | None:
    ref = (call.get("expression") or {}).get("referencedDeclaration")
    return ref if isinstance(ref, int) else None


def check_upgrade_safety(inp: SafetyInput) -> tuple[Reason, ...]:
    live = _View(inp.live, inp.live_contract)
    cand = _View(inp.candidate, inp.candidate_contract)
    reasons: list[Reason] = []
    reasons += _constructor_and_state(cand)
    reasons += _hazards(cand)
    reasons += _initializers(live, cand)
    reasons += _uups(live, cand)
    reasons += _authorize_upgrade(live, cand)
    reasons += _selectors(live, cand)
    size = len(cand.artifact.deployed_bytecode)
    if size > EIP170_LIMIT:
        reasons.append(
            _reason(
                "code-size",
                cand.artifact.name,
                f"{cand.artifact.name} deploys {size} bytes of code, over the EIP-170 limit of "
                f"{EIP170_LIMIT}; it cannot be deployed on mainnet",
            )
        )
    return tuple(reasons)


def _constructor_and_state(view: _View) -> list[Reason]:
    out: list[Reason] = []
    for contract, fn in view.functions(view.own):
        if fn.get("kind") != "constructor":
            continue
        name = str(contract.get("name"))
        stmts = (fn.get("body") or {}).get("statements", [])
        extra = [
            s
            for s in stmts
            if not (
                s.get("nodeType") == "ExpressionStatement"
                and _called_name(s.get("expression") or {}) == "_disableInitializers"
            )
        ]
        base_args = [m for m in fn.get("modifiers", []) if m.get("arguments")]
        if extra or base_args:
            out.append(
                _reason(
                    "constructor-state",
                    f"{name}.constructor",
                    f"the constructor of {name} does more than _disableInitializers(); its effects land in "
                    "the implementation's storage, never in the proxy's",
                )
            )
    for contract in view.own:
        for var in members(contract, "VariableDeclaration"):
            subject = f"{contract.get('name')}.{var.get('name')}"
            mut = var.get("mutability")
            if mut == "mutable" and not var.get("constant") and var.get("value") is not None:
                out.append(
                    _reason(
                        "state-variable-assignment",
                        subject,
                        f"state variable {subject} is initialised at its declaration; that runs in the "
                        "constructor, so the proxy never sees the value (set it in the initializer)",
                    )
                )
            if mut == "immutable" and "state-variable-immutable" not in unsafe_allows(var):
                out.append(
                    _reason(
                        "immutable",
                        subject,
                        f"immutable {subject} lives in the implementation's code, not in the proxy's "
                        "storage; mark it @custom:oz-upgrades-unsafe-allow state-variable-immutable if "
                        "intended",
                    )
                )
    return out


def _hazards(view: _View) -> list[Reason]:
    out: list[Reason] = []
    for contract, fn in view.functions(view.own):
        allowed = unsafe_allows(fn) | unsafe_allows(contract)
        where = f"{contract.get('name')}.{fn.get('name') or fn.get('kind')}"
        seen: set[str] = set()
        for node in walk(fn.get("body") or {}):
            kind = node.get("nodeType")
            name = ""
            if kind == "FunctionCall":
                name = _called_name(node)
            elif kind == "YulFunctionCall":
                name = str((node.get("functionName") or {}).get("name", ""))
            if name in ("selfdestruct", "suicide") and "selfdestruct" not in allowed and name not in seen:
                seen.add(name)
                out.append(
                    _reason(
                        "selfdestruct",
                        where,
                        f"{where} can selfdestruct the implementation (every proxy pointing at it breaks)",
                    )
                )
            if name == "delegatecall" and "delegatecall" not in allowed and name not in seen:
                seen.add(name)
                out.append(
                    _reason(
                        "delegatecall",
                        where,
                        f"{where} uses delegatecall: code outside the audited implementation runs with the "
                        "proxy's storage (or can selfdestruct the implementation)",
                    )
                )
    return out


def _init_calls(view: _View, fn: Node) -> list[tuple[str, int | None]]:
    """``__X_init`` calls in an initializer, in source order, with their contract's position."""
    calls: list[tuple[str, int | None]] = []
    for node in walk(fn.get("body") or {}):
        if node.get("nodeType") != "FunctionCall":
            continue
        name = _called_name(node)
        if name.startswith("__") and (name.endswith("_init") or name.endswith("_init_unchained")):
            target = _call_target(node)
            calls.append((name, view.scope_position(target) if target is not None else None))
    return calls


def _initializers(live: _View, cand: _View) -> list[Reason]:
    out: list[Reason] = []
    live_inits, cand_inits = live.initializers(), cand.initializers()
    for sig in sorted(live_inits):
        if sig not in cand_inits:
            out.append(
                _reason(
                    "initializer-missing",
                    sig,
                    f"initializer {sig} of the live implementation is gone from the candidate",
                )
            )
    for sig, (contract, fn) in sorted(cand_inits.items()):
        if contract not in cand.own:
            continue
        calls = _init_calls(cand, fn)
        for (a, pa), (b, pb) in itertools.pairwise(calls):
            if pa is not None and pb is not None and pa < pb:
                out.append(
                    _reason(
                        "initializer-order",
                        sig,
                        f"{sig} calls {a} before {b}, but {b}'s contract is a base of {a}'s; initialise "
                        "parents base-first (linearization order)",
                    )
                )
        if sig in live_inits:
            dropped = {n for n, _ in _init_calls(live, live_inits[sig][1])} - {n for n, _ in calls}
            for name in sorted(dropped):
                out.append(
                    _reason(
                        "initializer-call-dropped",
                        f"{sig}:{name}",
                        f"{sig} no longer calls {name}, which the live implementation's initializer calls",
                    )
                )
    return out


def _uups(live: _View, cand: _View) -> list[Reason]:
    """A UUPS implementation must stay upgradeable; one behind a Transparent proxy (upgraded by its
    ProxyAdmin) never had these functions, and needs none."""
    had, have = live.artifact.method_identifiers, cand.artifact.method_identifiers
    return [
        _reason(
            "uups-missing",
            sig,
            f"{sig} is missing from the candidate: after this upgrade the proxy could never be "
            "upgraded again",
        )
        for sig in _UUPS_SELECTORS
        if sig in had and sig not in have
    ]


def _restricts(view: _View, node: Node, depth: int = 0, seen: frozenset[int] = frozenset()) -> bool:
    """Does this code (or what it calls, a few levels down) check the caller?"""
    for sub in walk(node):
        kind = sub.get("nodeType")
        if kind == "MemberAccess" and sub.get("memberName") in ("sender", "origin"):
            expr = sub.get("expression") or {}
            if expr.get("nodeType") == "Identifier" and expr.get("name") in ("msg", "tx"):
                return True
        if kind == "YulFunctionCall" and (sub.get("functionName") or {}).get("name") == "caller":
            return True
        if kind in ("FunctionCall", "ModifierInvocation"):
            name = _called_name(sub) if kind == "FunctionCall" else _modifier_name(sub)
            if name in SENDER_CHECKS:
                return True
            ref = (
                _call_target(sub)
                if kind == "FunctionCall"
                else (sub.get("modifierName") or {}).get("referencedDeclaration")
            )
            if isinstance(ref, int) and ref not in seen and depth < 4:
                decl = view.index.nodes.get(ref)
                if decl is not None and decl.get("nodeType") in ("FunctionDefinition", "ModifierDefinition"):
                    if _restricts(view, decl.get("body") or {}, depth + 1, seen | {ref}):
                        return True
                    if _restricts(view, {"nodes": decl.get("modifiers", [])}, depth + 1, seen | {ref}):
                        return True
    return False


def _authorize_upgrade(live: _View, cand: _View) -> list[Reason]:
    if not _is_uups(live) and not _is_uups(cand):
        return []  # behind a Transparent proxy: the ProxyAdmin upgrades, the implementation cannot
    for contract, fn in cand.functions():
        if fn.get("name") != "_authorizeUpgrade" or not fn.get("implemented"):
            continue
        where = f"{contract.get('name')}._authorizeUpgrade"
        mods = fn.get("modifiers", [])
        body = fn.get("body") or {}
        if _restricts(cand, {"nodes": mods}) or _restricts(cand, body):
            return []
        why = "an empty body" if not body.get("statements") else "a body that never checks the caller"
        how = "no modifier" if not mods else "modifiers that never check the caller"
        return [
            _reason(
                "authorize-upgrade-unrestricted",
                where,
                f"{where} has {why} and {how}: anyone could upgrade the proxy to code of their choice",
            )
        ]
    return [
        _reason(
            "authorize-upgrade-missing",
            cand.artifact.name,
            f"{cand.artifact.name} implements no _authorizeUpgrade; it is not a UUPS implementation",
        )
    ]


def _is_uups(view: _View) -> bool:
    return any(sig in view.artifact.method_identifiers for sig in _UUPS_SELECTORS)


def _selectors(live: _View, cand: _View) -> list[Reason]:
    have = cand.artifact.method_identifiers
    return [
        _reason(
            "selector-removed",
            sig,
            f"public function {sig} (0x{sel}) of the live implementation is gone from the candidate; "
            "callers and integrations would break",
        )
        for sig, sel in sorted(live.artifact.method_identifiers.items())
        if sig not in have and sel not in have.values()
    ]
