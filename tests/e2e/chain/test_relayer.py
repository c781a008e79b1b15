"""The relayer against a real anvil that mines only when told: drift, replacement, restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bulwark.chain import ChainClient, Signer, TxRequest
from bulwark.chain.relayer import GWEI, Fees, Relayer, RelayerPolicy
from bulwark.domain.chain import Address
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e

PAYLOAD = b"bulwark-pause"


@pytest.fixture
def node() -> Iterator[Anvil]:
    with Anvil(AnvilOptions(automine=False)) as n:
        yield n


@contextlib.asynccontextmanager
async def mining(client: ChainClient, every_s: float = 0.1) -> AsyncIterator[None]:
    """Mine a block every ``every_s`` while the body runs."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every_s)
            with contextlib.suppress(Exception):
                await client.mine()

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _request(node: Anvil) -> TxRequest:
    return TxRequest(to=Address(node.accounts[7].address), data=PAYLOAD, gas=60_000)


def test_send_confirm_and_already_known_is_success(node: Anvil) -> None:
    async def go() -> None:
        async with ChainClient(node.http_url) as client:
            relayer = Relayer(client, Signer(node.accounts[3].private_key))
            status = await relayer.start()
            assert not status.low and status.txs_left > 1000
            sent = await relayer.send(_request(node), label="pause")
            assert sent.outcome == "accepted" and relayer.next_nonce == 1
            again = await relayer.broadcast(sent.signed)  # same bytes: a resend after a lost answer
            assert again.outcome == "already-known"
            async with mining(client):
                done = await relayer.wait(sent, timeout_s=10)
            assert done.receipt.status and done.tx_hash == sent.tx_hash and not done.replaced
            assert done.nonce == 0

    asyncio.run(go())


def test_nonce_that_ran_ahead_does_not_jam(node: Anvil) -> None:
    """A local nonce three ahead of the chain (a crashed run, a dropped tx): the transaction sits
    queued forever unless the relayer notices the gap and re-sends at the chain's nonce."""

    async def go() -> None:
        async with ChainClient(node.http_url) as client:
            relayer = Relayer(client, Signer(node.accounts[3].private_key))
            await relayer.start()
            relayer._next_nonce = 3  # drifted
            sent = await relayer.send(_request(node), label="pause")
            assert sent.signed.nonce == 3
            await client.mine()
            assert await client.get_receipt(sent.tx_hash) is None  # queued behind the gap
            async with mining(client):
                done = await relayer.wait(sent, timeout_s=10, poll_s=0.05)
            assert done.receipt.status and done.nonce == 0 and done.resyncs >= 1
            assert relayer.next_nonce == 1
            assert await client.get_nonce(relayer.address, "latest") == 1

    asyncio.run(go())


def test_nonce_used_elsewhere_resyncs_on_nonce_too_low(node: Anvil) -> None:
    """Another process signs with the same key: the local nonce is behind; sending resyncs."""

    async def go() -> None:
        async with ChainClient(node.http_url) as client:
            key = node.accounts[3].private_key
            relayer = Relayer(client, Signer(key))
            await relayer.start()
            for _ in range(2):
                await client.send_transaction(
                    TxRequest(to=Address(node.accounts[8].address), value=1), sender=Signer(key)
                )
            await client.mine()
            sent = await relayer.send(_request(node))
            assert sent.signed.nonce == 2 and relayer.resyncs == 1
            async with mining(client):
                done = await relayer.wait(sent, timeout_s=10)
            assert done.receipt.status

    asyncio.run(go())


def test_stuck_transaction_is_replaced_with_a_bumped_fee(node: Anvil) -> None:
    async def go() -> None:
        async with ChainClient(node.http_url) as client:
            relayer = Relayer(client, Signer(node.accounts[3].private_key), RelayerPolicy(bump_percent=12))
            await relayer.start()
            first = Fees(max_fee=10 * GWEI, tip=1 * GWEI)
            sent = await relayer.send(_request(node), first, label="pause")
            # Nothing mines for a while: the relayer replaces it.
            waiter = asyncio.create_task(relayer.wait(sent, timeout_s=10, poll_s=0.05, bump_after_s=0.2))
            await asyncio.sleep(0.6)
            await client.mine()
            done = await waiter
            assert done.replaced and done.tx_hash != sent.tx_hash
            mined = await client.get_transaction(done.tx_hash)
            assert mined is not None and mined.nonce == 0
            assert mined.max_priority_fee_per_gas is not None and mined.max_fee_per_gas is not None
            assert mined.max_priority_fee_per_gas >= first.tip * 110 // 100
            assert mined.max_fee_per_gas >= first.max_fee * 110 // 100
            assert await client.get_receipt(sent.tx_hash) is None

    asyncio.run(go())


def test_transaction_replaced_by_someone_else_is_sent_again(node: Anvil) -> None:
    """Another holder of the key cancels our nonce with a better-paying transaction: the relayer's
    request still lands, at the next nonce."""

    async def go() -> None:
        async with ChainClient(node.http_url) as client:
            key = node.accounts[3].private_key
            relayer = Relayer(client, Signer(key))
            await relayer.start()
            sent = await relayer.send(_request(node), Fees(max_fee=5 * GWEI, tip=GWEI))
            cancel = TxRequest(
                to=Address(node.accounts[3].address),
                value=0,
                gas=21_000,
                nonce=0,
                max_fee_per_gas=50 * GWEI,
                max_priority_fee_per_gas=20 * GWEI,
            )
            await client.send_transaction(cancel, sender=Signer(key))
            async with mining(client):
                done = await relayer.wait(sent, timeout_s=10, poll_s=0.05)
            assert done.receipt.status and done.nonce == 1 and done.tx_hash != sent.tx_hash
            tx = await client.get_transaction(done.tx_hash)
            assert tx is not None and tx.data == PAYLOAD

    asyncio.run(go())


def test_node_restart_does_not_lose_the_pending_transaction(tmp_path: Path) -> None:
    """anvil stops (state dumped, pool lost) and comes back on the same port from the dump."""
    state = tmp_path / "state.json"
    first = Anvil(AnvilOptions(automine=False, dump_state=state))
    first.start()
    try:
        port = int(first.http_url.rsplit(":", 1)[1])
        accounts = first.accounts

        loop = asyncio.new_event_loop()
        client = ChainClient(first.http_url)
        relayer = Relayer(client, Signer(accounts[3].private_key))
        loop.run_until_complete(relayer.start())
        # One mined transaction first, so the dump carries state the new node must know.
        warm = loop.run_until_complete(relayer.send(TxRequest(to=Address(accounts[7].address), gas=60_000)))
        loop.run_until_complete(client.mine())
        sent = loop.run_until_complete(
            relayer.send(TxRequest(to=Address(accounts[7].address), data=PAYLOAD, gas=60_000))
        )
        assert loop.run_until_complete(client.get_receipt(warm.tx_hash)) is not None
    finally:
        first.stop()
    assert state.exists()
    with Anvil(AnvilOptions(automine=False, load_state=state, port=port)) as second:
        assert second.http_url.endswith(f":{port}")

        async def after() -> None:
            assert await client.get_nonce(relayer.address, "latest") == 1
            assert await client.get_transaction(sent.tx_hash) is None  # the pool is gone
            async with mining(client):
                done = await relayer.wait(sent, timeout_s=15, poll_s=0.05)
            assert done.receipt.status and done.rebroadcasts >= 1 and done.tx_hash == sent.tx_hash
            await client.close()

        loop.run_until_complete(after())
        loop.close()
