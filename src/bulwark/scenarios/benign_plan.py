"""Benign traffic, the planning half: what each user does next, from one reading of the chain.

Pure and seeded: :class:`BenignPlanner` takes the lens's reading of a batch (prices, reserves,
cash, every user's balances and positions) and its own random generator, and returns the batch's
transactions, unsigned. Sending, signing and mining them is :mod:`bulwark.scenarios.benign`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bulwark.chain.abi import encode_call
from bulwark.domain import Address
from bulwark.errors import ScenarioError
from bulwark.scenarios.protocol import Abi, Actor

__all__ = ["ACTIONS", "GAS", "BenignPlanner", "Tx", "User", "decode_amount", "decode_flash"]

E18 = 10**18
GWEI = 10**9
GAS = {
    "approve": 80_000,
    "mint": 100_000,
    "set_price": 120_000,
    "default": 450_000,
}
# action -> (weight, component it needs)
ACTIONS: Mapping[str, tuple[int, str]] = {
    "swap_usd_for_weth": (14, "pool"),
    "swap_weth_for_usd": (14, "pool"),
    "add_liquidity": (2, "pool"),
    "remove_liquidity": (1, "pool"),
    "supply": (7, "lending"),
    "withdraw_supply": (4, "lending"),
    "deposit_collateral": (8, "lending"),
    "withdraw_collateral": (4, "lending"),
    "borrow": (9, "lending"),
    "repay": (6, "lending"),
    "vault_deposit": (6, "vault"),
    "vault_redeem": (4, "vault"),
    "flash_deposit": (2, "flash"),
    "flash_withdraw": (2, "flash"),
    "flash_loan": (5, "flash"),
}
PRICE_BAND = 0.15  # the keeper moves WETH within +/-15% of where it started
PRICE_PERIOD = 14  # batches per up-and-down cycle of the keeper's price


@dataclass(frozen=True, slots=True)
class Tx:
    action: str
    sender: Actor
    to: Address
    data: bytes
    gas: int
    tip: int = GWEI


@dataclass(slots=True)
class User:
    actor: Actor
    degen: bool  # borrows close to the limit: these are the positions that get liquidated
    usd: int = 0
    weth: int = 0
    lp: int = 0
    supplied: int = 0
    collateral: int = 0
    debt: int = 0
    vault_shares: int = 0
    flash_usd: int = 0
    flash_weth: int = 0


class BenignPlanner:
    """Chooses each batch. ``users`` are updated in place by whoever reads the chain."""

    def __init__(
        self,
        rng: random.Random,
        users: Sequence[User],
        *,
        components: Mapping[str, tuple[Address, Abi]],
        usd: Address,
        weth: Address,
        feeder: Actor,
        exclude: Iterable[str] = (),
    ) -> None:
        self.rng = rng
        self.users = list(users)
        self.comp = dict(components)
        self.usd, self.weth = usd, weth
        self.feeder = feeder
        self.exclude = frozenset(exclude)
        self.borrower: Address | None = None  # the flash-borrower bot, once deployed
        self.anchor_price = 0  # the keeper's WETH price moves around this one
        self.batches = 0

    def _tx(self, action: str, sender: Actor, component: str, fn: str, *args: Any) -> Tx:
        to, abi = self.comp[component]
        return Tx(action, sender, to, encode_call(abi, fn, *args), GAS["default"])

    def target_price(self) -> int:
        phase = 2 * math.pi * self.batches / PRICE_PERIOD
        wobble = PRICE_BAND * 0.9 * math.sin(phase) + self.rng.uniform(-0.01, 0.01)
        wobble = max(-PRICE_BAND, min(PRICE_BAND, wobble))
        return int(self.anchor_price * (1 + wobble))

    def _amount(self, upper: int, lower: int = 0) -> int:
        """A random amount in [max(lower, upper/50), upper], rounded to 1e12 wei."""
        if upper <= max(lower, 10**12):
            return 0
        low = max(lower, upper // 50)
        value = self.rng.randint(low, upper)
        return value - value % 10**12

    def plan(self, size: int, market: Sequence[int], positions: Mapping[str, tuple[int, int]]) -> list[Tx]:
        """Up to ``size`` transactions for one batch, chosen from ``market`` (the lens's globals)
        and every borrower's (collateral, debt) as read at the start of the batch."""
        price_now, r_weth, r_usd, cash, flash_usd, flash_weth, fee_bps, borrower_usd, borrower_weth = market[
            :9
        ]

        txs: list[Tx] = []
        busy: set[str] = set()
        # The keeper moves the price first (higher tip), so later choices see both prices.
        price_new = price_now
        if self.rng.random() < 0.6:
            target = self.target_price()
            oracle_to, oracle_abi = self.comp["oracle"]
            txs.append(
                Tx(
                    "set_price",
                    self.feeder,
                    oracle_to,
                    encode_call(oracle_abi, "setPrice", self.weth, target),
                    GAS["set_price"],
                    tip=3 * GWEI,
                )
            )
            price_new = target
        # Prices a choice must survive: the keeper's and up to 4% of in-block drift from swaps.
        p_low = min(price_now, price_new) * 96 // 100
        p_high = max(price_now, price_new) * 104 // 100

        # Liquidations first: any borrower unhealthy even at the highest plausible price.
        if "lending" not in self.exclude:
            for b, (collateral, debt) in positions.items():
                if len(txs) >= size or b in busy or debt == 0:
                    continue
                if collateral * p_high // E18 * 8_000 // 10_000 >= debt:
                    continue
                liquidator = next(
                    (
                        u
                        for u in self.users
                        if u.actor.address not in busy and u.actor.address != b and u.usd > 0
                    ),
                    None,
                )
                if liquidator is None:
                    break
                repay = min(debt // 2, liquidator.usd) * 99 // 100
                if repay == 0:
                    continue
                busy.update({b, liquidator.actor.address})
                txs.append(self._tx("liquidate", liquidator.actor, "lending", "liquidate", b, repay))

        names = [n for n, (_, comp) in ACTIONS.items() if comp not in self.exclude]
        weights = [ACTIONS[n][0] for n in names]
        cash_left = cash * 40 // 100
        flash_budget_usd, flash_budget_weth = borrower_usd // 2, borrower_weth // 2
        idle = [u for u in self.users if u.actor.address not in busy]
        self.rng.shuffle(idle)
        for u in idle:
            if len(txs) >= size:
                break
            for _ in range(6):  # a few tries to find something this user can do
                action = self.rng.choices(names, weights)[0]
                tx = self._choose(
                    action, u, p_low, r_weth, r_usd, flash_usd, flash_weth, fee_bps,
                    cash_left, flash_budget_usd, flash_budget_weth,
                )  # fmt: skip
                if tx is None:
                    continue
                if action in ("borrow", "withdraw_supply"):
                    cash_left -= int(decode_amount(tx.data))
                if action == "flash_loan":
                    token, amount = decode_flash(tx.data)
                    fee = -(-amount * fee_bps // 10_000)
                    if token.lower() == self.usd.lower():
                        flash_budget_usd -= fee
                    else:
                        flash_budget_weth -= fee
                txs.append(tx)
                busy.add(u.actor.address)
                break
        self.batches += 1
        return txs

    def _choose(
        self,
        action: str,
        u: User,
        p_low: int,
        r_weth: int,
        r_usd: int,
        flash_usd: int,
        flash_weth: int,
        fee_bps: int,
        cash_left: int,
        flash_budget_usd: int,
        flash_budget_weth: int,
    ) -> Tx | None:
        a = u.actor
        if action == "swap_usd_for_weth":
            amt = self._amount(min(u.usd, r_usd // 1_000), E18)
            return self._tx(action, a, "pool", "swap", self.usd, amt, 0, a.address) if amt else None
        if action == "swap_weth_for_usd":
            amt = self._amount(min(u.weth, r_weth // 1_000), 10**15)
            return self._tx(action, a, "pool", "swap", self.weth, amt, 0, a.address) if amt else None
        if action == "add_liquidity":
            w = self._amount(min(u.weth // 4, r_weth // 200), 10**15)
            usd_needed = w * r_usd // r_weth * 102 // 100 if r_weth else 0
            if not w or usd_needed > u.usd:
                return None
            return self._tx(action, a, "pool", "addLiquidity", w, usd_needed, a.address)
        if action == "remove_liquidity":
            lp = self._amount(u.lp // 2)
            return self._tx(action, a, "pool", "removeLiquidity", lp, a.address) if lp else None
        if action == "supply":
            amt = self._amount(u.usd // 3, E18)
            return self._tx(action, a, "lending", "supply", amt) if amt else None
        if action == "withdraw_supply":
            amt = self._amount(min(u.supplied, cash_left // 4), E18)
            return self._tx(action, a, "lending", "withdrawSupply", amt) if amt else None
        if action == "deposit_collateral":
            if u.degen and u.debt > 0:
                return None  # degens run their positions hot
            amt = self._amount(u.weth // 3, 10**15)
            return self._tx(action, a, "lending", "depositCollateral", amt) if amt else None
        if action == "withdraw_collateral":
            # Keep a health factor of at least 1.6 (degens: 1.15) at the lowest plausible price.
            hf_tenths = 115 if u.degen else 160
            keep = 0 if u.debt == 0 else -(-u.debt * hf_tenths * E18 // (80 * p_low))
            amt = self._amount(max(0, u.collateral - keep) // 2, 10**15)
            return self._tx(action, a, "lending", "withdrawCollateral", amt) if amt else None
        if action == "borrow":
            # Cautious users stay at 55% of the limit; degens go to 97% (liquidated on the way down).
            share = 97 if u.degen else 55
            limit = u.collateral * p_low // E18 * 7_500 // 10_000 * share // 100
            headroom = min(limit - u.debt, cash_left // 4) if limit > u.debt else 0
            amt = (
                (headroom - headroom % 10**12 if headroom > E18 else 0)
                if u.degen
                else self._amount(headroom, E18)
            )
            return self._tx(action, a, "lending", "borrow", amt) if amt else None
        if action == "repay":
            if u.degen and self.rng.random() < 0.8:
                return None
            amt = self._amount(min(u.debt, u.usd), 10**12)
            return self._tx(action, a, "lending", "repay", amt) if amt else None
        if action == "vault_deposit":
            amt = self._amount(u.usd // 4, E18)
            return self._tx(action, a, "vault", "deposit", amt, a.address) if amt else None
        if action == "vault_redeem":
            shares = self._amount(u.vault_shares // 2)
            return self._tx(action, a, "vault", "redeem", shares, a.address, a.address) if shares else None
        if action == "flash_deposit":
            token, bal = (self.usd, u.usd // 5) if self.rng.random() < 0.5 else (self.weth, u.weth // 5)
            amt = self._amount(bal, 10**15)
            return self._tx(action, a, "flash", "deposit", token, amt) if amt else None
        if action == "flash_withdraw":
            token, bal = (self.usd, u.flash_usd) if self.rng.random() < 0.5 else (self.weth, u.flash_weth)
            amt = self._amount(bal * 9 // 10, 10**15)
            return self._tx(action, a, "flash", "withdraw", token, amt) if amt else None
        if action == "flash_loan":
            use_usd = self.rng.random() < 0.6
            token, cap, budget = (
                (self.usd, flash_usd, flash_budget_usd)
                if use_usd
                else (self.weth, flash_weth, flash_budget_weth)
            )
            upper = min(cap // 5, budget * 10_000 // max(fee_bps, 1) if fee_bps else cap // 5)
            amt = self._amount(upper, 10**15)
            if not amt or self.borrower is None:
                return None
            return Tx(
                action,
                a,
                self.borrower,
                encode_call(_BORROWER_ABI, "borrow", self.comp["flash"][0], token, amt),
                GAS["default"],
            )
        raise ScenarioError(f"unknown benign action {action!r}")


_BORROWER_ABI: Abi = (
    {
        "type": "function",
        "name": "borrow",
        "inputs": [
            {"name": "lender", "type": "address"},
            {"name": "token", "type": "address"},
            {"name": "amount", "type": "uint256"},
        ],
        "outputs": [],
        "stateMutability": "nonpayable",
    },
)


def decode_amount(data: bytes) -> int:
    """First uint256 argument of an encoded call."""
    return int.from_bytes(data[4:36], "big")


def decode_flash(data: bytes) -> tuple[str, int]:
    """(token, amount) of an encoded ``borrow(lender, token, amount)``."""
    return "0x" + data[48:68].hex(), int.from_bytes(data[68:100], "big")
