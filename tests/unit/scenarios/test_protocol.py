"""Typed handles: lookups fail with a clear ScenarioError, keys stay out of repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulwark.domain import Address
from bulwark.errors import ScenarioError
from bulwark.scenarios.deploy import build_protocol
from bulwark.scenarios.protocol import Actor, Component, DemoProtocol, Deployed, ImplSpec


def _protocol() -> DemoProtocol:
    def addr(i: int) -> Address:
        return Address("0x" + f"{i:040x}")

    actor = Actor("a", addr(1), "0x" + "ab" * 32)
    return DemoProtocol(
        chain_id=31337,
        components={"vault": Component("vault", "DemoVault", addr(10), addr(11), ())},
        tokens={"usd": Deployed("usd", "DemoToken", addr(20), ())},
        safe=Deployed("safe", "Safe", addr(30), ()),
        timelock=Deployed("timelock", "TimelockController", addr(31), ()),
        guardian=Deployed("guardian", "BulwarkGuardian", addr(32), ()),
        timelock_delay=0,
        deployer=actor,
        safe_owners=(actor,),
        safe_threshold=1,
        sentinel=actor,
        feeder=actor,
        users=(),
        spare=(),
    )


def test_lookups_by_name_and_address() -> None:
    p = _protocol()
    assert p.address("vault") == p.component("vault").proxy
    assert p.address("usd") == p.token("usd").address
    assert p.address("guardian") == p.guardian.address
    assert p.name_of(p.timelock.address.upper().replace("0X", "0x")) == "timelock"
    assert p.name_of("0x" + "ff" * 20) is None


def test_unknown_names_raise_scenario_errors() -> None:
    p = _protocol()
    with pytest.raises(ScenarioError, match="no component 'pool'"):
        p.component("pool")
    with pytest.raises(ScenarioError, match="no token 'dai'"):
        p.token("dai")
    with pytest.raises(ScenarioError, match="nothing named 'x'"):
        p.address("x")


def test_private_keys_never_show_in_repr() -> None:
    p = _protocol()
    assert "ab" * 32 not in repr(p)
    assert "ab" * 32 not in repr(p.deployer)


def test_override_of_an_unknown_component_is_refused() -> None:
    class NoCompiler:
        root = Path.cwd()

        def compile_files(self, paths: object) -> object:
            raise AssertionError("refused before compiling anything")

    with pytest.raises(ScenarioError, match="cannot override 'bank'"):
        build_protocol(NoCompiler(), {"bank": ImplSpec(Path("x.sol"), "X")})  # type: ignore[arg-type]
