"""Alert hygiene: one attack is one incident, not a storm.

A finding passes the gate unless the same (detector, protocol, target) already fired within the
cooldown. Exceptions that must pass anyway: a higher severity than what was last let through (an
escalation), and nothing else; the same transaction seen pending then mined is always a duplicate.
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
    suppressed: int = 0
    _last: dict[tuple[str, str, str], _Last] = field(default_factory=dict)
    _seen: dict[tuple[str, str, TxHash | None], float] = field(default_factory=dict)

    def admit(self, finding: Finding) -> bool:
        now = self.clock()
        self._expire(now)
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
        self._last.pop(finding.dedup_key, None)
        self._seen.pop((finding.detector, finding.contract or "", finding.tx_hash), None)

    def _expire(self, now: float) -> None:
        # Bounded memory: forget transactions older than twice the cooldown (at least an hour).
        horizon = max(2 * self.cooldown_s, 3600.0)
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < horizon}
