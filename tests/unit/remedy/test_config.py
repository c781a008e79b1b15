"""The ``remedies`` section and the ``parameters`` action of a policy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bulwark.config.policy import PolicyConfig
from bulwark.config.remedy import RemedyConfig
from bulwark.domain import Address, Severity
from bulwark.domain.govern import GovAction
from bulwark.govern.parameters import with_parameter_rules

POLICY = {
    "safe": "0x" + "11" * 20,
    "timelock": "0x" + "22" * 20,
    "owners": ["0x" + "33" * 20, "0x" + "44" * 20, "0x" + "55" * 20],
    "threshold": 2,
    "proxies": ["lending"],
    "actions": {
        "upgrade": {
            "critical": {"threshold": 2, "delay_s": 60},
            "default": {"threshold": 2, "delay_s": 86400},
        },
        "unpause": {"default": {"threshold": 2, "delay_s": 0}},
    },
}
LENDING = {"lending": Address("0x" + "77" * 20)}


def test_parameter_changes_follow_the_upgrade_rules_unless_declared() -> None:
    inherited = with_parameter_rules(PolicyConfig.model_validate(POLICY).to_policy("demo", LENDING))
    assert inherited.rule(GovAction.PARAMETERS, Severity.CRITICAL).delay_s == 60
    assert inherited.rule(GovAction.PARAMETERS).delay_s == 86400
    own = {
        **POLICY,
        "actions": {**POLICY["actions"], "parameters": {"default": {"threshold": 3, "delay_s": 5}}},
    }
    declared = with_parameter_rules(PolicyConfig.model_validate(own).to_policy("demo", LENDING))
    rule = declared.rule(GovAction.PARAMETERS, Severity.CRITICAL)
    assert (rule.threshold, rule.delay_s) == (3, 5)


def test_remedies_section_parses_and_fails_closed() -> None:
    cfg = RemedyConfig.model_validate(
        {
            "prefer": "parameters",
            "max_blocked": 5,
            "setters": {"lending.setRiskParams": ["oracle-manipulation"]},
            "alternatives": {"lending.setOracle": ["0x" + "88" * 20]},
        }
    )
    assert cfg.declared() == {"lending.setRiskParams": ("oracle-manipulation",)}
    for bad in (
        {"prefer": "cheapest"},
        {"setters": {"lending.setRiskParams": ["oracle-manip"]}},
        {"setters": {"setRiskParams": ["reentrancy"]}},
        {"alternatives": {"lending.setOracle": ["0x1234"]}},
        {"unknown": True},
    ):
        with pytest.raises(ValidationError):
            RemedyConfig.model_validate(bad)
