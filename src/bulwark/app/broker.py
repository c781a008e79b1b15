"""The ``cluster`` section as the roles use it: the broker connection and the shared database URL."""

from __future__ import annotations

from bulwark.chain.bus import Bus
from bulwark.config import BulwarkConfig
from bulwark.config.cluster import postgres_url
from bulwark.errors import ConfigError


def cluster_urls(config: BulwarkConfig) -> tuple[str, str, float, float]:
    """(NATS URL, PostgreSQL URL with its driver, ack wait, connect timeout) of the ``cluster``
    section; a one-line ``ConfigError`` without one."""
    if config.cluster is None:
        raise ConfigError(
            "this role needs a `cluster` section (nats_url, database_url) in the configuration; "
            "without one, run `bulwark watch`"
        )
    c = config.cluster
    return c.nats_url.resolve(), postgres_url(c.database_url.resolve()), c.ack_wait_s, c.connect_timeout_s


def cluster_bus(config: BulwarkConfig, name: str) -> Bus:
    """A role's broker connection (not yet connected) with the section's settings: whichever role
    connects first creates the streams, so every role passes the same ones."""
    nats_url, _, ack_wait_s, timeout_s = cluster_urls(config)
    assert config.cluster is not None  # checked by cluster_urls
    return Bus(
        nats_url,
        ack_wait_s=ack_wait_s,
        connect_timeout_s=timeout_s,
        name=name,
        tx_retention_s=config.cluster.tx_retention_s,
    )
