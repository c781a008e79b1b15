"""Subscribed intelligence: the ``intel`` configuration, its feeds, and the accepted indicators
kept in the store (what ``bulwark intel list`` shows and a restarted watcher acts on).

:class:`FeedSubscription` pulls the configured feeds (at start, then every ``poll_interval_s``),
keeps what verifies and hands the still-valid intel to whoever acts on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bulwark.config.intel import IntelConfig
from bulwark.config.secrets import BASE_DIR_CONTEXT
from bulwark.domain import Address, VulnClass
from bulwark.errors import BulwarkError, ConfigError
from bulwark.intel.feeds import FileFeed, TaxiiFeed
from bulwark.intel.indicators import Indicator, IndicatorKind
from bulwark.intel.subscribe import Intel, pull
from bulwark.logs import get_logger
from bulwark.store import Store

__all__ = [
    "INDICATOR_ARTIFACT",
    "FeedSubscription",
    "feeds_from_config",
    "intel_from_store",
    "load_intel_config",
    "pull_and_remember",
    "remember",
    "remembered",
]

log = get_logger(__name__)

INDICATOR_ARTIFACT = "intel-indicator"


def load_intel_config(path: Path) -> IntelConfig:
    """The ``intel`` section of ``path`` (a bulwark.yaml), validated on its own; a missing or
    malformed section is an error (fails closed), never an empty configuration."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    section = data.get("intel") if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: no `intel:` section")
    try:
        return IntelConfig.model_validate(section, context={BASE_DIR_CONTEXT: path.parent.resolve()})
    except ValidationError as exc:
        lines = [f"intel.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)]
        raise ConfigError(f"{path}: " + "; ".join(lines)) from None


def feeds_from_config(config: IntelConfig, base_dir: Path) -> dict[str, FileFeed | TaxiiFeed]:
    out: dict[str, FileFeed | TaxiiFeed] = {}
    for name, f in config.feeds.items():
        if f.file is not None:
            out[name] = FileFeed(f.file if f.file.is_absolute() else base_dir / f.file)
        else:
            assert f.taxii is not None and f.collection is not None
            password = f.password.anchored(base_dir).resolve() if f.password else None
            out[name] = TaxiiFeed(f.taxii, f.collection, f.user, password)
    return out


def remember(store: Store, intel: Intel) -> int:
    """Keep accepted indicators in the store (what ``bulwark intel list`` shows and a restarted
    watcher acts on); returns how many were new."""
    have = {a for a, _, _ in store.artifacts(INDICATOR_ARTIFACT)}
    new = 0
    for publisher, ind in intel.indicators:
        aid = f"intel:{ind.kind.value}:{ind.value.lower()}"
        new += aid not in have
        store.put_artifact(
            aid,
            INDICATOR_ARTIFACT,
            {
                "kind": ind.kind.value,
                "value": ind.value,
                "publisher": publisher,
                "valid_from": ind.valid_from.isoformat(),
                "valid_until": ind.valid_until.isoformat(),
                "vuln_class": ind.vuln_class.value if ind.vuln_class else None,
                "chain_id": ind.chain_id,
                "description": ind.description,
            },
            state="active",
        )
    return new


def remembered(store: Store, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every kept indicator, with ``expired`` computed at ``now``."""
    at = now or datetime.now(UTC)
    out = []
    for aid, _, body in store.artifacts(INDICATOR_ARTIFACT):
        until = datetime.fromisoformat(str(body["valid_until"]))
        out.append({"id": aid, **body, "expired": at >= until})
    return out


def intel_from_store(store: Store, *, now: datetime | None = None) -> Intel:
    """The kept indicators still valid at ``now``, as the detectors and the scan take them."""
    items = []
    for body in remembered(store, now=now):
        if body["expired"]:
            continue
        vc = body.get("vuln_class")
        ind = Indicator(
            IndicatorKind(str(body["kind"])),
            str(body["value"]),
            datetime.fromisoformat(str(body["valid_from"])),
            datetime.fromisoformat(str(body["valid_until"])),
            VulnClass(vc) if vc else None,
            str(body.get("description") or ""),
            body.get("chain_id"),
        )
        items.append((Address(str(body["publisher"])), ind))
    return Intel(tuple(items), ())


async def pull_and_remember(
    feeds: Sequence[FileFeed | TaxiiFeed], trusted: Iterable[str], store: Store
) -> tuple[Intel, int]:
    intel = await pull(feeds, trusted, store=store)
    return intel, remember(store, intel)


OnIntel = Callable[[Intel], Awaitable[None]]


class FeedSubscription:
    """The configured feeds of ``config``, pulled into ``store``; ``on_intel`` gets the intel still
    valid after each refresh (the detectors it feeds, the scan of our own code)."""

    def __init__(
        self, config: IntelConfig, base_dir: Path, store: Store, on_intel: OnIntel | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.feeds = list(feeds_from_config(config, base_dir).values())
        self.on_intel = on_intel

    async def refresh(self) -> Intel:
        if self.feeds:
            await pull_and_remember(self.feeds, self.config.publishers, self.store)
        intel = intel_from_store(self.store)
        if self.on_intel is not None:
            await self.on_intel(intel)
        return intel

    async def keep_polling(self) -> None:
        while True:
            await asyncio.sleep(self.config.poll_interval_s)
            try:
                await self.refresh()
            except BulwarkError as exc:  # a feed down is a rejection; the last good intel stays
                log.warning("intel refresh failed", error=exc.user_message)
