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


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [
        ("^0.3.0", False),
        ("0.4.10", False),
        ("<0.4.11", False),
        ("<=0.4.10", False),
        (">=0.3.0 <0.4.0", False),
        ("^0.3.0 || ^0.8.0", True),
        ("0.4.11", True),
        ("<=0.4.11", True),
        ("^0.4.0", True),  # 0.4.11 .. 0.4.26 are fine
        (">=0.1.0", True),
        ("*", True),
    ],
)
def test_a_range_wholly_below_the_oldest_supported_solc_is_recognised(spec: str, allowed: bool) -> None:
    assert parse_spec(spec).allows_from("0.4.11") is allowed


def test_too_old_pragma_names_the_supported_range_without_asking_the_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bulwark.errors import CompilerUnavailable
    from bulwark.toolchain import solc

    def no_registry(**_: object) -> list[str]:
        raise AssertionError("the registry must not be asked for a pragma no supported solc satisfies")

    monkeypatch.setattr(solc, "published_versions", no_registry)
    with pytest.raises(CompilerUnavailable, match=r"'\^0\.3\.0'.*supports solc 0\.4\.11 and newer"):
        solc.resolve_version(pragmas("pragma solidity ^0.3.0;\ncontract A {}"))


def test_old_0_4_pins_are_raised_to_the_floor_and_nothing_else_is() -> None:
    from bulwark.toolchain.pragma import raise_old_pins

    src = (
        "// pragma solidity 0.4.2;\n"
        "pragma solidity 0.4.9;\n"
        "pragma solidity >=0.4.4 <0.4.11 ;\n"
        "contract A {}\n"
    )
    out, raised = raise_old_pins(src, "0.4.13")
    assert raised == ["0.4.9", ">=0.4.4 <0.4.11"]
    # the commented-out pragma stays as written; the rest of the file is untouched
    assert (
        out == "// pragma solidity 0.4.2;\npragma solidity 0.4.13;\npragma solidity 0.4.13;\ncontract A {}\n"
    )
    for kept in ("pragma solidity ^0.4.4;", "pragma solidity 0.4.13;", "pragma solidity ^0.3.6;"):
        assert raise_old_pins(kept, "0.4.13") == (kept, [])  # a caret, the floor, an older language
