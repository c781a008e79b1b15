"""The metric definitions (bulwark.metrics) the stages update, and what Prometheus scrapes."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

import bulwark.metrics as metrics_mod
from bulwark.domain import Severity
from bulwark.metrics import Metrics


def _samples(m: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client import generate_latest

    out = {}
    for family in text_string_to_metric_families(generate_latest(m.registry).decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_instances_do_not_share_counters() -> None:
    a, b = Metrics(), Metrics()
    a.count_finding(Severity.HIGH)
    assert _samples(a)[("bulwark_findings_total", (("severity", "high"),))] == 1
    assert _samples(b)[("bulwark_findings_total", (("severity", "high"),))] == 0


def test_values_and_guards() -> None:
    m = Metrics()
    m.set_blocks_behind("sepolia", -4)  # a watcher ahead of a lagging node is 0 behind, not negative
    m.count_screened("sepolia")
    m.count_screened("sepolia", 9)
    m.set_relayer_balance("sepolia", "0xABCDEF0000000000000000000000000000000001", 123_456_789_000_000_000)
    m.observe_time_to_contain("vault", 0.3)
    m.observe_time_to_contain("vault", 12.0)
    s = _samples(m)
    assert s[("bulwark_blocks_behind_head", (("network", "sepolia"),))] == 0
    assert s[("bulwark_pending_transactions_screened_total", (("network", "sepolia"),))] == 10
    addr = "0xabcdef0000000000000000000000000000000001"
    assert s[("bulwark_relayer_balance_eth", (("address", addr), ("network", "sepolia")))] == pytest.approx(
        0.123456789
    )
    assert s[("bulwark_time_to_contain_seconds_count", (("protocol", "vault"),))] == 2
    assert s[("bulwark_time_to_contain_seconds_sum", (("protocol", "vault"),))] == pytest.approx(12.3)
    assert s[("bulwark_time_to_contain_seconds_bucket", (("le", "0.5"), ("protocol", "vault")))] == 1
    with pytest.raises(ValueError):
        m.count_screened("sepolia", -1)
    with pytest.raises(ValueError):
        m.observe_time_to_contain("vault", -0.1)


def test_module_functions_update_the_process_default() -> None:
    before = _samples(metrics_mod.default()).get(("bulwark_findings_total", (("severity", "info"),)), 0)
    metrics_mod.count_finding(Severity.INFO)
    metrics_mod.set_blocks_behind("test-net", 2)
    after = _samples(metrics_mod.default())
    assert after[("bulwark_findings_total", (("severity", "info"),))] == before + 1
    assert after[("bulwark_blocks_behind_head", (("network", "test-net"),))] == 2
    assert metrics_mod.default() is metrics_mod.default()
