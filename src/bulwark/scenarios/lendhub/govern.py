"""LendHub governance: the Safe (2 of 3, EIP-712) schedules and executes on the timelock, which
owns each component's ProxyAdmin and holds DEFAULT_ADMIN_ROLE.

    impl = await deploy_implementation(client, compiler, lendhub, "pool", Path("fix/LendingPool.sol"))
    await upgrade_component(client, lendhub, "pool", impl, signers=lendhub.safe_owners[:2])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bulwark.chain import ChainClient
from bulwark.chain.abi import encode_call
from bulwark.domain import Address, Receipt
from bulwark.errors import ScenarioError
from bulwark.scenarios.deploy import ChainOps
from bulwark.scenarios.governance import govern_via_safe, upgrade_via_safe
from bulwark.scenarios.lendhub.model import LendHub
from bulwark.scenarios.protocol import Actor
from bulwark.toolchain.solc import Compiler


async def deploy_implementation(
    client: ChainClient, compiler: Compiler, lendhub: LendHub, component: str, source: Path
) -> Address:
    """Compile ``source`` (relative to the project root) with the project's settings and deploy
    the component's contract from it, e.g. a reference fix or a patch."""
    comp = lendhub.component(component)
    result = lendhub.project.compile(compiler, [source])
    arts = [a for a in result.contracts if a.name == comp.contract_name and a.bytecode]
    in_file = [a for a in arts if Path(a.source_path).name == source.name]
    if not (in_file or arts):
        raise ScenarioError(f"no deployable {comp.contract_name} in {source}")
    return await ChainOps(client).deploy(lendhub.deployer, (in_file or arts)[0])


upgrade_component = upgrade_via_safe
"""Safe -> timelock schedule, wait the delay, execute -> ProxyAdmin.upgradeAndCall(proxy, impl)
(LendHub's :meth:`~bulwark.scenarios.lendhub.model.LendHub.upgrade_call`)."""


async def unpause_component(
    client: ChainClient, lendhub: LendHub, component: str, signers: Sequence[Actor | str]
) -> Receipt:
    """Lift a pause: only DEFAULT_ADMIN_ROLE (the timelock) may, so through Safe and timelock."""
    comp = lendhub.component(component)
    return await govern_via_safe(client, lendhub, comp.proxy, encode_call(comp.abi, "unpause"), signers)
