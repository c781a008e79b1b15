"""Benign traffic: a seeded generator of ordinary user activity on the demo protocol.

    traffic = BenignTraffic(client, protocol, compiler, seed=7)
    report = await traffic.run(1_000)          # report.txs, report.reverted

Users (deterministic keys derived from the seed, funded by the faucet) swap both ways, add and
remove pool liquidity, supply and withdraw USD, post and withdraw WETH collateral, borrow and
repay, deposit into and redeem from the vault, deposit into and withdraw from the flash lender and
take flash loans that they repay; the oracle keeper moves the WETH price within +/-15% of where it
started, and liquidators close positions that the move made unhealthy.

Speed: transactions are signed locally with nonces tracked here and sent as raw transactions, a
batch at a time with automine off, then one ``anvil_mine`` packs the batch into a block (the keeper's
price update carries a higher tip so it is ordered first). Every choice is made from a fresh read
of the chain at the start of its batch, with margins for what the rest of the batch can change, and
no account acts twice in one batch, so every transaction should succeed: ``reverted`` counts those
that did not.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import coincurve
import rlp  # type: ignore[import-untyped]
from eth_account import Account
from eth_hash.auto import keccak

from bulwark.chain import ChainClient, Signer, TxRequest
from bulwark.chain.abi import decode_result, encode_call, encode_deploy
from bulwark.chain.safe import checksum
from bulwark.domain import Address, TxHash
from bulwark.errors import ChainError, ScenarioError
from bulwark.logs import get_logger, register_secret
from bulwark.scenarios.deploy import compile_impl
from bulwark.scenarios.protocol import Abi, Actor, DemoProtocol, ImplSpec
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler

__all__ = ["ACTIONS", "BenignReport", "BenignTraffic", "run_benign"]

log = get_logger(__name__)

E18 = 10**18
GWEI = 10**9
MAX_UINT = 2**256 - 1
BATCH_GAS = 24_000_000  # below anvil's 30M block gas limit: one batch, one block
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
_LENS_GLOBALS = 10
_LENS_PER_USER = 9
PRICE_BAND = 0.15  # the keeper moves WETH within +/-15% of where it started
PRICE_PERIOD = 14  # batches per up-and-down cycle of the keeper's price


@dataclass(frozen=True, slots=True)
class BenignReport:
    txs: int
    reverted: int
    blocks: int
    seconds: float
    by_action: Mapping[str, int] = field(default_factory=dict)
    reverted_by_action: Mapping[str, int] = field(default_factory=dict)
    reverted_txs: tuple[TxHash, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "txs": self.txs,
            "reverted": self.reverted,
            "blocks": self.blocks,
            "seconds": round(self.seconds, 3),
            "tx_per_s": round(self.txs / self.seconds, 1) if self.seconds > 0 else None,
            "by_action": dict(sorted(self.by_action.items())),
            "reverted_by_action": dict(sorted(self.reverted_by_action.items())),
        }


@dataclass(frozen=True, slots=True)
class _Tx:
    action: str
    sender: Actor
    to: Address
    data: bytes
    gas: int
    tip: int = GWEI


@dataclass(slots=True)
class _User:
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


class _FastSigner:
    """EIP-1559 transaction signing straight on libsecp256k1: ~10x faster than eth-account's
    dict formatting, byte-identical output (canonical low-s signatures)."""

    __slots__ = ("_key",)

    def __init__(self, private_key: str) -> None:
        register_secret(private_key.removeprefix("0x"))
        self._key = coincurve.PrivateKey(bytes.fromhex(private_key.removeprefix("0x")))

    def sign(
        self, chain_id: int, nonce: int, tip: int, max_fee: int, gas: int, to: str, data: bytes
    ) -> bytes:
        fields: list[Any] = [chain_id, nonce, tip, max_fee, gas, bytes.fromhex(to[2:]), 0, data, []]
        digest = keccak(b"\x02" + rlp.encode(fields))
        sig = self._key.sign_recoverable(digest, hasher=None)
        signed: bytes = rlp.encode(
            [*fields, sig[64], int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")]
        )
        return b"\x02" + signed


def _derived_actor(seed: int, index: int) -> Actor:
    key = "0x" + hashlib.sha256(f"bulwark-benign:{seed}:{index}".encode()).hexdigest()
    return Actor(name=f"benign-{index}", address=checksum(Account.from_key(key).address), private_key=key)


class BenignTraffic:
    """Generates benign activity on ``protocol``; ``prepare`` happens on the first ``run``."""

    def __init__(
        self,
        client: ChainClient,
        protocol: DemoProtocol,
        compiler: Compiler,
        *,
        seed: int = 0,
        users: int = 40,
        batch_size: int = 50,
        exclude: Iterable[str] = (),
    ) -> None:
        if users < 2:
            raise ScenarioError("benign traffic needs at least 2 users")
        self.client = client
        self.p = protocol
        self.compiler = compiler
        self.rng = random.Random(seed)
        self.batch_size = max(1, min(batch_size, BATCH_GAS // GAS["default"]))
        self.exclude = frozenset(exclude)
        unknown = self.exclude - {c for _, c in ACTIONS.values()}
        if unknown:
            raise ScenarioError(
                f"benign traffic cannot exclude unknown component(s) {', '.join(sorted(unknown))}"
            )
        self.users = [_User(_derived_actor(seed, i), degen=i % 4 == 3) for i in range(users)]
        self._nonces: dict[str, int] = {}
        self._signers: dict[str, Signer] = {}
        self._fast: dict[str, _FastSigner] = {}
        self._prepared = False
        self._borrower: Address | None = None
        self._lens: tuple[Address, Abi] | None = None
        self._anchor_price = 0
        self._batches = 0
        self.usd = protocol.address("usd")
        self.weth = protocol.address("weth")
        self.token_abi = protocol.abi("usd")
        self.comp = {name: (c.proxy, c.abi) for name, c in protocol.components.items()}

    # -- plumbing ----------------------------------------------------------------------------

    def _signer(self, actor: Actor) -> Signer:
        s = self._signers.get(actor.address)
        if s is None:
            s = self._signers[actor.address] = Signer(actor.private_key)
        return s

    async def _call(self, to: Address, abi: Abi, fn: str, *args: Any) -> Any:
        out = await self.client.call(TxRequest(to=to, data=encode_call(abi, fn, *args)), abi=abi)
        return decode_result(abi, fn, out, len(args))

    async def _c(self, component: str, fn: str, *args: Any) -> Any:
        to, abi = self.comp[component]
        return await self._call(to, abi, fn, *args)

    def _tx(
        self, action: str, sender: Actor, component: str, fn: str, *args: Any, gas: int | None = None
    ) -> _Tx:
        to, abi = self.comp[component]
        return _Tx(action, sender, to, encode_call(abi, fn, *args), gas or GAS["default"])

    def _token_tx(self, action: str, sender: Actor, token: Address, fn: str, *args: Any) -> _Tx:
        gas = GAS["mint"] if fn == "mint" else GAS["approve"]
        return _Tx(action, sender, token, encode_call(self.token_abi, fn, *args), gas)

    async def _nonce(self, address: str) -> int:
        if address not in self._nonces:
            self._nonces[address] = await self.client.get_nonce(Address(address), "latest")
        n = self._nonces[address]
        self._nonces[address] = n + 1
        return n

    async def _send_batch(self, txs: Sequence[_Tx]) -> tuple[list[tuple[_Tx, TxHash]], int]:
        """Sign, send and mine ``txs``; returns (tx, hash) pairs and the number of blocks mined."""
        if not txs:
            return [], 0
        head = await self.client.get_block("latest")
        base = head.base_fee or GWEI
        chain_id = await self.client.chain_id()
        raws: list[str] = []
        for tx in txs:
            fast = self._fast.get(tx.sender.address)
            if fast is None:
                fast = self._fast[tx.sender.address] = _FastSigner(tx.sender.private_key)
            nonce = await self._nonce(tx.sender.address)
            raw = fast.sign(chain_id, nonce, tx.tip, 3 * base + tx.tip, tx.gas, tx.to, tx.data)
            raws.append("0x" + raw.hex())
        hashes = await asyncio.gather(*(self.client.request("eth_sendRawTransaction", [r]) for r in raws))
        sent = [(tx, TxHash(str(h))) for tx, h in zip(txs, hashes, strict=True)]
        blocks = 0
        while True:
            await self.client.mine()
            blocks += 1
            if not await self.client.pending_transactions() or blocks > 10:
                break
        return sent, blocks

    async def _statuses(
        self, sent: Sequence[tuple[_Tx, TxHash]], first_block: int, blocks: int
    ) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for number in range(first_block, first_block + blocks):
            for r in await self.client.request("eth_getBlockReceipts", [hex(number)]) or []:
                out[str(r["transactionHash"]).lower()] = int(r["status"], 16) == 1
        missing = [h for _, h in sent if h.lower() not in out]
        if missing:
            raise ChainError(f"{len(missing)} benign transaction(s) were not mined, e.g. {missing[0]}")
        return out

    async def _execute(
        self, txs: Sequence[_Tx], *, must_succeed: bool
    ) -> tuple[list[tuple[_Tx, bool, TxHash]], int]:
        first = await self.client.block_number() + 1
        sent, blocks = await self._send_batch(txs)
        if not sent:
            return [], 0
        status = await self._statuses(sent, first, blocks)
        results = [(tx, status[h.lower()], h) for tx, h in sent]
        if must_succeed:
            failed = [(tx.action, h) for tx, ok, h in results if not ok]
            if failed:
                raise ScenarioError(f"benign set-up transaction {failed[0][0]} reverted ({failed[0][1]})")
        return results, blocks

    # -- preparation ---------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Fund the users (ETH for gas, USD and WETH from the faucet), approve the components,
        deploy the flash-borrower bot and fund it for fees."""
        if self._prepared:
            return
        p = self.p
        for u in self.users:
            await self.client.set_balance(u.actor.address, 1_000 * E18)
        if self._borrower is None:
            raise ScenarioError("deploy the flash borrower (with automine on) before preparing")
        self._nonces.pop(p.deployer.address, None)
        txs: list[_Tx] = []
        for u in self.users:
            txs.append(self._token_tx("fund", p.deployer, self.usd, "mint", u.actor.address, 300_000 * E18))
            txs.append(self._token_tx("fund", p.deployer, self.weth, "mint", u.actor.address, 150 * E18))
        txs.append(self._token_tx("fund", p.deployer, self.usd, "mint", self._borrower, 50_000 * E18))
        txs.append(self._token_tx("fund", p.deployer, self.weth, "mint", self._borrower, 25 * E18))
        for u in self.users:
            for comp in ("pool", "lending", "vault", "flash"):
                txs.append(
                    self._token_tx("approve", u.actor, self.usd, "approve", self.comp[comp][0], MAX_UINT)
                )
            for comp in ("pool", "lending", "flash"):
                txs.append(
                    self._token_tx("approve", u.actor, self.weth, "approve", self.comp[comp][0], MAX_UINT)
                )
        for i in range(0, len(txs), 200):
            await self._execute(txs[i : i + 200], must_succeed=True)
        self._anchor_price = int(await self._c("oracle", "price", self.weth))
        self._prepared = True

    async def _deploy_support(self, contract: str) -> tuple[Address, Abi]:
        art = compile_impl(
            self.compiler, ImplSpec(project_root() / "scenarios" / "_support" / f"{contract}.sol", contract)
        )
        receipt = await self.client.transact(
            TxRequest(data=encode_deploy(art.abi, art.bytecode)), sender=self._signer(self.p.deployer)
        )
        if receipt.contract_address is None:
            raise ScenarioError(f"the benign-traffic helper {contract} was not deployed")
        return checksum(receipt.contract_address), tuple(art.abi)

    async def _deploy_borrower(self) -> None:
        self._borrower, _ = await self._deploy_support("BenignFlashBorrower")
        self._lens = await self._deploy_support("BenignLens")

    # -- one batch -----------------------------------------------------------------------------

    async def _snapshot(self) -> tuple[list[int], dict[str, tuple[int, int]]]:
        """One eth_call: globals, and every benign user's balances and positions (updated in place).
        Also (collateral, debt) of the protocol's own users, who can be liquidated too."""
        assert self._lens is not None and self._borrower is not None
        lens, lens_abi = self._lens
        market = (
            self.usd,
            self.weth,
            self.comp["oracle"][0],
            self.comp["pool"][0],
            self.comp["lending"][0],
            self.comp["vault"][0],
            self.comp["flash"][0],
            self._borrower,
        )
        extra = [a.address for a in self.p.users]
        addresses = [u.actor.address for u in self.users] + extra
        out = [int(v) for v in await self._call(lens, lens_abi, "snapshot", market, addresses)]
        globals_, per = out[:_LENS_GLOBALS], _LENS_PER_USER
        for n, u in enumerate(self.users):
            k = _LENS_GLOBALS + per * n
            (
                u.usd,
                u.weth,
                u.lp,
                u.supplied,
                u.collateral,
                u.debt,
                u.vault_shares,
                u.flash_usd,
                u.flash_weth,
            ) = out[k : k + per]
        positions: dict[str, tuple[int, int]] = {}
        for n, address in enumerate(addresses):
            k = _LENS_GLOBALS + per * n
            positions[address] = (out[k + 4], out[k + 5])
        return globals_, positions

    def _target_price(self) -> int:
        phase = 2 * math.pi * self._batches / PRICE_PERIOD
        wobble = PRICE_BAND * 0.9 * math.sin(phase) + self.rng.uniform(-0.01, 0.01)
        wobble = max(-PRICE_BAND, min(PRICE_BAND, wobble))
        return int(self._anchor_price * (1 + wobble))

    def _amount(self, upper: int, lower: int = 0) -> int:
        """A random amount in [max(lower, upper/50), upper], rounded to 1e12 wei."""
        if upper <= max(lower, 10**12):
            return 0
        low = max(lower, upper // 50)
        value = self.rng.randint(low, upper)
        return value - value % 10**12

    async def _plan(self, size: int) -> list[_Tx]:
        g, positions = await self._snapshot()
        price_now, r_weth, r_usd, cash, flash_usd, flash_weth, fee_bps, borrower_usd, borrower_weth = g[:9]

        txs: list[_Tx] = []
        busy: set[str] = set()
        # The keeper moves the price first (higher tip), so later choices see both prices.
        price_new = price_now
        if self.rng.random() < 0.6:
            target = self._target_price()
            oracle_to, oracle_abi = self.comp["oracle"]
            txs.append(
                _Tx(
                    "set_price",
                    self.p.feeder,
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
        return txs

    def _choose(
        self,
        action: str,
        u: _User,
        p_low: int,
        r_weth: int,
        r_usd: int,
        flash_usd: int,
        flash_weth: int,
        fee_bps: int,
        cash_left: int,
        flash_budget_usd: int,
        flash_budget_weth: int,
    ) -> _Tx | None:
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
            if not amt or self._borrower is None:
                return None
            return _Tx(
                action,
                a,
                self._borrower,
                encode_call(_BORROWER_ABI, "borrow", self.comp["flash"][0], token, amt),
                GAS["default"],
            )
        raise ScenarioError(f"unknown benign action {action!r}")

    # -- public --------------------------------------------------------------------------------

    async def run(self, txs: int) -> BenignReport:
        """Send ``txs`` benign transactions (set-up transactions are not counted)."""
        if txs < 0:
            raise ScenarioError("the number of benign transactions must not be negative")
        started = time.perf_counter()
        self._nonces.clear()  # others (keeper, faucet, scenario set-up) may have sent since
        if self._borrower is None:
            await self._deploy_borrower()
        await self.client.set_automine(False)
        try:
            await self.prepare()
            sent = 0
            blocks = 0
            by_action: Counter[str] = Counter()
            reverted_by: Counter[str] = Counter()
            reverted_txs: list[TxHash] = []
            idle_batches = 0
            while sent < txs:
                batch = await self._plan(min(self.batch_size, txs - sent))
                self._batches += 1
                if not batch:
                    idle_batches += 1
                    if idle_batches > 5:
                        raise ScenarioError("benign traffic found nothing to do for 5 batches in a row")
                    continue
                idle_batches = 0
                results, mined = await self._execute(batch, must_succeed=False)
                blocks += mined
                for tx, ok, h in results:
                    by_action[tx.action] += 1
                    if not ok:
                        reverted_by[tx.action] += 1
                        reverted_txs.append(h)
                sent += len(results)
        finally:
            await self.client.set_automine(True)
        report = BenignReport(
            txs=sent,
            reverted=sum(reverted_by.values()),
            blocks=blocks,
            seconds=time.perf_counter() - started,
            by_action=dict(by_action),
            reverted_by_action=dict(reverted_by),
            reverted_txs=tuple(reverted_txs),
        )
        log.info("benign traffic", txs=report.txs, reverted=report.reverted, seconds=round(report.seconds, 2))
        return report


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


async def run_benign(
    client: ChainClient,
    protocol: DemoProtocol,
    compiler: Compiler,
    txs: int,
    *,
    seed: int = 0,
    exclude: Iterable[str] = (),
) -> BenignReport:
    """One-shot: prepare users and send ``txs`` benign transactions."""
    return await BenignTraffic(client, protocol, compiler, seed=seed, exclude=exclude).run(txs)
