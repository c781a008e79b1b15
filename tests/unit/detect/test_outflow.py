"""Cumulative outflow: one sender's steps, each under the per-transaction bound, judged together."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from tests.unit.detect.synth import (
    ATTACKER,
    E18,
    LENDING,
    USD,
    USER,
    call,
    event,
    protocol,
    state,
    transfer_log,
    word,
)

from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.model import ChainView
from bulwark.detect.screen import Screener
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Transaction, TxHash

HELD = 1_000_000 * E18  # the lending pool's USD in synth.state()


def _withdraw(sender: Address, amount: int, n: int):  # type: ignore[no-untyped-def]
    raw = call(
        sender, LENDING, "withdraw(uint256)", word(amount), logs=[transfer_log(USD, LENDING, sender, amount)]
    )
    ev = event(raw)
    return replace(ev, tx=replace(ev.tx, hash=TxHash("0x" + f"{n:064x}"), nonce=n))


def _view(block: int, held: int) -> ChainView:
    st = state()
    return ChainView(
        protocol(), replace(st, block_number=block, holdings={**st.holdings, (USD, LENDING): held})
    )


def test_slow_drain_is_caught_before_the_configured_share_is_lost() -> None:
    det = InvariantBreak.from_settings({"max_window_share": 0.25})
    held, flagged_at = HELD, None
    for step in range(1, 11):
        view = _view(100 + step, held)  # the snapshot is refreshed after each mined step
        step_amount = HELD // 10
        findings = [
            f for f in det(view, _withdraw(ATTACKER, step_amount, step)) if "within the window" in f.title
        ]
        if findings and flagged_at is None:
            flagged_at = step
            assert findings[0].pending and findings[0].contract == LENDING
        held -= step_amount
    # flagged while pending on the step that would take the total past 25%: 20% lost so far
    assert flagged_at == 3


def test_stale_snapshot_does_not_hide_the_pending_sender_chain() -> None:
    # Three steps screened while pending against the same (stale) snapshot: judged together.
    det = InvariantBreak.from_settings({"max_window_share": 0.25})
    view = _view(100, HELD)
    hits = [bool(list(det(view, _withdraw(ATTACKER, HELD // 10, n)))) for n in range(1, 4)]
    assert hits == [False, False, True]


def test_same_transaction_pending_then_mined_counts_once_and_other_senders_apart() -> None:
    det = InvariantBreak.from_settings({"max_window_share": 0.25})
    view = _view(100, HELD)
    for _ in range(3):  # the same hash again (pending, then mined): one outflow
        assert list(det(view, _withdraw(ATTACKER, HELD // 5, 1))) == []
    assert list(det(view, _withdraw(USER, HELD // 5, 2))) == []  # another sender's own 20%


def test_window_expiry_and_deposits_offset() -> None:
    det = InvariantBreak.from_settings({"max_window_share": 0.25, "window_blocks": 5})
    assert list(det(_view(100, HELD), _withdraw(ATTACKER, HELD // 5, 1))) == []
    # 20% again, ten blocks later: the first step left the window
    assert list(det(_view(110, HELD), _withdraw(ATTACKER, HELD // 5, 2))) == []
    # a deposit by the same sender nets against its withdrawals
    raw = call(
        USER, LENDING, "deposit(uint256)", word(HELD // 5), logs=[transfer_log(USD, USER, LENDING, HELD // 5)]
    )
    ev = event(raw)
    det2 = InvariantBreak.from_settings({"max_window_share": 0.25})
    assert list(det2(_view(100, HELD), replace(ev, tx=replace(ev.tx, hash=TxHash("0x" + "01" * 32))))) == []
    assert list(det2(_view(101, HELD), _withdraw(USER, HELD // 5, 7))) == []
    assert list(det2(_view(102, HELD), _withdraw(USER, HELD // 10, 8))) == []


class _Chain:
    """A node whose head moved on since the snapshot: the pool lost half its USD meanwhile."""

    def __init__(self) -> None:
        self.head, self.held = 100, HELD

    async def request(self, method: str, params: Sequence[Any]) -> Any:
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getBlockByNumber":
            return {"number": hex(self.head), "timestamp": hex(1_700_000_000 + self.head)}
        if method == "eth_call":
            return "0x" + self.held.to_bytes(32, "big").hex()
        if method == "eth_getStorageAt":
            return "0x" + "00" * 32
        if method == "debug_traceCall":
            amount = HELD // 5
            return call(
                ATTACKER,
                LENDING,
                "withdraw(uint256)",
                word(amount),
                logs=[transfer_log(USD, LENDING, ATTACKER, amount)],
            )
        raise AssertionError(method)


def test_a_pending_transaction_is_judged_against_the_holdings_of_the_block_it_runs_on() -> None:
    model = protocol()
    model = replace(
        model,
        assets=tuple(a for a in model.assets if a.name == "usd"),
        contracts={LENDING: model.contracts[LENDING], USD: model.contracts[USD]},
    )
    model = replace(model, assets=(replace(model.assets[0], holders=(LENDING,)),))
    chain = _Chain()
    monitor = Monitor("m", model, (InvariantBreak(),), cooldown_s=0, mempool=True)
    screener = Screener(chain, [monitor])  # type: ignore[arg-type]

    async def run() -> list[Any]:
        await screener.refresh()
        chain.head, chain.held = 101, HELD // 2  # a block later: half the USD is gone
        tx = Transaction(
            TxHash("0x" + "02" * 32), ATTACKER, LENDING, 0, bytes.fromhex("2e1a7d4d") + word(1), 0, 100_000
        )
        return await screener.screen(tx)

    findings = asyncio.run(run())
    # 20% of the stale snapshot, 40% of what the pool holds on the block the withdrawal runs on
    assert [f.evidence["share"] for f in findings] == [0.4]
    assert screener.views[0].state.block_number == 101


def test_others_draining_the_holder_meanwhile_do_not_dilute_a_senders_share() -> None:
    det = InvariantBreak.from_settings({"max_window_share": 0.25})
    held, block = HELD, 100
    for n in range(5):  # five other senders take a tenth each: the holder is down to 59%
        other = Address("0x" + f"{0xC0 + n:02x}" * 20)
        assert list(det(_view(block, held), _withdraw(other, held // 10, 100 + n))) == []
        held -= held // 10
        block += 1
    hits = []
    for n in range(1, 4):  # then one sender takes a tenth of what is left, three times
        hits.append(bool(list(det(_view(block, held), _withdraw(ATTACKER, held // 10, n)))))
        held -= held // 10
        block += 1
    assert hits == [False, False, True]  # 27% of what was there when it started, not 16% of the peak


def _bump(sender: Address, amount: int, nonce: int, attempt: int):  # type: ignore[no-untyped-def]
    """The sender's transaction at ``nonce`` resent with a higher fee: a new hash, the same nonce."""
    ev = _withdraw(sender, amount, nonce)
    tip = 10**9 * (attempt + 1)
    tx = replace(ev.tx, hash=TxHash("0x" + f"{attempt:032x}{nonce:032x}"), gas_price=tip)
    return replace(ev, tx=tx)


def test_fee_bumps_of_one_withdrawal_count_once() -> None:
    # A user's stuck 10% withdrawal, resent three times with a higher fee, then mined: one outflow
    # of 10%, not 40% (which would be a false critical, and a pause, on a benign user).
    det = InvariantBreak.from_settings({"max_window_share": 0.25})
    view = _view(100, HELD)
    for attempt in range(4):
        assert list(det(view, _bump(USER, HELD // 10, 5, attempt))) == []
    mined = _bump(USER, HELD // 10, 5, 3)
    assert list(det(_view(101, HELD - HELD // 10), replace(mined, block_number=101))) == []
    # Its next withdrawal (another nonce) adds up with it: 20%, still under the bound.
    assert list(det(_view(101, HELD - HELD // 10), _withdraw(USER, HELD // 10, 6))) == []


def test_a_replacement_replaces_its_amount_and_a_real_drain_is_still_caught() -> None:
    det = InvariantBreak.from_settings({"max_window_share": 0.25})
    view = _view(100, HELD)
    # The replacement asks for more (20% instead of 10%): it counts 20%, not 30%.
    assert list(det(view, _bump(ATTACKER, HELD // 10, 1, 0))) == []
    assert list(det(view, _bump(ATTACKER, HELD // 5, 1, 1))) == []
    # A drain in steps of distinct nonces, interleaved with bumps of them, is still judged together:
    # 20% + 10% (bumped twice) is 30% of holdings, past the 25% window share.
    assert list(det(view, _bump(ATTACKER, HELD // 10, 2, 0))) != []
    hits = [f for f in det(view, _bump(ATTACKER, HELD // 10, 2, 1)) if "within the window" in f.title]
    assert hits and hits[0].evidence["window_outflow"] == str(HELD // 5 + HELD // 10)
