"""Policy rules, static problems and the ``policies`` config section."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bulwark.config.policy import PolicyConfig
from bulwark.domain import Address, Severity
from bulwark.domain.govern import ActionRule, GovAction, Policy
from bulwark.govern import policy_problems

A = [Address(f"0x{i:040x}") for i in range(1, 6)]


def _policy(**kw: object) -> Policy:
    base: dict[str, object] = dict(
        protocol="demo",
        safe=A[4],
        timelock=A[4],
        proxies={},
        owners=tuple(A[:3]),
        safe_threshold=2,
        rules={
            (GovAction.UPGRADE, Severity.CRITICAL): ActionRule(2, 60),
            (GovAction.UPGRADE, None): ActionRule(2, 86400),
            (GovAction.UNPAUSE, None): ActionRule(3, 0),
        },
    )
    base.update(kw)
    return Policy(**base)  # type: ignore[arg-type]


def test_rule_picks_the_nearest_lower_severity_else_default() -> None:
    p = _policy()
    assert p.rule(GovAction.UPGRADE, Severity.CRITICAL).delay_s == 60
    assert p.rule(GovAction.UPGRADE, Severity.HIGH).delay_s == 86400
    assert p.rule(GovAction.UPGRADE, None).delay_s == 86400
    assert p.rule(GovAction.UNPAUSE, Severity.CRITICAL).threshold == 3


def test_static_problems_are_named() -> None:
    assert policy_problems(_policy()) == []
    bad = _policy(
        sentinels=(A[0],),
        council=(A[3],),
        rules={(GovAction.UPGRADE, None): ActionRule(1, 0), (GovAction.UNPAUSE, None): ActionRule(4, 0)},
    )
    problems = "\n".join(policy_problems(bad))
    assert f"sentinel {A[0]} is a Safe owner" in problems
    assert f"council member {A[3]} is not a Safe owner" in problems
    assert "upgrade/default: threshold 1 is below the Safe's threshold 2" in problems
    assert "unpause/default: threshold 4 but only 3 eligible signers" in problems


RAW = {
    "safe": "0x" + "11" * 20,
    "timelock": "0x" + "22" * 20,
    "owners": ["0x" + "33" * 20, "0x" + "44" * 20, "0x" + "55" * 20],
    "threshold": 2,
    "proxies": ["vault"],
    "roles": {"sentinel": ["0x" + "66" * 20], "council": ["0x" + "33" * 20, "0x" + "44" * 20]},
    "actions": {
        "upgrade": {
            "critical": {"threshold": 2, "delay_s": 60, "signers": "council"},
            "default": {"threshold": 2, "delay_s": 86400},
        },
        "unpause": {"default": {"threshold": 2, "delay_s": 0}},
    },
    "smoke": [
        {
            "contract": "vault",
            "function": "withdraw(uint256,address,address)",
            "args": [1, "0x" + "33" * 20, "0x" + "33" * 20],
            "from": "0x" + "33" * 20,
        }
    ],
}


def test_config_section_builds_the_domain_policy() -> None:
    cfg = PolicyConfig.model_validate(RAW)
    vault = Address("0x" + "77" * 20)
    pol = cfg.to_policy("demo", {"vault": vault})
    crit = pol.rule(GovAction.UPGRADE, Severity.CRITICAL)
    assert crit.delay_s == 60 and len(crit.signers) == 2
    assert (
        pol.rule(GovAction.UPGRADE).signers == () and pol.eligible(pol.rule(GovAction.UPGRADE)) == pol.owners
    )
    (smoke,) = cfg.smoke_calls({"vault": vault})
    assert smoke.to == vault and smoke.data.startswith("0xb460af94")  # withdraw(uint256,address,address)
    with pytest.raises(ValueError, match="unknown contract"):
        cfg.to_policy("demo", {})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"actions": {"upgrade": {"default": {"threshold": 2, "delay_s": 1}}}},
            "unpause.default is required",
        ),
        ({"threshold": 4}, "impossible"),
        ({"surprise": 1}, "Extra inputs"),
        (
            {"actions": {**RAW["actions"], "upgrade": {"urgent": {"threshold": 2, "delay_s": 1}}}},
            "unknown severity",
        ),  # type: ignore[dict-item]
    ],
)
def test_config_fails_closed(patch: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PolicyConfig.model_validate({**RAW, **patch})


def test_bulwark_yaml_carries_a_policies_section(tmp_path: Path) -> None:
    import yaml

    from bulwark.config import parse_config

    doc = {
        "networks": {"local": {"rpc_http": "http://127.0.0.1:8545"}},
        "protocols": {
            "demo": {"network": "local", "contracts": {"vault": {"address": "0x" + "77" * 20}}},
        },
        "policies": {"demo": RAW},
    }
    path = tmp_path / "bulwark.yaml"
    cfg = parse_config(yaml.safe_dump(doc), path=path)
    contracts = {n: c.address for n, c in cfg.protocols["demo"].contracts.items()}
    pol = cfg.policies["demo"].to_policy("demo", contracts)
    assert pol.proxies == {"vault": Address("0x" + "77" * 20)} and pol.safe_threshold == 2
