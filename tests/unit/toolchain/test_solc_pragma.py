"""Version selection from ``pragma solidity``: solc's semver rules, newest satisfying release."""

from __future__ import annotations

import pytest

from bulwark.errors import CompileError
from bulwark.toolchain.pragma import parse_spec, pragmas, select_version

RELEASES = ["0.4.11", "0.4.24", "0.4.26", "0.5.0", "0.5.17", "0.6.12", "0.7.6", "0.8.19", "0.8.26", "0.8.37"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("^0.8.20", "0.8.37"),
        ("^0.4.24", "0.4.26"),
        ("~0.4.24", "0.4.26"),
        (">=0.4.22 <0.6.0", "0.5.17"),
        (">= 0.4.22 < 0.6.0", "0.5.17"),
        ("0.5.0", "0.5.0"),
        ("=0.4.24", "0.4.24"),
        ("0.4.x", "0.4.26"),
        ("^0.8", "0.8.37"),
        (">0.4", "0.8.37"),
        ("<=0.7", "0.7.6"),
        ("0.4.0 - 0.5.0", "0.5.0"),
        ("^0.4.24 || ^0.6.0", "0.6.12"),
        (">=0.8.0 <0.8.20", "0.8.19"),
        ("*", "0.8.37"),
        ("^0.9.0", None),
    ],
)
def test_newest_release_satisfying_the_pragma(spec: str, expected: str | None) -> None:
    assert select_version([parse_spec(spec)], RELEASES) == expected


def test_exact_pin_is_recognised_and_ranges_are_not() -> None:
    assert parse_spec("0.5.0").exact == "0.5.0"
    assert parse_spec("=0.4.24").exact == "0.4.24"
    assert parse_spec("^0.5.0").exact is None
    assert parse_spec("0.5").exact is None


def test_every_pragma_of_every_source_must_hold() -> None:
    specs = pragmas("pragma solidity ^0.8.0;\npragma solidity <0.8.20;\ncontract A {}")
    assert select_version(specs, RELEASES) == "0.8.19"


def test_commented_out_pragma_is_ignored() -> None:
    src = "// pragma solidity 0.4.24;\n/* pragma solidity ^0.5.0; */\npragma solidity ^0.7.0;"
    assert [s.text for s in pragmas(src)] == ["^0.7.0"]


def test_no_pragma_gives_no_constraint() -> None:
    assert pragmas("contract A {}") == []


def test_garbage_pragma_is_a_compile_error() -> None:
    with pytest.raises(CompileError, match="cannot read pragma"):
        parse_spec("latest please")
