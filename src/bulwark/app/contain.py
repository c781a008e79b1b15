"""Containment as ``bulwark watch`` wires it from ``bulwark.yaml``: the response policy, the
protected sets (each protocol's contracts and the assets they hold) and the responder whose relayer
signs with the configured sentinel key; plus the mempool watcher that remembers what it saw (the
responder outbids a pending attack with its fees).

Scenario runs under containment (``--protect contain``) are composed in :mod:`bulwark.lab.contain`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from bulwark.chain import ChainClient, Signer
from bulwark.chain.mempool import MempoolWatcher, PendingTx
from bulwark.chain.relayer import GWEI, Relayer, RelayerPolicy
from bulwark.config import BulwarkConfig
from bulwark.domain import Action, Address
from bulwark.errors import ConfigError
from bulwark.respond import (
    DEFAULT_POLICY,
    ProtectedSet,
    Responder,
    ResponsePolicy,
    ResponseRule,
)
from bulwark.store import Store

__all__ = [
    "RecordingWatcher",
    "policy_from_config",
    "protected_sets_from_config",
    "responder_from_config",
]


class RecordingWatcher(MempoolWatcher):
    """The mempool watcher, remembering each pending transaction (fees, arrival) by hash."""

    def __init__(self, client: ChainClient, book: dict[str, PendingTx], **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self.book = book

    async def stream(self) -> AsyncIterator[PendingTx]:
        async for item in super().stream():
            self.book[item.tx.hash] = item
            yield item


# -- from bulwark.yaml -----------------------------------------------------------------------------


def policy_from_config(config: BulwarkConfig) -> ResponsePolicy:
    """The ``responses.rules`` of the configuration, or the built-in policy when none are given."""
    if config.responses is None or not config.responses.rules:
        return DEFAULT_POLICY
    rules = []
    for r in config.responses.rules:
        actions: tuple[Action | Literal["recommended"], ...] = tuple(
            "recommended" if a == "recommended" else Action(a) for a in r.actions
        )
        rules.append(
            ResponseRule(
                r.name,
                actions,
                min_severity=r.min_severity,
                classes=frozenset(r.classes),
                detectors=frozenset(r.detectors),
                pending_only=r.pending_only,
                scope=r.scope,
            )
        )
    return ResponsePolicy(tuple(rules))


def protected_sets_from_config(config: BulwarkConfig) -> list[ProtectedSet]:
    """Each protocol with a guardian: its contracts (bar tokens) and the assets each holds."""
    if config.responses is None:
        return []
    out = []
    for pname, guardian in config.responses.guardians.items():
        proto = config.protocols[pname]
        targets = tuple(c.address for c in proto.contracts.values() if c.kind != "token")
        assets: dict[Address, list[Address]] = {}
        for a in proto.assets.values():
            if a.address == "native":
                continue
            for holder in a.held_by:
                assets.setdefault(proto.contracts[holder].address, []).append(Address(a.address))
        out.append(ProtectedSet(pname, guardian, targets, {k: tuple(v) for k, v in assets.items()}))
    return out


def responder_from_config(
    config: BulwarkConfig, client: ChainClient, *, dry_run: bool = False, store: Store | None = None
) -> Responder:
    """The responder ``bulwark watch`` runs: sentinel key from its reference, relayer on ``client``
    (an HTTP connection of its own)."""
    if config.responses is None:
        raise ConfigError("no `responses` section: nothing says how to contain findings")
    resp = config.responses
    signer = Signer(resp.sentinel_key.private_key(resp.sentinel_password))
    relayer = Relayer(client, signer, RelayerPolicy(max_fee_cap=resp.max_fee_gwei * GWEI))
    return Responder(
        relayer,
        protected_sets_from_config(config),
        policy=policy_from_config(config),
        store=store,
        presign=resp.presign,
        dry_run=dry_run,
    )
