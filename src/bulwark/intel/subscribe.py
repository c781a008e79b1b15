"""Subscription: poll trusted feeds, verify every signature, keep only what checks out.

Every rejection (unsigned, tampered, unknown publisher, expired, malformed) is logged and written
to the store's audit log (``intel.rejected``); accepted bundles are audited as ``intel.accepted``.
The result, :class:`Intel`, is what the policy acts on: attacker indicators for the detectors,
vulnerable-code fingerprints for a scan of the protocol's own contracts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bulwark.domain import Address
from bulwark.intel.bundle import IntelError, Rejection, verify_objects
from bulwark.intel.feeds import FileFeed, TaxiiFeed
from bulwark.intel.indicators import Indicator, IndicatorKind
from bulwark.logs import get_logger
from bulwark.store import Store

__all__ = ["Intel", "pull"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Intel:
    indicators: tuple[tuple[Address, Indicator], ...]
    rejections: tuple[Rejection, ...]

    def values(self, kind: IndicatorKind) -> frozenset[str]:
        return frozenset(i.value for _, i in self.indicators if i.kind is kind)

    @property
    def addresses(self) -> frozenset[str]:
        return self.values(IndicatorKind.ACCOUNT)

    @property
    def code_hashes(self) -> frozenset[str]:
        return self.values(IndicatorKind.CODE_HASH)

    @property
    def code_fingerprints(self) -> frozenset[str]:
        return self.values(IndicatorKind.CODE_FINGERPRINT)

    @property
    def call_patterns(self) -> tuple[tuple[str, ...], ...]:
        return tuple(
            sorted({i.selectors for _, i in self.indicators if i.kind is IndicatorKind.CALL_PATTERN})
        )

    @property
    def vulnerable_code(self) -> tuple[Indicator, ...]:
        return tuple(i for _, i in self.indicators if i.kind is IndicatorKind.VULNERABLE_CODE)


async def pull(
    feeds: Sequence[FileFeed | TaxiiFeed],
    trusted: Iterable[str],
    *,
    store: Store | None = None,
    now: datetime | None = None,
) -> Intel:
    """Indicators from every feed that a trusted publisher signed and that are still valid. A feed
    that cannot be read is a rejection too (the others still count)."""
    trusted = tuple(trusted)
    accepted: list[tuple[Address, Indicator]] = []
    rejected: list[Rejection] = []
    for feed in feeds:
        try:
            objects = await feed.pull()
        except IntelError as exc:
            rejected.append(Rejection(feed.name, "", exc.user_message))
            continue
        result = verify_objects(objects, trusted, source=feed.name, now=now or datetime.now(UTC))
        accepted += result.indicators
        rejected += result.rejections
        if store is not None:
            for digest in result.bundles:
                store.audit("intel.accepted", {"feed": feed.name, "bundle_hash": digest})
    for r in rejected:
        log.warning("intel rejected", feed=r.source, object=r.object_id, reason=r.reason)
        if store is not None:
            store.audit("intel.rejected", {"feed": r.source, "object": r.object_id, "reason": r.reason})
    seen: set[tuple[str, str]] = set()
    unique = []
    for pub, ind in accepted:
        if (ind.kind.value, ind.value) not in seen:
            seen.add((ind.kind.value, ind.value))
            unique.append((pub, ind))
    return Intel(tuple(unique), tuple(rejected))
