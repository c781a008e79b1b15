"""The chain client against a real anvil: one node per session, an EVM snapshot per test."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bulwark.chain import CallReverted, ChainClient, LogFilter, Signer, TxRequest, encode_call, run
from bulwark.chain.abi import decode_result
from bulwark.domain.chain import Address, Hash32
from bulwark.errors import RpcUnreachable, StaleHead, TransactionFailed
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e

BOX_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Box {
    uint256 public value;
    event Set(uint256 v);
    error TooBig(uint256 v, uint256 max);
    function set(uint256 v) external {
        if (v > 1000) revert TooBig(v, 1000);
        require(v != 13, "unlucky");
        value = v;
        emit Set(v);
    }
    function setVia(Box other, uint256 v) external {
        other.set(v);
        value = v + 1;
    }
}
"""
SLOT0 = Hash32("0x" + "00" * 32)


@dataclass(frozen=True)
class Artifact:
    abi: list[dict[str, Any]]
    bytecode: bytes


@pytest.fixture(scope="session")
def box() -> Artifact:
    from bulwark.toolchain.solc import Compiler

    with Compiler() as compiler:
        art = compiler.compile_sources({"Box.sol": BOX_SOURCE}).contract("Box")
    return Artifact(abi=list(art.abi), bytecode=bytes(art.bytecode))


Scenario = Callable[[ChainClient], Awaitable[None]]


@pytest.fixture
def on_chain(anvil_node: Anvil) -> Iterator[Callable[[Scenario], None]]:
    """Run an async scenario against the session anvil; the chain is reverted afterwards."""

    async def with_snapshot(scenario: Scenario) -> None:
        async with ChainClient(anvil_node.http_url, ws_url=anvil_node.ws_url) as client:
            snap = await client.snapshot()
            try:
                await scenario(client)
            finally:
                await client.revert(snap)

    yield lambda scenario: run(with_snapshot(scenario))


def test_deploy_call_transact_and_read_back(on_chain: Any, anvil_node: Anvil, box: Artifact) -> None:
    signer = Signer(anvil_node.accounts[0].private_key)

    async def scenario(client: ChainClient) -> None:
        addr = await client.deploy(box.abi, box.bytecode, sender=signer)
        assert len(await client.get_code(addr)) > 0
        receipt = await client.transact(
            TxRequest(to=addr, data=encode_call(box.abi, "set", 5)), sender=signer
        )
        assert receipt.status and receipt.logs[0].address == addr
        out = await client.call(TxRequest(to=addr, data=encode_call(box.abi, "value")))
        assert decode_result(box.abi, "value", out) == 5
        assert int(await client.get_storage_at(addr, 0), 16) == 5
        block = await client.get_block(receipt.block_number, full=True)
        assert block.transactions[0].hash == receipt.tx_hash
        assert block.transactions[0].sender == signer.address
        assert (await client.get_block(block.hash)).number == block.number
        logs = await client.get_logs(LogFilter(address=addr, from_block=receipt.block_number))
        assert [int.from_bytes(lg.data, "big") for lg in logs] == [5]
        # An unlocked dev account sends through the node (eth_sendTransaction).
        other = anvil_node.accounts[1].address
        data = encode_call(box.abi, "set", 6)
        assert (await client.transact(TxRequest(to=addr, data=data), sender=other)).status
        assert int(await client.get_storage_at(addr, 0), 16) == 6

    on_chain(scenario)


def test_trace_shows_nested_call_and_storage_writes(on_chain: Any, anvil_node: Anvil, box: Artifact) -> None:
    signer = Signer(anvil_node.accounts[0].private_key)

    async def scenario(client: ChainClient) -> None:
        outer = await client.deploy(box.abi, box.bytecode, sender=signer)
        inner = await client.deploy(box.abi, box.bytecode, sender=signer)
        tx = TxRequest(to=outer, data=encode_call(box.abi, "setVia", inner, 7))

        root = await client.trace_call(tx, sender=signer.address)
        frames = [(depth, frame.type, frame.to, frame.selector) for depth, frame in root.walk()]
        set_selector = "0x" + encode_call(box.abi, "set", 0)[:4].hex()
        assert frames[0][:3] == (0, "CALL", outer)
        assert frames[1] == (1, "CALL", inner, set_selector)

        diff = await client.state_diff_call(tx, sender=signer.address)
        assert [(c.slot, int(c.after or "0x0", 16)) for c in diff.storage[inner]] == [(SLOT0, 7)]
        assert [(c.slot, int(c.after or "0x0", 16)) for c in diff.storage[outer]] == [(SLOT0, 8)]

        receipt = await client.transact(tx, sender=signer)
        mined = await client.trace_transaction(receipt.tx_hash)
        assert [f.to for _, f in mined.walk()] == [outer, inner]
        mined_diff = await client.state_diff_transaction(receipt.tx_hash)
        assert mined_diff.storage[inner][0].after is not None
        assert int(mined_diff.storage[inner][0].after, 16) == 7
        assert mined_diff.nonces[signer.address][1] == mined_diff.nonces[signer.address][0] + 1

    on_chain(scenario)


def test_reverted_transaction_names_the_reason(on_chain: Any, anvil_node: Anvil, box: Artifact) -> None:
    signer = Signer(anvil_node.accounts[0].private_key)

    async def scenario(client: ChainClient) -> None:
        addr = await client.deploy(box.abi, box.bytecode, sender=signer)
        unlucky = TxRequest(to=addr, data=encode_call(box.abi, "set", 13), gas=100_000)
        with pytest.raises(TransactionFailed, match="unlucky") as info:
            await client.transact(unlucky, sender=signer)
        assert isinstance(info.value, CallReverted) and info.value.receipt is not None
        assert not info.value.receipt.status

        too_big = TxRequest(to=addr, data=encode_call(box.abi, "set", 2000), gas=100_000)
        with pytest.raises(CallReverted, match=r"TooBig\(2000, 1000\)"):
            await client.transact(too_big, sender=signer, abi=box.abi)
        # Without a fixed gas limit the revert shows at estimation: nothing is sent.
        nonce = await client.get_nonce(signer.address)
        with pytest.raises(CallReverted, match="unlucky"):
            await client.transact(TxRequest(to=addr, data=unlucky.data), sender=signer)
        assert await client.get_nonce(signer.address) == nonce
        with pytest.raises(CallReverted, match="unlucky"):
            await client.call(TxRequest(to=addr, data=unlucky.data))

        receipt = await client.transact(unlucky, sender=signer, check=False)
        assert receipt.status is False

    on_chain(scenario)


def test_anvil_helpers(on_chain: Any, box: Artifact) -> None:
    whale = Address("0x000000000000000000000000000000000000dEaD")
    target = Address("0x00000000000000000000000000000000C0FFEE00")

    async def scenario(client: ChainClient) -> None:
        await client.set_balance(whale, 10**21)
        assert await client.get_balance(whale) == 10**21
        await client.impersonate(whale)
        receipt = await client.transact(TxRequest(to=target, value=10**18), sender=whale)
        assert receipt.status and await client.get_balance(target) == 10**18
        await client.stop_impersonating(whale)

        runtime = bytes.fromhex("602a60005260206000f3")  # returns 42
        await client.set_code(target, runtime)
        assert int.from_bytes(await client.call(TxRequest(to=target)), "big") == 42
        await client.set_storage_at(target, 3, 99)
        assert int(await client.get_storage_at(target, 3), 16) == 99

        before = await client.block_number()
        await client.mine(3)
        assert await client.block_number() == before + 3
        # judged against the head's own clock: the module's shared node may have run for minutes
        # on a loaded machine, and what is checked is the freshness rule, not the wall clock
        head_time = (await client.get_block("latest")).timestamp
        assert (await client.ensure_fresh_head(120, now=head_time + 60)).number == before + 3
        with pytest.raises(StaleHead, match="stale head"):
            await client.ensure_fresh_head(120, now=head_time + 3600)

        snap = await client.snapshot()
        await client.set_balance(whale, 1)
        await client.revert(snap)
        assert (
            await client.get_balance(whale)
            == 10**21 - 10**18 - receipt.gas_used * receipt.effective_gas_price
        )

    on_chain(scenario)


def test_reorg_replaces_the_last_blocks(on_chain: Any) -> None:
    async def scenario(client: ChainClient) -> None:
        await client.mine(3)
        head = await client.get_block("latest")
        kept = await client.get_block(head.number - 2)
        await client.reorg(2)
        new_head = await client.get_block("latest")
        assert new_head.number == head.number
        assert new_head.hash != head.hash
        assert (await client.get_block(head.number - 2)).hash == kept.hash

    on_chain(scenario)


def test_automine_off_keeps_transactions_pending_until_mined(box: Artifact) -> None:
    with Anvil(AnvilOptions(automine=False)) as node:
        signer = Signer(node.accounts[0].private_key)

        async def scenario() -> None:
            client = ChainClient(node.http_url, ws_url=node.ws_url)
            async with (
                client,
                client.subscribe_pending_transactions() as pending,
                client.subscribe_new_heads() as heads,
            ):
                tx_hash = await client.send_transaction(
                    TxRequest(data=box.bytecode, gas=1_000_000), sender=signer
                )
                seen = await asyncio.wait_for(anext(pending), 5)
                assert seen.hash == tx_hash and seen.block_number is None
                assert seen.sender == signer.address and seen.data == box.bytecode
                await asyncio.sleep(0.3)
                assert await client.get_receipt(tx_hash) is None
                assert [t.hash for t in await client.pending_transactions()] == [tx_hash]

                await client.mine()
                head = await asyncio.wait_for(anext(heads), 5)
                assert head.tx_hashes == (tx_hash,)
                receipt = await client.wait_for_receipt(tx_hash, timeout_s=5)
                assert receipt.status and receipt.block_number == head.number
                assert await client.pending_transactions() == []

                dropped = await client.send_transaction(
                    TxRequest(data=box.bytecode, gas=1_000_000), sender=signer
                )
                await client.drop_transaction(dropped)
                assert await client.pending_transactions() == []

        run(scenario())


def test_unreachable_rpc_gives_a_clear_error() -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def scenario() -> None:
        async with ChainClient(f"http://127.0.0.1:{port}/key/SECRET0123456789", timeout_s=2) as client:
            client.retry = type(client.retry)(attempts=2, base_delay_s=0.01)
            await client.block_number()

    with pytest.raises(RpcUnreachable) as info:
        run(scenario())
    message = info.value.user_message
    assert f"127.0.0.1:{port}" in message and "SECRET0123456789" not in message
    assert "check that the node is running" in message

    async def ws_scenario() -> None:
        client = ChainClient("http://127.0.0.1:1", ws_url=f"ws://127.0.0.1:{port}")
        async with client.subscribe_new_heads():
            pass

    with pytest.raises(RpcUnreachable, match="WebSocket"):
        run(ws_scenario())
