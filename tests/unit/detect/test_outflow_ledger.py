"""The cumulative-outflow ledger keeps a running total per sender and holding: an active sender's
transactions are not re-summed on every new one, and the totals, bases and pruning are exactly
those of summing the window afresh each time (checked against that reference on seeded random
sequences of pending, mined, replaced and expiring transactions, keyed by the sender's nonce)."""

from __future__ import annotations

import random

import pytest

from bulwark.detect.builtins.invariant import OutflowLedger
from bulwark.domain import Address

USD = Address("0x" + "11" * 20)
HOLDER = Address("0x" + "22" * 20)
SENDERS = [Address("0x" + f"{i:02x}" * 20) for i in (0xA1, 0xA2, 0xA3)]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Reference:
    """The window summed afresh on every transaction (what the ledger must equal)."""

    def __init__(self, window_blocks: int, window_s: float, clock: _Clock) -> None:
        self.wb, self.ws, self.clock = window_blocks, window_s, clock
        self.out: dict[Address, dict[int, tuple[int, float, int, int]]] = {}

    def add(self, sender: Address, nonce: int, block: int, amount: int, base: int) -> tuple[int, int]:
        now = self.clock()
        entries = self.out.setdefault(sender, {})
        earlier = entries.get(nonce)
        entries[nonce] = (block, now, amount, earlier[3] if earlier else base)
        for h in [h for h, e in entries.items() if not (block - e[0] <= self.wb and now - e[1] <= self.ws)]:
            del entries[h]
        first = min(entries.values(), key=lambda e: (e[0], e[1]))
        return sum(e[2] for e in entries.values()), first[3]


@pytest.mark.parametrize("seed", range(6))
def test_running_totals_equal_summing_the_window_afresh(seed: int) -> None:
    rng = random.Random(seed)
    clock = _Clock()
    ledger = OutflowLedger(window_blocks=20, window_s=60.0, clock=clock)
    ledger.observe((USD, HOLDER), 0, 10**9)  # a peak for entries whose base is unknown
    reference = _Reference(20, 60.0, clock)
    block = 1
    for _ in range(600):
        clock.now += rng.choice((0.01, 0.5, 3.0, 30.0))
        block += rng.choice((0, 0, 1, 2, 7))
        # a nonce seen again: pending then mined, or a replacement (a fee bump, another amount)
        sender, nonce = rng.choice(SENDERS), rng.randrange(40)
        at = block - rng.choice((0, 0, 0, 1, 5))  # a mined transaction judged a little late
        amount, base = rng.randint(-50, 100), rng.choice((0, 500, 1000))
        got = ledger.add((USD, HOLDER), sender, nonce, at, amount, base)
        want_total, want_base = reference.add(sender, nonce, at, amount, base)
        assert got == (want_total, want_base or 10**9)


def test_an_active_senders_outflows_are_not_rescanned_on_each_transaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _Clock()
    ledger = OutflowLedger(window_blocks=300, window_s=3600.0, clock=clock)
    for i in range(200):
        clock.now += 1.0
        ledger.add((USD, HOLDER), SENDERS[0], i, 10 + i // 10, 5, 1000)
    checks: list[int] = []
    real = ledger._live

    def counting(block: int, at: float, now_block: int, now: float) -> bool:
        checks.append(block)
        return real(block, at, now_block, now)

    monkeypatch.setattr(ledger, "_live", counting)
    clock.now += 1.0
    total, base = ledger.add((USD, HOLDER), SENDERS[0], 200, 31, 5, 1000)
    assert (total, base) == (201 * 5, 1000)
    assert len(checks) <= 2  # the window's oldest entry, not all 200
