"""Benign traffic: a thousand ordinary transactions, all chosen to succeed, and they do."""

from __future__ import annotations

import asyncio

import pytest

from bulwark.chain import ChainClient
from bulwark.scenarios.benign import ACTIONS, BenignReport, BenignTraffic
from bulwark.scenarios.deploy import deploy_protocol
from bulwark.toolchain.anvil import Anvil, AnvilOptions, DevAccount
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e


def test_thousand_benign_transactions_without_reverts(scenario_compiler: Compiler) -> None:
    with Anvil(AnvilOptions()) as node:

        async def go() -> BenignReport:
            async with ChainClient(node.http_url) as client:
                protocol = await deploy_protocol(client, scenario_compiler, node.accounts)
                return await BenignTraffic(client, protocol, scenario_compiler, seed=0).run(1_000)

        report = asyncio.run(go())
    assert report.txs == 1_000
    assert report.reverted == 0, report.reverted_by_action
    by_action = report.by_action
    # Every kind of activity shows up, liquidations of positions the price move made unhealthy included.
    assert set(ACTIONS) - {"remove_liquidity", "flash_withdraw"} <= set(by_action), by_action
    assert by_action.get("liquidate", 0) > 0, by_action
    assert by_action.get("set_price", 0) > 0
    # Many transactions per block: batches, not one block per transaction.
    assert report.blocks < report.txs / 10


def test_same_seed_same_traffic(scenario_compiler: Compiler) -> None:
    async def once(url: str, accounts: list[DevAccount]) -> dict[str, int]:
        async with ChainClient(url) as client:
            protocol = await deploy_protocol(client, scenario_compiler, accounts)
            report = await BenignTraffic(client, protocol, scenario_compiler, seed=42).run(60)
            assert report.reverted == 0
            return dict(report.by_action)

    runs = []
    for _ in range(2):
        with Anvil(AnvilOptions()) as node:
            runs.append(asyncio.run(once(node.http_url, node.accounts)))
    assert runs[0] == runs[1]
