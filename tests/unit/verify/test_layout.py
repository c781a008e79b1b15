"""Storage-layout diff: properties over generated layouts packed the way solc packs them."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bulwark.domain.verify import LayoutChangeKind
from bulwark.toolchain.artifacts import StorageLayout, StorageType, StorageVariable
from bulwark.verify.layout import Namespace, diff_layouts, diff_namespaces

TYPES: dict[str, StorageType] = {
    "t_uint256": StorageType("uint256", "inplace", 32),
    "t_uint128": StorageType("uint128", "inplace", 16),
    "t_uint64": StorageType("uint64", "inplace", 8),
    "t_address": StorageType("address", "inplace", 20),
    "t_bool": StorageType("bool", "inplace", 1),
    "t_mapping(t_address,t_uint256)": StorageType(
        "mapping(address => uint256)", "mapping", 32, key="t_address", value="t_uint256"
    ),
    "t_array(t_uint256)3_storage": StorageType("uint256[3]", "inplace", 96, base="t_uint256"),
}
GAP_TYPES = {n: StorageType(f"uint256[{n}]", "inplace", 32 * n, base="t_uint256") for n in range(1, 60)}
ALL_TYPES = {**TYPES, **{f"t_array(t_uint256){n}_storage": t for n, t in GAP_TYPES.items()}}
SIMPLE = sorted(TYPES)


def pack(decls: list[tuple[str, str]], contract: str = "src/C.sol:C") -> StorageLayout:
    """Place (label, type) declarations like solc: small types share a slot, others start one."""
    slot, offset, out = 0, 0, []
    for i, (label, tkey) in enumerate(decls):
        t = ALL_TYPES[tkey]
        whole = t.encoding != "inplace" or t.base is not None or t.number_of_bytes == 32
        if offset and (whole or offset + t.number_of_bytes > 32):
            slot, offset = slot + 1, 0
        out.append(StorageVariable(label, slot, offset, tkey, contract, i))
        if whole:
            slot, offset = slot + (t.number_of_bytes + 31) // 32, 0
        else:
            offset += t.number_of_bytes
    return StorageLayout(tuple(out), ALL_TYPES)


decl_lists = st.lists(st.sampled_from(SIMPLE), min_size=1, max_size=8).map(
    lambda ts: [(f"v{i}", t) for i, t in enumerate(ts)]
)


@given(decl_lists)
def test_identical_layout_is_compatible(decls: list[tuple[str, str]]) -> None:
    diff = diff_layouts(pack(decls), pack(decls))
    assert diff.ok
    assert all(c.kind is LayoutChangeKind.UNCHANGED for c in diff.changes)


@given(decl_lists, st.lists(st.sampled_from(SIMPLE), min_size=1, max_size=3))
def test_appending_is_compatible(decls: list[tuple[str, str]], extra: list[str]) -> None:
    new = decls + [(f"n{i}", t) for i, t in enumerate(extra)]
    diff = diff_layouts(pack(decls), pack(new))
    assert diff.ok, [c.message for c in diff.errors]
    appended = {c.label for c in diff.changes if c.kind is LayoutChangeKind.APPENDED}
    assert appended == {f"C.n{i}" for i in range(len(extra))}


@given(decl_lists.filter(lambda d: len(d) >= 2), st.data())
def test_insertion_before_existing_is_flagged_by_name(
    decls: list[tuple[str, str]], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(decls) - 1))
    tkey = data.draw(st.sampled_from(SIMPLE))
    new = [*decls[:at], ("inserted", tkey), *decls[at:]]
    diff = diff_layouts(pack(decls), pack(new))
    assert not diff.ok
    assert any(c.kind is LayoutChangeKind.INSERTED and c.label == "C.inserted" for c in diff.errors)


@given(decl_lists, st.data())
def test_deletion_is_flagged_by_name(decls: list[tuple[str, str]], data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(decls) - 1))
    new = decls[:at] + decls[at + 1 :]
    diff = diff_layouts(pack(decls), pack(new))
    assert not diff.ok
    victim = f"C.{decls[at][0]}"
    assert any(c.label == victim and c.kind is LayoutChangeKind.DELETED for c in diff.errors)


@given(decl_lists.filter(lambda d: len(d) >= 2), st.data())
def test_reordering_is_flagged(decls: list[tuple[str, str]], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(decls) - 2))
    new = list(decls)
    new[i], new[i + 1] = new[i + 1], new[i]
    diff = diff_layouts(pack(decls), pack(new))
    assert not diff.ok
    names = {c.label for c in diff.errors}
    assert f"C.{decls[i][0]}" in names or f"C.{decls[i + 1][0]}" in names


@given(decl_lists, st.data())
def test_retyping_is_flagged_by_name(decls: list[tuple[str, str]], data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(decls) - 1))
    label, old_t = decls[at]
    new_t = data.draw(st.sampled_from([t for t in SIMPLE if t != old_t]))
    new = list(decls)
    new[at] = (label, new_t)
    diff = diff_layouts(pack(decls), pack(new))
    assert not diff.ok
    assert any(
        c.label == f"C.{label}" and c.kind in (LayoutChangeKind.RETYPED, LayoutChangeKind.MOVED)
        for c in diff.errors
    )


@settings(max_examples=60)
@given(
    st.lists(st.sampled_from(SIMPLE), min_size=1, max_size=4),
    st.integers(5, 50),
    st.integers(1, 4),
    st.lists(st.sampled_from(SIMPLE), min_size=0, max_size=3),
)
def test_gap_shrinking_by_exactly_the_appended_slots(
    base: list[str], gap: int, k: int, derived: list[str]
) -> None:
    base_decls = [(f"b{i}", t) for i, t in enumerate(base)]
    derived_decls = [(f"d{i}", t) for i, t in enumerate(derived)]

    def layout(extra: int, gap_len: int) -> StorageLayout:
        own = pack(
            [
                *base_decls,
                *[(f"x{i}", "t_uint256") for i in range(extra)],
                ("__gap", f"t_array(t_uint256){gap_len}_storage"),
            ]
        )
        end = max(v.slot for v in own.variables) + gap_len
        tail = pack([("pad", "t_uint256")] * 0 + derived_decls, "src/D.sol:D")
        shifted = tuple(replace(v, slot=v.slot + end) for v in tail.variables)
        return StorageLayout(own.variables + shifted, ALL_TYPES)

    old = layout(0, gap)
    good = diff_layouts(old, layout(k, gap - k))
    assert good.ok, [c.message for c in good.errors]
    assert sum(c.kind is LayoutChangeKind.GAP_CONSUMED for c in good.changes) == k
    bad = diff_layouts(old, layout(k, gap - k + 1))
    assert not bad.ok
    assert any(c.kind is LayoutChangeKind.GAP_MISMATCH and c.label == "C.__gap" for c in bad.errors)


def test_struct_in_mapping_may_grow_at_its_end() -> None:
    member = StorageVariable("a", 0, 0, "t_uint256", "", 1)
    extra = StorageVariable("b", 1, 0, "t_uint256", "", 2)
    old_types = {
        **TYPES,
        "t_struct(S)11_storage": StorageType("struct C.S", "inplace", 32, members=(member,)),
        "t_mapping(t_address,t_struct(S)11_storage)": StorageType(
            "mapping(address => struct C.S)", "mapping", 32, key="t_address", value="t_struct(S)11_storage"
        ),
    }
    new_types = {
        **TYPES,
        "t_struct(S)99_storage": StorageType("struct C.S", "inplace", 64, members=(member, extra)),
        "t_mapping(t_address,t_struct(S)99_storage)": StorageType(
            "mapping(address => struct C.S)", "mapping", 32, key="t_address", value="t_struct(S)99_storage"
        ),
    }
    after = StorageVariable("z", 1, 0, "t_uint256", "src/C.sol:C", 3)
    old = StorageLayout(
        (StorageVariable("m", 0, 0, "t_mapping(t_address,t_struct(S)11_storage)", "src/C.sol:C", 1), after),
        old_types,
    )
    new = StorageLayout(
        (StorageVariable("m", 0, 0, "t_mapping(t_address,t_struct(S)99_storage)", "src/C.sol:C", 1), after),
        new_types,
    )
    assert diff_layouts(old, new).ok
    swapped = (extra, member)
    new_types["t_struct(S)99_storage"] = StorageType("struct C.S", "inplace", 64, members=swapped)
    assert not diff_layouts(old, StorageLayout(new.variables, new_types)).ok


def test_namespaces_append_only() -> None:
    old = {"x.y": Namespace("x.y", "C.S", (("a", "uint256"), ("b", "address")))}
    assert all(c.ok for c in diff_namespaces(old, old))
    appended = {"x.y": Namespace("x.y", "C.S", (("a", "uint256"), ("b", "address"), ("c", "bool")))}
    assert [c.kind for c in diff_namespaces(old, appended)] == [LayoutChangeKind.NAMESPACE_APPENDED]
    inserted = {"x.y": Namespace("x.y", "C.S", (("z", "bool"), ("a", "uint256"), ("b", "address")))}
    (change,) = diff_namespaces(old, inserted)
    assert change.kind is LayoutChangeKind.NAMESPACE_CHANGED and change.label == "C.S.a"
    retyped = {"x.y": Namespace("x.y", "C.S", (("a", "uint128"), ("b", "address")))}
    assert not diff_namespaces(old, retyped)[0].ok
    assert diff_namespaces(old, {})[0].kind is LayoutChangeKind.NAMESPACE_DELETED
