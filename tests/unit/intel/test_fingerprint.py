"""Fingerprints: the same code under other names or another deployer matches; a fix does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.intel.fingerprint import bytecode_fingerprint, code_hash, function_at, function_shapes
from bulwark.toolchain.solc import Compiler

ORACLE = Path("scenarios/oracle-open-setprice/PriceOracle.sol").read_text()
FIXED = Path("scenarios/oracle-open-setprice/fix/PriceOracle.sol").read_text()
ROUTER = Path("scenarios/oracle-open-setprice/CollateralRouter.sol").read_text()


def _renamed(text: str) -> str:
    for old, new in (("setPrice(", "postQuote("), ("newPrice", "amount"), ("asset", "token"),
                     ("_quotes", "_book"), ("contract PriceOracle", "contract QuoteBoard")):  # fmt: skip
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def compiled() -> Iterator[dict[str, dict]]:
    with Compiler() as c:
        r = c.compile_sources({"A.sol": ORACLE, "B.sol": _renamed(ORACLE), "C.sol": FIXED, "R.sol": ROUTER})
        yield {path: unit.ast for path, unit in r.sources.items()}, r


def test_a_renamed_copy_of_the_vulnerable_function_matches_and_the_fix_does_not(compiled) -> None:
    asts, _ = compiled
    shapes = {p: {f.function: f for f in function_shapes(p, asts[p])} for p in ("A.sol", "B.sol", "C.sol")}
    vuln = shapes["A.sol"]["setPrice"]
    assert shapes["B.sol"]["postQuote"].fingerprint == vuln.fingerprint
    assert shapes["C.sol"]["setPrice"].fingerprint != vuln.fingerprint
    # distinct functions of one contract do not collide
    assert len({f.fingerprint for f in shapes["A.sol"].values()}) == len(shapes["A.sol"])
    node = function_at(asts["A.sol"], vuln.start + 5)
    assert node is not None and node["name"] == "setPrice"


def test_bytecode_fingerprint_ignores_immutables_and_metadata_only(compiled) -> None:
    _, result = compiled
    art = result.contract("CollateralRouter")
    runtime = art.deployed_bytecode
    refs = art.immutable_references
    assert refs, "the router has an immutable owner: the case the fingerprint must survive"
    other = bytearray(runtime)
    for ref in (r for places in refs.values() for r in places):
        other[ref.start : ref.start + ref.length] = (b"\x00" * 12 + b"\xaa" * 20)[-ref.length :]
    other[-10:-2] = b"\x01" * 8  # inside the metadata trailer
    assert code_hash(bytes(other)) != code_hash(runtime)
    assert bytecode_fingerprint(bytes(other)) == bytecode_fingerprint(runtime)
    assert bytecode_fingerprint(
        result.contract("A.sol:PriceOracle").deployed_bytecode
    ) != bytecode_fingerprint(runtime)
