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
that did not. The choices are :class:`~bulwark.scenarios.benign_plan.BenignPlanner`'s; this module
reads the chain for it, then signs, sends and mines.
"""

from __future__ import annotations

import asyncio
import hashlib
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
from bulwark.chain.mempool import BatchRpc
from bulwark.chain.safe import checksum
from bulwark.domain import Address, TxHash
from bulwark.errors import ChainError, ScenarioError
from bulwark.logs import get_logger, register_secret
from bulwark.scenarios.benign_plan import ACTIONS, GAS, GWEI, BenignPlanner, Tx, User
from bulwark.scenarios.deploy import compile_impl
from bulwark.scenarios.protocol import Abi, Actor, DemoProtocol, ImplSpec
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler

__all__ = ["ACTIONS", "BenignReport", "BenignTraffic", "run_benign"]

log = get_logger(__name__)

E18 = 10**18
MAX_UINT = 2**256 - 1
BATCH_GAS = 24_000_000  # below anvil's 30M block gas limit: one batch, one block
_LENS_GLOBALS = 10
_LENS_PER_USER = 9


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


class _FastSigner:
    """EIP-1559 transaction signing straight on libsecp256k1, byte-identical to eth-account's
    (canonical low-s signatures; tests/unit/scenarios/test_benign_plan.py checks it).

    Kept over eth-account for speed, measured here on one transfer-sized call: 169-304 us per
    transaction against eth-account's 0.9-2.2 ms (5-7x), i.e. eth-account would add 1-2 s to
    every 1,000 benign transactions."""

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
        self.batch_size = max(1, min(batch_size, BATCH_GAS // GAS["default"]))
        self.exclude = frozenset(exclude)
        unknown = self.exclude - {c for _, c in ACTIONS.values()}
        if unknown:
            raise ScenarioError(
                f"benign traffic cannot exclude unknown component(s) {', '.join(sorted(unknown))}"
            )
        self.users = [User(_derived_actor(seed, i), degen=i % 4 == 3) for i in range(users)]
        self._nonces: dict[str, int] = {}
        self._signers: dict[str, Signer] = {}
        self._fast: dict[str, _FastSigner] = {}
        self._prepared = False
        self._lens: tuple[Address, Abi] | None = None
        self._batch: BatchRpc | None = None  # opened by run(), closed when it returns
        self.usd = protocol.address("usd")
        self.weth = protocol.address("weth")
        self.token_abi = protocol.abi("usd")
        self.comp = {name: (c.proxy, c.abi) for name, c in protocol.components.items()}
        self.planner = BenignPlanner(
            random.Random(seed),
            self.users,
            components=self.comp,
            usd=self.usd,
            weth=self.weth,
            feeder=protocol.feeder,
            exclude=self.exclude,
        )

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

    def _token_tx(self, action: str, sender: Actor, token: Address, fn: str, *args: Any) -> Tx:
        gas = GAS["mint"] if fn == "mint" else GAS["approve"]
        return Tx(action, sender, token, encode_call(self.token_abi, fn, *args), gas)

    async def _nonce(self, address: str) -> int:
        if address not in self._nonces:
            self._nonces[address] = await self.client.get_nonce(Address(address), "latest")
        n = self._nonces[address]
        self._nonces[address] = n + 1
        return n

    async def _send_batch(self, txs: Sequence[Tx]) -> tuple[list[tuple[Tx, TxHash]], int]:
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
        hashes = await self._send_raw(raws)
        sent = [(tx, TxHash(str(h))) for tx, h in zip(txs, hashes, strict=True)]
        blocks = 0
        while True:
            await self.client.mine()
            blocks += 1
            if not await self.client.pending_transactions() or blocks > 10:
                break
        return sent, blocks

    async def _send_raw(self, raws: Sequence[str]) -> list[Any]:
        """Every raw transaction in one JSON-RPC batch: one HTTP request per transaction was most
        of this generator's CPU, taken from whatever shares its event loop (a detector under test)."""
        if not self.client.url.startswith("http"):
            return list(
                await asyncio.gather(*(self.client.request("eth_sendRawTransaction", [r]) for r in raws))
            )
        if self._batch is None:
            self._batch = BatchRpc(self.client.url, max_batch=self.batch_size)
        return list(await asyncio.gather(*(self._batch.request("eth_sendRawTransaction", [r]) for r in raws)))

    async def _statuses(
        self, sent: Sequence[tuple[Tx, TxHash]], first_block: int, blocks: int
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
        self, txs: Sequence[Tx], *, must_succeed: bool
    ) -> tuple[list[tuple[Tx, bool, TxHash]], int]:
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
        if self.planner.borrower is None:
            raise ScenarioError("deploy the flash borrower (with automine on) before preparing")
        self._nonces.pop(p.deployer.address, None)
        txs: list[Tx] = []
        for u in self.users:
            txs.append(self._token_tx("fund", p.deployer, self.usd, "mint", u.actor.address, 300_000 * E18))
            txs.append(self._token_tx("fund", p.deployer, self.weth, "mint", u.actor.address, 150 * E18))
        txs.append(self._token_tx("fund", p.deployer, self.usd, "mint", self.planner.borrower, 50_000 * E18))
        txs.append(self._token_tx("fund", p.deployer, self.weth, "mint", self.planner.borrower, 25 * E18))
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
        self.planner.anchor_price = int(await self._c("oracle", "price", self.weth))
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
        self.planner.borrower, _ = await self._deploy_support("BenignFlashBorrower")
        self._lens = await self._deploy_support("BenignLens")

    # -- one batch -----------------------------------------------------------------------------

    async def _snapshot(self) -> tuple[list[int], dict[str, tuple[int, int]]]:
        """One eth_call: globals, and every benign user's balances and positions (updated in place).
        Also (collateral, debt) of the protocol's own users, who can be liquidated too."""
        assert self._lens is not None and self.planner.borrower is not None
        lens, lens_abi = self._lens
        market = (
            self.usd,
            self.weth,
            self.comp["oracle"][0],
            self.comp["pool"][0],
            self.comp["lending"][0],
            self.comp["vault"][0],
            self.comp["flash"][0],
            self.planner.borrower,
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

    # -- public --------------------------------------------------------------------------------

    async def run(self, txs: int) -> BenignReport:
        """Send ``txs`` benign transactions (set-up transactions are not counted)."""
        if txs < 0:
            raise ScenarioError("the number of benign transactions must not be negative")
        started = time.perf_counter()
        self._nonces.clear()  # others (keeper, faucet, scenario set-up) may have sent since
        if self.planner.borrower is None:
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
                market, positions = await self._snapshot()
                batch = self.planner.plan(min(self.batch_size, txs - sent), market, positions)
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
            if self._batch is not None:
                await self._batch.close()
                self._batch = None
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
