"""Alert hygiene: one attack is one notification thread, not a storm, and never one hidden finding.

Two gates, kept apart on purpose:

* :meth:`AlertGate.deliver` decides what reaches the sink (the responder that contains, the store,
  ``watch`` output). It drops only the very same judgement seen again: the same detector on the
  same contract for the same transaction (seen pending, then mined). Every other finding passes,
  whatever the cooldown: a second attack transaction on the same target within the cooldown still
  reaches the responder, which decides on containment (and knows a target already paused).
* :meth:`AlertGate.admit` decides what is *announced* (notification channels). A finding is grouped
  with the last announced one when the same (detector, protocol, target) fired within the cooldown,
  unless it is of a higher severity (an escalation); the same transaction is announced once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bulwark.domain import Finding, Severity, TxHash


@dataclass(slots=True)
class _Last:
    at: float
    severity: Severity


@dataclass(slots=True)
class AlertGate:
    cooldown_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    suppressed: int = 0  # notifications grouped into an earlier one
    duplicates: int = 0  # the same judgement delivered again (not passed on)
    _last: dict[tuple[str, str, str], _Last] = field(default_factory=dict)
    _seen: dict[tuple[str, str, TxHash | None], float] = field(default_factory=dict)
    _delivered: dict[tuple[str, str, TxHash | None], float] = field(default_factory=dict)

    def deliver(self, finding: Finding) -> bool:
        """Should ``finding`` reach the sink (containment)? Only an exact repeat is held back."""
        now = self.clock()
        self._delivered = _expired(self._delivered, now, self.cooldown_s)
        key = (finding.detector, finding.contract or "", finding.tx_hash)
        if finding.tx_hash is not None and key in self._delivered:
            self.duplicates += 1
            return False
        self._delivered[key] = now
        return True

    def admit(self, finding: Finding) -> bool:
        """Should ``finding`` be announced, or is it grouped with one announced within the cooldown?"""
        now = self.clock()
        self._seen = _expired(self._seen, now, self.cooldown_s)
        seen_key = (finding.detector, finding.contract or "", finding.tx_hash)
        if finding.tx_hash is not None and seen_key in self._seen:
            self.suppressed += 1
            return False
        last = self._last.get(finding.dedup_key)
        if last is not None and now - last.at < self.cooldown_s and finding.severity <= last.severity:
            self.suppressed += 1
            self._seen[seen_key] = now
            return False
        self._last[finding.dedup_key] = _Last(now, finding.severity)
        self._seen[seen_key] = now
        return True

    def forget(self, finding: Finding) -> None:
        """After a withdrawal (reorg) the target may fire again at once."""
        key = (finding.detector, finding.contract or "", finding.tx_hash)
        self._last.pop(finding.dedup_key, None)
        self._seen.pop(key, None)
        self._delivered.pop(key, None)


def _expired(
    seen: dict[tuple[str, str, TxHash | None], float], now: float, cooldown_s: float
) -> dict[tuple[str, str, TxHash | None], float]:
    # Bounded memory: forget transactions older than twice the cooldown (at least an hour).
    if len(seen) <= 10_000:
        return seen
    horizon = max(2 * cooldown_s, 3600.0)
    return {k: t for k, t in seen.items() if now - t < horizon}
