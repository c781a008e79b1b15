from __future__ import annotations

import pytest
from eth_utils.crypto import keccak
from tests.unit.detect.synth import ATTACKER, E18, USER, VAULT, call, event, h, word

from bulwark.config.models import RuleConfig
from bulwark.detect.builtins.rules import DeclarativeRules, RulesParams
from bulwark.detect.expr import ExprError, parse
from bulwark.detect.hygiene import AlertGate
from bulwark.detect.model import ChainView
from bulwark.domain import Confidence, Finding, Severity, TxHash, VulnClass
from bulwark.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.b > 10", True),
        ("a.b > 10 AND a.c == 'x'", False),
        ("a.b > 10 AND NOT a.c == 'x'", True),
        ("(a.b < 1 OR a.c == 'y') AND a.l[1] == 2", True),
        ("NOT (a.b >= 11)", False),
        ("a.missing == 0", False),
        ("a.missing != 0", False),
        ("a.b == 0xb", True),
        ("a.addr == '0xABCDEF'", True),
        ("a.big >= 1e18", True),
        ("a.b > 'text'", False),
        ("a.b <= 11 and a.b", True),  # keywords are case-insensitive
    ],
)
def test_expression_language(text: str, expected: bool) -> None:
    env = {"a": {"b": 11, "c": "y", "l": [1, 2], "addr": "0xabcdef", "big": 10**18}}
    assert parse(text).evaluate(env) is expected


@pytest.mark.parametrize("text", ["a >", "(a == 1", "a == 1)", "a ==== 1", "AND a", "a.[1]", "a $ 1", ""])
def test_expression_errors_are_config_errors(text: str) -> None:
    with pytest.raises(ExprError):
        parse(text)


VAULT_ABI = (
    {
        "type": "event",
        "name": "Deposit",
        "inputs": [
            {"name": "sender", "type": "address", "indexed": True},
            {"name": "owner", "type": "address", "indexed": True},
            {"name": "assets", "type": "uint256", "indexed": False},
            {"name": "shares", "type": "uint256", "indexed": False},
        ],
    },
    {
        "type": "function",
        "name": "deposit",
        "inputs": [{"name": "assets", "type": "uint256"}, {"name": "receiver", "type": "address"}],
    },
)


def _view_with_abi(view: ChainView) -> ChainView:
    from dataclasses import replace

    contracts = dict(view.protocol.contracts)
    contracts[VAULT] = replace(contracts[VAULT], abi=VAULT_ABI)
    return ChainView(replace(view.protocol, contracts=contracts), view.state)


def _rules(*rules: RuleConfig) -> DeclarativeRules:
    return DeclarativeRules(RulesParams(rules=rules))


def test_event_call_and_tx_rules(view: ChainView) -> None:
    v = _view_with_abi(view)
    topic = "0x" + keccak(text="Deposit(address,address,uint256,uint256)").hex()
    log = {
        "address": h(VAULT),
        "topics": [topic, "0x" + "00" * 12 + USER[2:].lower(), "0x" + "00" * 12 + USER[2:].lower()],
        "data": "0x" + (500_000 * E18).to_bytes(32, "big").hex() + (1).to_bytes(32, "big").hex(),
    }
    tx = call(USER, VAULT, "deposit(uint256,address)", word(500_000 * E18) + word(USER), logs=[log])
    det = _rules(
        RuleConfig(
            name="whale",
            when="event",
            contract="vault",
            event="Deposit",
            expr="args.assets > 100000e18 AND args.shares < 10",
            severity=Severity.HIGH,
            vuln_class=VulnClass.ERC4626_INFLATION,
        ),
        RuleConfig(
            name="to-self",
            when="call",
            contract="vault",
            function="deposit",
            expr=f"args.receiver == '{USER}' AND call.from == '{USER.lower()}'",
        ),
        RuleConfig(name="attacker", when="tx", expr=f"tx.from == '{ATTACKER}'"),
    )
    findings = {f.evidence["rule"]: f for f in det(v, event(tx))}
    assert set(findings) == {"whale", "to-self"}
    assert findings["whale"].severity is Severity.HIGH
    assert findings["whale"].vuln_class is VulnClass.ERC4626_INFLATION


def test_rule_naming_an_unknown_event_fails_closed(view: ChainView) -> None:
    det = _rules(RuleConfig(name="x", when="event", contract="vault", event="Nope", expr="args.a > 1"))
    with pytest.raises(ConfigError, match="'Nope' is not in the ABI of vault"):
        det.compile(_view_with_abi(view))


def _finding(contract: str = VAULT, tx: str = "0x01", severity: Severity = Severity.HIGH) -> Finding:
    return Finding(
        "reentrancy", VulnClass.REENTRANCY, severity, Confidence.HIGH, "t", "demo", contract, TxHash(tx), True
    )  # type: ignore[arg-type]


def test_alert_gate_dedup_cooldown_and_escalation() -> None:
    now = [0.0]
    gate = AlertGate(cooldown_s=60, clock=lambda: now[0])
    assert gate.admit(_finding())
    assert not gate.admit(_finding())  # same tx (e.g. seen pending, then mined)
    assert not gate.admit(_finding(tx="0x02"))  # same target within cooldown: same incident
    assert gate.admit(_finding(contract=ATTACKER, tx="0x03"))  # another target
    assert gate.admit(_finding(tx="0x04", severity=Severity.CRITICAL))  # escalation passes
    now[0] = 61.0
    assert gate.admit(_finding(tx="0x05", severity=Severity.CRITICAL))  # cooldown over
    assert gate.suppressed == 2
    gate.forget(_finding(tx="0x05"))
    assert gate.admit(_finding(tx="0x06"))
