"""Benign traffic's planning half, without a chain: seeded, within its margins, and the signer the
sending half uses is byte-identical to eth-account's."""

from __future__ import annotations

import random
from typing import Any

from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from bulwark.domain import Address
from bulwark.scenarios.benign import _FastSigner
from bulwark.scenarios.benign_plan import ACTIONS, GWEI, BenignPlanner, User
from bulwark.scenarios.protocol import Actor

E18 = 10**18
SIGNATURES = {
    "oracle": ["setPrice(address,uint256)"],
    "pool": ["swap(address,uint256,uint256,address)", "addLiquidity(uint256,uint256,address)",
             "removeLiquidity(uint256,address)"],
    "lending": ["supply(uint256)", "withdrawSupply(uint256)", "depositCollateral(uint256)",
                "withdrawCollateral(uint256)", "borrow(uint256)", "repay(uint256)",
                "liquidate(address,uint256)"],
    "vault": ["deposit(uint256,address)", "redeem(uint256,address,address)"],
    "flash": ["deposit(address,uint256)", "withdraw(address,uint256)"],
}  # fmt: skip


def _abi(signatures: list[str]) -> tuple[dict[str, Any], ...]:
    out = []
    for sig in signatures:
        name, args = sig[:-1].split("(")
        inputs = [{"name": f"a{i}", "type": t} for i, t in enumerate(args.split(","))]
        out.append({"type": "function", "name": name, "inputs": inputs, "outputs": []})
    return tuple(out)


COMPONENTS = {
    name: (Address("0x" + f"{i:02x}" * 20), _abi(sigs))
    for i, (name, sigs) in enumerate(SIGNATURES.items(), 1)
}
# price, weth/usd reserves, lending cash, flash usd/weth, fee (bps), the borrower bot's usd/weth
MARKET = [
    2_000 * E18,
    500 * E18,
    1_000_000 * E18,
    800_000 * E18,
    50_000 * E18,
    20 * E18,
    9,
    5_000 * E18,
    5 * E18,
]


def _actor(i: int) -> Actor:
    key = "0x" + f"{i + 1:064x}"
    return Actor(name=f"u{i}", address=Account.from_key(key).address, private_key=key)


def _planner(seed: int, exclude: tuple[str, ...] = ()) -> BenignPlanner:
    users = [
        User(_actor(i), degen=i % 4 == 3, usd=100_000 * E18, weth=50 * E18, lp=E18, supplied=10_000 * E18,
             collateral=10 * E18, debt=1_000 * E18, vault_shares=E18, flash_usd=E18, flash_weth=E18)
        for i in range(12)
    ]  # fmt: skip
    p = BenignPlanner(
        random.Random(seed),
        users,
        components=COMPONENTS,
        usd=Address("0x" + "aa" * 20),
        weth=Address("0x" + "bb" * 20),
        feeder=_actor(99),
        exclude=exclude,
    )
    p.borrower, p.anchor_price = Address("0x" + "cc" * 20), 2_000 * E18
    return p


def _batches(
    p: BenignPlanner, n: int, positions: dict[str, tuple[int, int]] | None = None
) -> list[list[tuple]]:
    return [
        [(t.action, t.sender.address, t.to, t.data, t.tip) for t in p.plan(10, MARKET, positions or {})]
        for _ in range(n)
    ]


def test_the_same_seed_plans_the_same_batches_and_another_seed_does_not() -> None:
    assert _batches(_planner(7), 5) == _batches(_planner(7), 5)
    assert _batches(_planner(7), 5) != _batches(_planner(8), 5)


def test_a_batch_keeps_its_margins() -> None:
    p = _planner(3)
    for _ in range(20):
        batch = p.plan(10, MARKET, {})
        assert len(batch) <= 10
        senders = [t.sender.address for t in batch]
        assert len(senders) == len(set(senders))  # nobody acts twice in one batch
        keeper = [t for t in batch if t.action == "set_price"]
        if keeper:  # the price moves first, at a higher tip, within the band
            assert batch[0] is keeper[0] and keeper[0].tip > GWEI
    assert p.batches == 20


def test_excluded_components_are_never_touched() -> None:
    p = _planner(5, exclude=("lending", "flash"))
    touched = {a for batch in _batches(p, 15) for a, *_ in batch}
    assert touched and not touched & {n for n, (_, c) in ACTIONS.items() if c in ("lending", "flash")}


def test_an_unhealthy_borrower_is_liquidated_first() -> None:
    p = _planner(1)
    victim = "0x" + "dd" * 20
    [batch] = _batches(p, 1, {victim: (1 * E18, 10_000 * E18)})  # 1 WETH against 10k USD of debt
    actions = [a for a, *_ in batch]
    assert "liquidate" in actions
    assert actions.index("liquidate") <= 1  # after the keeper's price update at most


@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    nonce=st.integers(0, 2**32),
    tip=st.integers(0, 10**12),
    gas=st.integers(21_000, 30_000_000),
    data=st.binary(max_size=200),
    chain_id=st.sampled_from([1, 31337, 8453]),
)
def test_the_fast_signer_is_byte_identical_to_eth_account(
    nonce: int, tip: int, gas: int, data: bytes, chain_id: int
) -> None:
    key, to = "0x" + "11" * 32, "0x" + "22" * 20
    mine = _FastSigner(key).sign(chain_id, nonce, tip, 3 * tip + 1, gas, to, data)
    theirs = Account.sign_transaction(
        {"type": 2, "chainId": chain_id, "nonce": nonce, "maxPriorityFeePerGas": tip,
         "maxFeePerGas": 3 * tip + 1, "gas": gas, "to": to, "value": 0, "data": data, "accessList": []},
        key,
    ).raw_transaction  # fmt: skip
    assert mine == bytes(theirs)
