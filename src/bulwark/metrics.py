"""Prometheus metric definitions, updated by the stages through small functions.

The definitions live here, below every stage, so the watcher, the screener, the flow and the
relayer can record without importing the HTTP layer; ``bulwark.api.metrics`` only exposes them
at ``/metrics``. A :class:`Metrics` owns its own registry, so tests (and a second app in the same
process) never share counters; :func:`default` is the process-wide instance ``bulwark serve``
exposes and the module-level functions update.

Names (all prefixed ``bulwark_``):

* ``blocks_behind_head{network}`` — gauge: chain head minus the last block the watcher processed.
* ``pending_transactions_screened_total{network}`` — counter: mempool transactions screened.
* ``findings_total{severity}`` — counter: findings raised, by severity.
* ``time_to_contain_seconds{protocol}`` — histogram: the attack's arrival to the broadcast of a
  containment that then landed.
* ``relayer_balance_eth{network,address}`` — gauge: the relayer's balance in ether.
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bulwark.domain import Severity

# Containment is measured in milliseconds to seconds; anything past a minute is a failure to page on.
_CONTAIN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, float("inf"))
_WEI_PER_ETH = Decimal(10) ** 18


class Metrics:
    """One registry and the five Bulwark metrics registered in it."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.blocks_behind_head = Gauge(
            "bulwark_blocks_behind_head",
            "Chain head minus the last block the watcher has processed.",
            ["network"],
            registry=self.registry,
        )
        self.pending_screened = Counter(
            "bulwark_pending_transactions_screened",
            "Pending (mempool) transactions screened by the detectors.",
            ["network"],
            registry=self.registry,
        )
        self.findings = Counter(
            "bulwark_findings",
            "Findings raised by the detectors, by severity.",
            ["severity"],
            registry=self.registry,
        )
        self.time_to_contain = Histogram(
            "bulwark_time_to_contain_seconds",
            "Seconds from the attack reaching the mempool to the broadcast of a containment that landed.",
            ["protocol"],
            buckets=_CONTAIN_BUCKETS,
            registry=self.registry,
        )
        self.relayer_balance = Gauge(
            "bulwark_relayer_balance_eth",
            "Balance of the relayer account that sends containment transactions, in ether.",
            ["network", "address"],
            registry=self.registry,
        )
        # Every severity is present from the start, so a dashboard shows 0 rather than no data.
        for sev in Severity:
            self.findings.labels(severity=sev.name.lower())

    def set_blocks_behind(self, network: str, behind: int) -> None:
        self.blocks_behind_head.labels(network=network).set(max(0, behind))

    def count_screened(self, network: str, n: int = 1) -> None:
        if n < 0:
            raise ValueError("screened count cannot be negative")
        self.pending_screened.labels(network=network).inc(n)

    def count_finding(self, severity: Severity) -> None:
        self.findings.labels(severity=severity.name.lower()).inc()

    def observe_time_to_contain(self, protocol: str, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time to contain cannot be negative")
        self.time_to_contain.labels(protocol=protocol).observe(seconds)

    def set_relayer_balance(self, network: str, address: str, wei: int) -> None:
        self.relayer_balance.labels(network=network, address=address.lower()).set(
            float(Decimal(wei) / _WEI_PER_ETH)
        )


_DEFAULT: list[Metrics] = []


def default() -> Metrics:
    """The process-wide instance (created on first use)."""
    if not _DEFAULT:
        _DEFAULT.append(Metrics())
    return _DEFAULT[0]


def set_blocks_behind(network: str, behind: int) -> None:
    default().set_blocks_behind(network, behind)


def count_screened(network: str, n: int = 1) -> None:
    default().count_screened(network, n)


def count_finding(severity: Severity) -> None:
    default().count_finding(severity)


def observe_time_to_contain(protocol: str, seconds: float) -> None:
    default().observe_time_to_contain(protocol, seconds)


def set_relayer_balance(network: str, address: str, wei: int) -> None:
    default().set_relayer_balance(network, address, wei)
