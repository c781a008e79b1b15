"""An attacker deploys its contract and strikes with it in the same block: both wait in the pool.
The strike is simulated after the sender's earlier pending creation (its state diff put at the
address the creation's nonce gives it), so it is judged before inclusion, not after the loss."""

from __future__ import annotations

import asyncio

import pytest

from bulwark.chain import ChainClient, Signer, TxRequest
from bulwark.chain.abi import encode_call
from bulwark.chain.bytecode import create_address
from bulwark.chain.mempool import BatchRpc
from bulwark.detect.screen import Screener
from bulwark.domain import TxHash
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

# The constructor writes state the strike reads: a plain code copy would not do.
STRIKER = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;
contract Striker {
    address public owner;
    uint256 public armed;
    event Struck(address by, uint256 armed);
    constructor() { owner = msg.sender; armed = 7; }
    function strike() external {
        require(msg.sender == owner && armed == 7, "not armed");
        emit Struck(msg.sender, armed);
    }
}
"""


def test_a_strike_behind_its_pending_deployment_is_simulated_against_the_deployed_contract() -> None:
    async def go() -> None:
        with Anvil(AnvilOptions(automine=False)) as node, Compiler() as compiler:
            art = compiler.compile_sources({"Striker.sol": STRIKER}).contract("Striker")
            client = ChainClient(node.http_url)
            rpc = BatchRpc(node.http_url)
            try:
                attacker = Signer(str(node.accounts[3].private_key))
                nonce = await client.get_nonce(attacker.address, "latest")
                where = create_address(attacker.address, nonce)
                deploy_hash = await client.send_transaction(
                    TxRequest(data=art.bytecode, gas=1_000_000), sender=attacker
                )
                strike = TxRequest(to=where, data=encode_call(art.abi, "strike"), gas=200_000)
                strike_hash = await client.send_transaction(strike, sender=attacker)
                deploy_tx = await client.get_transaction(TxHash(deploy_hash))
                strike_tx = await client.get_transaction(TxHash(strike_hash))
                assert deploy_tx is not None and strike_tx is not None
                assert await client.get_receipt(TxHash(strike_hash)) is None  # both still pending

                screener = Screener(rpc, [])
                screener.note_pending(deploy_tx)
                event = await screener.simulate(strike_tx)
                assert event.pending and event.success, event.trace
                (log,) = list(event.logs)  # Struck: the constructor's state was there
                assert log.address.lower() == where.lower()
            finally:
                await rpc.close()
                await client.close()

    asyncio.run(go())
