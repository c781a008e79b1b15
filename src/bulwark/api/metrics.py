"""``/metrics``: the stages' metrics (``bulwark.metrics``) plus incident counts read from the store."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from bulwark.domain import IncidentState
from bulwark.metrics import Metrics
from bulwark.store import Store

CONTENT_TYPE = CONTENT_TYPE_LATEST


def exposition(metrics: Metrics, store: Store) -> bytes:
    """The Prometheus text format: ``metrics``' registry, then ``bulwark_incidents{state}``."""
    snapshot = CollectorRegistry(auto_describe=True)
    by_state = Gauge("bulwark_incidents", "Incidents in the store, by state.", ["state"], registry=snapshot)
    for state in IncidentState:
        by_state.labels(state=state.value).set(0)
    for r in store.incidents():
        by_state.labels(state=r.state.value).inc()
    return generate_latest(metrics.registry) + generate_latest(snapshot)
