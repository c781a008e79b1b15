"""Fan a notification out to its channels, with retries (exponential backoff) and rate limits.

A notification failing never raises into the caller: the incident flow must not stop, or skip a
pause, because a chat server is down. Every outcome is returned as a :class:`Delivery` and logged.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bulwark.domain import Severity
from bulwark.logs import get_logger
from bulwark.notify.channels import Channel
from bulwark.notify.errors import NotifyError, PermanentDeliveryError, TransientDeliveryError
from bulwark.notify.message import ANCHOR_EVENT, Notification

log = get_logger(__name__)

Status = Literal["sent", "dropped", "failed"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` in total; the n-th retry waits ``base * factor**(n-1)`` (capped), ± ``jitter``.

    A receiver's ``Retry-After`` is honoured up to ``max_delay``.
    """

    attempts: int = 4
    base_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise NotifyError("a retry policy needs at least one attempt")
        if self.base_delay < 0 or self.factor < 1 or self.max_delay < 0 or not 0 <= self.jitter < 1:
            raise NotifyError("retry policy: delays must be >= 0, factor >= 1, 0 <= jitter < 1")

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds before retry number ``retry`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        raw = min(self.base_delay * self.factor ** (retry - 1), self.max_delay)
        return raw * (1 + random.uniform(-self.jitter, self.jitter))


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``rate`` messages per second sustained, bursts of ``burst``.

    Beyond the limit, ``overflow="queue"`` waits for a token (at most ``max_wait`` seconds, then
    drops); ``overflow="drop"`` drops at once.
    """

    rate: float
    burst: int = 1
    overflow: Literal["queue", "drop"] = "queue"
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1 or self.max_wait < 0:
            raise NotifyError("rate limit: rate must be > 0, burst >= 1, max_wait >= 0")


class TokenBucket:
    """Reservations against a token bucket; a reservation may run the balance negative (a queue)."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._stamp = clock()

    def reserve(self, max_wait: float) -> float | None:
        """Take a token now or in the future: the seconds to wait, or None if that exceeds ``max_wait``."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self._rate
        if wait > max_wait:
            return None
        self._tokens -= 1
        return wait


@dataclass(frozen=True, slots=True)
class Route:
    """A channel with its retry policy, rate limit and the least severity it wants to hear about."""

    channel: Channel
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limit: RateLimit | None = None
    min_severity: Severity = Severity.INFO


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    status: Status
    attempts: int
    error: str = ""


class Notifier:
    """Sends each notification to every route whose ``min_severity`` it meets, concurrently."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [r.channel.name for r in routes]
        if len(set(names)) != len(names):
            raise NotifyError(f"notification channel names must be unique: {names}")
        self._routes = tuple(routes)
        self._sleep = sleep
        self._buckets = {
            r.channel.name: TokenBucket(r.limit.rate, r.limit.burst, clock)
            for r in routes
            if r.limit is not None
        }
        self._pending: set[asyncio.Task[tuple[Delivery, ...]]] = set()

    async def notify(self, message: Notification) -> tuple[Delivery, ...]:
        # An audit anchor goes to every channel whatever its severity: it is the record's outside copy.
        routes = [
            r for r in self._routes if message.severity >= r.min_severity or message.event == ANCHOR_EVENT
        ]
        return tuple(await asyncio.gather(*(self._deliver(r, message) for r in routes)))

    def submit(self, message: Notification) -> asyncio.Task[tuple[Delivery, ...]]:
        """Send in the background (the caller does not wait on retries); see :meth:`drain`."""
        task = asyncio.get_running_loop().create_task(self.notify(message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def drain(self) -> None:
        """Wait for every background send to finish (on shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _deliver(self, route: Route, message: Notification) -> Delivery:
        name = route.channel.name
        bucket = self._buckets.get(name)
        if bucket is not None and route.limit is not None:
            max_wait = route.limit.max_wait if route.limit.overflow == "queue" else 0.0
            wait = bucket.reserve(max_wait)
            if wait is None:
                log.warning("notification dropped by rate limit", channel=name, notification=message.event)
                return Delivery(name, "dropped", 0, "rate limited")
            if wait > 0:
                await self._sleep(wait)
        error = ""
        for attempt in range(1, route.retry.attempts + 1):
            try:
                await route.channel.send(message)
            except TransientDeliveryError as exc:
                error = exc.user_message
                if attempt == route.retry.attempts:
                    break
                delay = route.retry.delay(attempt, exc.retry_after)
                log.info(
                    "notification retry", channel=name, attempt=attempt, delay=round(delay, 3), error=error
                )
                await self._sleep(delay)
            except PermanentDeliveryError as exc:
                log.error(
                    "notification refused", channel=name, notification=message.event, error=exc.user_message
                )
                return Delivery(name, "failed", attempt, exc.user_message)
            except Exception as exc:  # a channel bug must not take the caller down with it
                log.error("notification channel crashed", channel=name, error=f"{type(exc).__name__}: {exc}")
                return Delivery(name, "failed", attempt, f"{type(exc).__name__}: {exc}")
            else:
                return Delivery(name, "sent", attempt)
        log.error("notification not delivered", channel=name, notification=message.event, error=error)
        return Delivery(name, "failed", route.retry.attempts, error)
