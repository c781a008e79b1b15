"""A scenario can make a variant the live implementation, and deploy with a real timelock delay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.e2e.protocol.conftest import ProtocolEnv

from bulwark.chain import CallReverted, ChainClient
from bulwark.scenarios.deploy import ChainOps, deploy_implementation, deploy_protocol
from bulwark.scenarios.governance import upgrade_via_safe
from bulwark.scenarios.protocol import ImplSpec
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.paths import cache_dir

pytestmark = pytest.mark.e2e

VARIANT = """// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;
import {DemoVault} from "contracts/protocol/DemoVault.sol";
contract DemoVaultV2 is DemoVault {
    function version() external pure returns (uint256) { return 2; }
}
"""


def test_override_is_live_and_delay_is_real(protocol_env: ProtocolEnv) -> None:
    # A stable path keeps the compiler's disk cache warm across runs (a tmp path never would).
    source = cache_dir() / "test-variants" / "DemoVaultV2.sol"
    source.parent.mkdir(parents=True, exist_ok=True)
    if not source.is_file() or source.read_text() != VARIANT:
        source.write_text(VARIANT)
    spec = ImplSpec(source, "DemoVaultV2")

    async def scenario(node: Anvil) -> None:
        async with ChainClient(node.http_url) as client:
            p = await deploy_protocol(
                client,
                protocol_env.compiler,
                node.accounts,
                timelock_delay=120,
                implementations={"vault": spec},
            )
            ops = ChainOps(client)
            vault = p.component("vault")
            assert vault.contract_name == "DemoVaultV2"
            assert await ops.call(vault.proxy, vault.abi, "version") == 2
            assert await ops.call(p.timelock.address, p.timelock.abi, "getMinDelay") == 120
            # Back to the safe implementation through the full path (clock moved past the delay).
            safe_impl = await deploy_implementation(
                client,
                protocol_env.compiler,
                p,
                ImplSpec(Path("contracts/protocol/DemoVault.sol"), "DemoVault"),
            )
            await upgrade_via_safe(client, p, "vault", safe_impl, signers=p.safe_owners[1:])
            assert await ops.call(vault.proxy, vault.abi, "totalAssets") > 0
            with pytest.raises(CallReverted):  # the function is gone
                await ops.call(vault.proxy, vault.abi, "version")

    with Anvil(AnvilOptions()) as node:
        asyncio.run(scenario(node))
