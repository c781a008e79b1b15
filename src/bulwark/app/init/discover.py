"""Reading a deployed protocol off the chain: each proxy's implementation, admin and owner, the
project's contract that compiles to it, then the powers and assets around them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_utils.address import is_address

from bulwark.app.init.found import Abi, Discovery, FoundAsset, FoundContract
from bulwark.app.init.powers import (
    find_guardian,
    find_pause,
    find_roles,
    find_safe,
    find_timelock,
    find_upgraders,
)
from bulwark.app.init.probe import Accounts, Probe, getters, granted_accounts
from bulwark.app.sources import implementation_address
from bulwark.chain import ChainClient, RetryPolicy
from bulwark.chain.bytecode import compare_artifact, metadata_solc_version
from bulwark.chain.eip1967 import admin_of
from bulwark.chain.safe import ZERO_ADDRESS, checksum
from bulwark.domain import Address
from bulwark.errors import ToolchainError, UsageError
from bulwark.toolchain.artifacts import ContractArtifact
from bulwark.toolchain.project import CompileInput, load_project

__all__ = ["discover"]


@dataclass(frozen=True, slots=True)
class _Draft:
    """A proxy as first read (before the accounts around it are known)."""

    name: str
    proxy: Address
    impl: Address
    kind: str
    admin: Address | None
    owner: Address | None
    art: ContractArtifact | None
    source_note: str


def _snake(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    text = re.sub(r"[^a-z0-9_.-]", "_", text).strip("_")
    return text if text and text[0].isalpha() else f"c_{text}"


def _unique(name: str, taken: set[str]) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}_{i}", i + 1
    taken.add(out)
    return out


async def _compile_project(project: CompileInput, deployed: Iterable[bytes]) -> list[ContractArtifact]:
    """Every deployable contract of the project, at the pinned version or the deployed code's."""
    versions = (
        {v for v in (metadata_solc_version(c) for c in deployed) if v} if not project.solc_version else set()
    )
    out: list[ContractArtifact] = []
    with project.compiler() as compiler:
        chosen: list[str | None] = [*sorted(versions)] or [None]
        for version in chosen:
            result = await asyncio.to_thread(project.compile, compiler, None, version=version)
            out += [a for a in result.contracts if a.deployed_bytecode]
    return out


async def discover(rpc_url: str, project_path: Path, proxies: Sequence[str]) -> Discovery:
    """Read the protocol behind ``proxies`` off the chain at ``rpc_url``; match ``project_path``."""
    if not proxies:
        raise UsageError("give at least one --proxy ADDRESS")
    bad = [p for p in proxies if not is_address(p)]
    if bad:
        raise UsageError(f"--proxy {bad[0]}: not an address (0x and 40 hex digits)")
    addresses = list(dict.fromkeys(checksum(p) for p in proxies))
    project = load_project(project_path)
    notes: list[str] = []
    async with ChainClient(rpc_url, retry=RetryPolicy(attempts=2)) as client:
        probe = Probe(client)
        chain_id = await client.chain_id()
        impls: dict[Address, Address] = {}
        codes: dict[Address, bytes] = {}
        for proxy in addresses:
            if not await client.get_code(proxy):
                raise UsageError(f"--proxy {proxy}: there is no contract at this address on chain {chain_id}")
            impls[proxy] = await implementation_address(client, proxy)
            codes[proxy] = await client.get_code(impls[proxy])
        try:
            artifacts = await _compile_project(project, codes.values())
        except ToolchainError as exc:
            artifacts = []
            notes.append(f"the project did not compile ({exc.user_message}); sources and ABIs are missing")

        taken: set[str] = set()
        drafts: list[_Draft] = []
        for proxy in addresses:
            impl = impls[proxy]
            matches = [a for a in artifacts if compare_artifact(codes[proxy], a).matches]
            art = matches[0] if matches else None
            source_note = ""
            deployed_solc = metadata_solc_version(codes[proxy])
            if not codes[proxy]:
                source_note = "no code at the implementation"
            elif (
                art is None
                and project.solc_version
                and deployed_solc
                and deployed_solc != project.solc_version
            ):
                source_note = f"deployed with solc {deployed_solc}, the project pins {project.solc_version}"
            elif art is None:
                source_note = "no contract of the project compiles to the deployed implementation"
            elif len(matches) > 1:
                others = ", ".join(m.qualified_name for m in matches[1:])
                source_note = f"also matches {others}"
            name = _unique(_snake(art.name) if art else "contract", taken)
            admin = await admin_of(client, proxy)
            if impl == proxy:
                kind, owner = "none", await probe.call(proxy, "owner")
            elif admin is not None:
                kind, owner = "transparent", await probe.call(admin, "owner")
            else:
                kind, owner = "uups", await probe.call(proxy, "owner")
            owner_address = checksum(owner) if isinstance(owner, str) else None
            drafts.append(_Draft(name, proxy, impl, kind, admin, owner_address, art, source_note))

        # Every account the protocol mentions: candidates for roles, owners, assets.
        pool = Accounts()
        mention = pool.add
        getter_values: dict[Address, dict[str, Address]] = {}
        for d in drafts:
            mention(d.proxy, d.impl, d.admin, d.owner)
            abi: Abi = tuple(d.art.abi) if d.art else ()
            values: dict[str, Address] = {}
            for getter in getters(abi, "address"):
                value = await probe.call(d.proxy, getter, abi=abi)
                if isinstance(value, str) and checksum(value) != ZERO_ADDRESS:
                    values[getter] = checksum(value)
            getter_values[d.proxy] = values
            mention(*values.values())
            mention(*await granted_accounts(client, d.proxy))

        timelock = await find_timelock(probe, client, [d.owner for d in drafts], pool)
        safe = await find_safe(probe, timelock, pool.all())
        if safe is not None:
            mention(safe.address, *safe.owners)

        contracts: list[FoundContract] = []
        for d in drafts:
            abi = tuple(d.art.abi) if d.art else ()
            roles = await find_roles(probe, d.proxy, abi, pool.all())
            pause = await find_pause(probe, d.proxy, abi, roles, d.owner)
            upgraders = (
                await find_upgraders(probe, d.proxy, d.impl, roles, d.owner) if d.kind == "uups" else ()
            )
            contracts.append(
                FoundContract(
                    name=d.name,
                    proxy=d.proxy,
                    implementation=d.impl,
                    proxy_kind=d.kind,
                    admin=d.admin,
                    upgrade_owner=d.owner,
                    upgraders=upgraders,
                    source=(d.art.source_path, d.art.name) if d.art else None,
                    source_note=d.source_note,
                    abi=abi,
                    roles=roles,
                    pause=pause,
                )
            )
        assets = await _assets(probe, client, contracts, getter_values)
        guardian, guardian_owner = await find_guardian(probe, contracts)
    return Discovery(
        chain_id=chain_id,
        rpc_url=rpc_url,
        project=project,
        contracts=tuple(contracts),
        assets=tuple(assets),
        safe=safe,
        timelock=timelock,
        guardian=guardian,
        guardian_owner=guardian_owner,
        notes=tuple(notes),
    )


async def _assets(
    probe: Probe,
    client: ChainClient,
    contracts: Sequence[FoundContract],
    getter_values: Mapping[Address, Mapping[str, Address]],
) -> list[FoundAsset]:
    ours = {c.proxy for c in contracts}
    tokens: dict[Address, list[str]] = {}  # token -> contracts referencing it
    for c in contracts:
        for value in getter_values.get(c.proxy, {}).values():
            if value not in ours:
                tokens.setdefault(value, []).append(c.name)
    out: list[FoundAsset] = []
    taken: set[str] = {c.name for c in contracts}
    for token, referrers in tokens.items():
        decimals = await probe.call(token, "decimals")
        if not isinstance(decimals, int):
            continue
        balances = [(c.name, await probe.call(token, "balanceOf", c.proxy)) for c in contracts]
        if any(not isinstance(b, int) for _, b in balances):
            continue  # answers decimals() but is no ERC-20
        symbol = await probe.call(token, "symbol")
        held = tuple(n for n, b in balances if b) or tuple(dict.fromkeys(referrers))
        name = _unique(_snake(symbol) if isinstance(symbol, str) and symbol else "token", taken)
        out.append(FoundAsset(name, token, decimals, held))
    native = [c.name for c in contracts if await client.get_balance(c.proxy)]
    if native:
        out.append(FoundAsset(_unique("eth", taken), None, 18, tuple(native)))
    return out
