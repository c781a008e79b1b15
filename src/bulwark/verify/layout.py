"""Storage-layout compatibility between the live implementation and a candidate.

Computed from solc's ``storageLayout`` output of both (linear storage) and from the AST for
ERC-7201 namespaced structs (which solc's layout does not list). The rules are those users know
from OpenZeppelin's upgrades plugins:

* every existing variable keeps its slot, offset and type (no insertion before it, no deletion,
  no reordering, no retyping, no renaming);
* new variables may be appended after the last existing one, or take slots a ``__gap`` array gives
  up, provided the gap shrinks by exactly the slots taken (its end stays where it was);
* a struct reached only through a mapping may gain members at its end;
* an ERC-7201 namespace (``@custom:storage-location erc7201:<id>``) may only gain members at its end.

Types are compared structurally (struct type ids carry AST ids that differ between compilations).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bulwark.domain.verify import LayoutChange, LayoutChangeKind, LayoutDiff
from bulwark.toolchain.artifacts import CompileResult, StorageLayout, StorageType, StorageVariable
from bulwark.toolchain.solast import AstIndex, documentation, type_string

__all__ = [
    "Namespace",
    "canonical_type",
    "diff_layouts",
    "diff_namespaces",
    "layout_diff",
    "namespaces_of",
    "summarize",
]

_ARRAY_LEN = re.compile(r"\[(\d+)\]$")
_NAMESPACE = re.compile(r"@custom:storage-location\s+erc7201:(\S+)")


def _contract_name(var: StorageVariable) -> str:
    return var.contract.rsplit(":", 1)[-1]


def _key(var: StorageVariable) -> tuple[str, str]:
    # The declaring contract's name (not its path: the live and candidate files differ) + label.
    return (_contract_name(var), var.label)


def _is_gap(var: StorageVariable) -> bool:
    return var.label.startswith("__gap")


def canonical_type(types: Mapping[str, StorageType], key: str) -> str:
    """A description of a storage type that is equal exactly when the storage shape is equal."""
    t = types.get(key)
    if t is None:
        return key
    if t.encoding == "mapping":
        return f"mapping({canonical_type(types, t.key or '')}=>{canonical_type(types, t.value or '')})"
    if t.encoding == "dynamic_array":
        return f"{canonical_type(types, t.base or '')}[]"
    if t.base is not None:  # static array: the length is the label's last [n]
        m = _ARRAY_LEN.search(t.label)
        return f"{canonical_type(types, t.base)}[{m.group(1) if m else '?'}]"
    if t.members:
        inner = ",".join(f"{m.label}:{canonical_type(types, m.type)}@{m.slot}+{m.offset}" for m in t.members)
        return f"struct{{{inner}}}"
    if t.label.startswith("contract ") or t.label == "address payable":
        return "address"
    return t.label


def _slots(types: Mapping[str, StorageType], var: StorageVariable) -> int:
    t = types.get(var.type)
    size = t.number_of_bytes if t is not None else 32
    return max(1, (var.offset + size + 31) // 32)


def _byte_range(types: Mapping[str, StorageType], var: StorageVariable) -> tuple[int, int]:
    t = types.get(var.type)
    size = t.number_of_bytes if t is not None else 32
    start = var.slot * 32 + var.offset
    return start, start + size


def _struct_members(types: Mapping[str, StorageType], key: str) -> tuple[StorageVariable, ...] | None:
    t = types.get(key)
    return t.members if t is not None and t.members else None


def _compatible(old: StorageLayout, new: StorageLayout, old_key: str, new_key: str, appendable: bool) -> bool:
    """Can storage written as ``old_key`` be read as ``new_key``?"""
    if canonical_type(old.types, old_key) == canonical_type(new.types, new_key):
        return True
    ot, nt = old.types.get(old_key), new.types.get(new_key)
    if ot is None or nt is None or ot.encoding != nt.encoding:
        return False
    if ot.encoding == "mapping":
        same_key = canonical_type(old.types, ot.key or "") == canonical_type(new.types, nt.key or "")
        return same_key and _compatible(old, new, ot.value or "", nt.value or "", appendable=True)
    om, nm = _struct_members(old.types, old_key), _struct_members(new.types, new_key)
    if appendable and om is not None and nm is not None and len(nm) >= len(om):
        return all(
            a.label == b.label
            and a.slot == b.slot
            and a.offset == b.offset
            and _compatible(old, new, a.type, b.type, appendable=False)
            for a, b in zip(om, nm, strict=False)
        )
    return False


def diff_layouts(old: StorageLayout, new: StorageLayout) -> LayoutDiff:
    """Every change between two linear storage layouts, each classified safe or not."""
    changes: list[LayoutChange] = []
    new_at = {(v.slot, v.offset): v for v in new.variables}
    new_by_key = {_key(v): v for v in new.variables}
    old_keys = {_key(v) for v in old.variables}
    last_old = max((v.slot + _slots(old.types, v) for v in old.variables), default=0)
    end_old = max((_byte_range(old.types, v)[1] for v in old.variables), default=0)
    gap_slots: set[int] = set()  # old gap slots a new variable may legitimately take
    fixed_ranges: list[tuple[int, int, StorageVariable]] = []  # old non-gap byte ranges
    renamed_at: set[tuple[int, int]] = set()

    def desc(layout: StorageLayout, var: StorageVariable) -> str:
        t = layout.types.get(var.type)
        return t.label if t is not None else var.type

    for o in sorted(old.variables, key=lambda v: (v.slot, v.offset)):
        who = f"{_contract_name(o)}.{o.label}"
        if _is_gap(o):
            _check_gap(old, new, o, new_by_key.get(_key(o)), changes, gap_slots)
            continue
        fixed_ranges.append((*_byte_range(old.types, o), o))
        n = new_at.get((o.slot, o.offset))
        if n is not None and _key(n) == _key(o):
            last = o.slot + _slots(old.types, o) >= last_old
            if _compatible(old, new, o.type, n.type, appendable=last):
                changes.append(
                    LayoutChange(
                        LayoutChangeKind.UNCHANGED,
                        who,
                        f"{who} unchanged",
                        o.slot,
                        n.slot,
                        desc(old, o),
                        desc(new, n),
                    )
                )
            else:
                changes.append(
                    LayoutChange(
                        LayoutChangeKind.RETYPED,
                        who,
                        f"{who} at slot {o.slot} changed type from {desc(old, o)} to {desc(new, n)}",
                        o.slot,
                        n.slot,
                        desc(old, o),
                        desc(new, n),
                    )
                )
            continue
        moved = new_by_key.get(_key(o))
        if moved is not None:
            changes.append(
                LayoutChange(
                    LayoutChangeKind.MOVED,
                    who,
                    f"{who} moved from slot {o.slot} (offset {o.offset}) to slot {moved.slot} "
                    f"(offset {moved.offset}): a variable was inserted before it or the variables were "
                    "reordered, so it would read another variable's storage",
                    o.slot,
                    moved.slot,
                    desc(old, o),
                    desc(new, moved),
                )
            )
        elif n is not None and _key(n) not in old_keys and _compatible(old, new, o.type, n.type, False):
            renamed_at.add((n.slot, n.offset))
            changes.append(
                LayoutChange(
                    LayoutChangeKind.RENAMED,
                    who,
                    f"{who} at slot {o.slot} was renamed to {n.label}",
                    o.slot,
                    n.slot,
                    desc(old, o),
                    desc(new, n),
                )
            )
        else:
            changes.append(
                LayoutChange(
                    LayoutChangeKind.DELETED,
                    who,
                    f"{who} (slot {o.slot}, {desc(old, o)}) was deleted; its storage would be reused",
                    o.slot,
                    None,
                    desc(old, o),
                    None,
                )
            )

    survivors = sorted(
        (v for v in new.variables if _key(v) in old_keys and not _is_gap(v)), key=lambda v: (v.slot, v.offset)
    )
    for n in sorted(new.variables, key=lambda v: (v.slot, v.offset)):
        if _key(n) in old_keys or (n.slot, n.offset) in renamed_at:
            continue
        who = f"{_contract_name(n)}.{n.label}"
        start, end = _byte_range(new.types, n)
        in_gap = set(range(n.slot, n.slot + _slots(new.types, n))) <= gap_slots
        hit = next((v for s, e, v in fixed_ranges if s < end and start < e), None)
        if hit is None and not in_gap:  # placed before a variable that existed: still an insertion
            hit = next((v for v in survivors if (v.slot, v.offset) > (n.slot, n.offset)), None)
        if hit is not None:
            changes.append(
                LayoutChange(
                    LayoutChangeKind.INSERTED,
                    who,
                    f"{who} ({desc(new, n)}) was inserted at slot {n.slot}, before existing variable "
                    f"{_contract_name(hit)}.{hit.label} (slot {hit.slot} in the live implementation)",
                    None,
                    n.slot,
                    None,
                    desc(new, n),
                )
            )
        elif in_gap:
            changes.append(
                LayoutChange(
                    LayoutChangeKind.GAP_CONSUMED,
                    who,
                    f"{who} takes slot {n.slot} from a storage gap",
                    None,
                    n.slot,
                    None,
                    desc(new, n),
                )
            )
        elif start >= end_old or _is_gap(n):
            changes.append(
                LayoutChange(
                    LayoutChangeKind.APPENDED,
                    who,
                    f"{who} appended at slot {n.slot}",
                    None,
                    n.slot,
                    None,
                    desc(new, n),
                )
            )
        else:
            changes.append(
                LayoutChange(
                    LayoutChangeKind.INSERTED,
                    who,
                    f"{who} ({desc(new, n)}) was inserted at slot {n.slot}, inside the live layout "
                    f"(which ends at slot {last_old})",
                    None,
                    n.slot,
                    None,
                    desc(new, n),
                )
            )
    return LayoutDiff(tuple(changes))


def _check_gap(
    old: StorageLayout,
    new: StorageLayout,
    o: StorageVariable,
    n: StorageVariable | None,
    changes: list[LayoutChange],
    gap_slots: set[int],
) -> None:
    who = f"{_contract_name(o)}.{o.label}"
    old_end = o.slot + _slots(old.types, o)
    if n is None:
        changes.append(
            LayoutChange(
                LayoutChangeKind.DELETED,
                who,
                f"storage gap {who} (slots {o.slot}..{old_end - 1}) was deleted; the variables after it move",
                o.slot,
                None,
            )
        )
        return
    new_end = n.slot + _slots(new.types, n)
    if new_end == old_end and n.slot >= o.slot:
        gap_slots.update(range(o.slot, n.slot))
        kind = LayoutChangeKind.UNCHANGED if n.slot == o.slot else LayoutChangeKind.GAP_RESIZED
        changes.append(
            LayoutChange(kind, who, f"storage gap {who} now slots {n.slot}..{new_end - 1}", o.slot, n.slot)
        )
        return
    shrink = (old_end - o.slot) - (new_end - n.slot)
    added = n.slot - o.slot
    changes.append(
        LayoutChange(
            LayoutChangeKind.GAP_MISMATCH,
            who,
            f"storage gap {who} shrank by {shrink} slot(s) but {added} slot(s) were added before it "
            f"(it ended at slot {old_end - 1}, now at {new_end - 1}); the variables after it move",
            o.slot,
            n.slot,
        )
    )


# -- ERC-7201 namespaces -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Namespace:
    id: str  # the erc7201 id, e.g. "openzeppelin.storage.ERC20"
    struct: str  # "Contract.Struct"
    members: tuple[tuple[str, str], ...]  # (name, type string)


def namespaces_of(result: CompileResult, contract: str) -> dict[str, Namespace]:
    """The ERC-7201 namespaces a contract (and its bases) declare, by id."""
    index = AstIndex.of(result)
    art = result.contract(contract)
    node = index.contract(art.name, art.source_path)
    out: dict[str, Namespace] = {}
    for base in index.linearization(node):
        for struct in base.get("nodes", []):
            if struct.get("nodeType") != "StructDefinition":
                continue
            m = _NAMESPACE.search(documentation(struct))
            if m is None:
                continue
            members = tuple((str(v.get("name", "")), type_string(v)) for v in struct.get("members", []))
            out[m.group(1)] = Namespace(m.group(1), f"{base.get('name')}.{struct.get('name')}", members)
    return out


def diff_namespaces(old: Mapping[str, Namespace], new: Mapping[str, Namespace]) -> list[LayoutChange]:
    changes: list[LayoutChange] = []
    for ns_id, ons in sorted(old.items()):
        nns = new.get(ns_id)
        if nns is None:
            changes.append(
                LayoutChange(
                    LayoutChangeKind.NAMESPACE_DELETED,
                    ons.struct,
                    f"ERC-7201 namespace {ns_id} ({ons.struct}) is gone from the candidate",
                )
            )
            continue
        mismatch = next(
            ((i, a, b) for i, (a, b) in enumerate(zip(ons.members, nns.members, strict=False)) if a != b),
            None,
        )
        if mismatch is not None:
            i, (oname, otype), (nname, ntype) = mismatch
            changes.append(
                LayoutChange(
                    LayoutChangeKind.NAMESPACE_CHANGED,
                    f"{ons.struct}.{oname}",
                    f"namespace {ns_id}: member #{i} was {otype} {oname}, is now {ntype} {nname}; "
                    "a namespaced struct may only be appended to",
                    old_type=otype,
                    new_type=ntype,
                )
            )
        elif len(nns.members) < len(ons.members):
            gone = ", ".join(name for name, _ in ons.members[len(nns.members) :])
            changes.append(
                LayoutChange(
                    LayoutChangeKind.NAMESPACE_CHANGED,
                    f"{ons.struct}.{ons.members[len(nns.members)][0]}",
                    f"namespace {ns_id}: members removed from its end ({gone})",
                )
            )
        elif len(nns.members) > len(ons.members):
            added = ", ".join(name for name, _ in nns.members[len(ons.members) :])
            changes.append(
                LayoutChange(
                    LayoutChangeKind.NAMESPACE_APPENDED,
                    nns.struct,
                    f"namespace {ns_id}: members appended ({added})",
                )
            )
        else:
            changes.append(
                LayoutChange(LayoutChangeKind.UNCHANGED, ons.struct, f"namespace {ns_id} unchanged")
            )
    return changes


def layout_diff(old: CompileResult, old_contract: str, new: CompileResult, new_contract: str) -> LayoutDiff:
    """Linear storage and namespaces of two compiled contracts, compared."""
    old_art, new_art = old.contract(old_contract), new.contract(new_contract)
    empty = StorageLayout((), {})
    linear = diff_layouts(old_art.storage_layout or empty, new_art.storage_layout or empty)
    spaces = diff_namespaces(namespaces_of(old, old_contract), namespaces_of(new, new_contract))
    return LayoutDiff(linear.changes + tuple(spaces))


def summarize(diff: LayoutDiff) -> Sequence[str]:
    return [c.message for c in diff.changes if c.kind is not LayoutChangeKind.UNCHANGED]
