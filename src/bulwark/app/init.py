"""``bulwark init``: read a deployed protocol off the chain and write a starting ``bulwark.yaml``.

Everything is found by probing the chain, never by names in a configuration:

* each proxy's implementation and admin from the ERC-1967 slots; a Transparent proxy's ProxyAdmin
  and its owner, a UUPS proxy's ``owner()`` and roles;
* AccessControl roles: ``hasRole`` probed for DEFAULT_ADMIN_ROLE and every ``*_ROLE()`` constant
  of the ABI, over every account the protocol mentions (``RoleGranted`` logs, address getters,
  admins, owners);
* a TimelockController by ``getMinDelay()`` (and who holds PROPOSER/EXECUTOR/CANCELLER), a Safe by
  ``getOwners()``/``getThreshold()``;
* the pause function (``pause()`` and ``paused()`` in the ABI) and the role guarding it: an
  ``eth_call`` of ``pause()`` from each role's holders (and from nobody in particular, to catch an
  unguarded one);
* the assets: ERC-20s returned by the contract's address getters (``decimals``/``balanceOf``
  answer), plus native ETH, with the contracts holding them;
* the source: every contract of the project is compiled with the project's settings and the one
  whose runtime code matches the implementation (metadata stripped, immutables masked) is named.

What cannot be found is written as a commented line saying what to fill in. Keys are written as
``env:NAME`` references; an RPC URL that may carry an API key too. The YAML is written as text, so
the comments survive. The CLI only prints what :func:`discover` and :func:`render` return.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from eth_abi.exceptions import DecodingError
from eth_utils.address import is_address
from eth_utils.crypto import keccak

from bulwark.app.sources import implementation_address
from bulwark.chain import ChainClient, RetryPolicy, TxRequest
from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.bytecode import compare_artifact, metadata_solc_version
from bulwark.chain.client import LogFilter
from bulwark.chain.eip1967 import ADMIN_SLOT
from bulwark.chain.safe import ZERO_ADDRESS, checksum
from bulwark.chain.timelock import DEFAULT_ADMIN_ROLE
from bulwark.domain import Address, Hash32
from bulwark.errors import ChainError, RpcUnreachable, ToolchainError, UsageError
from bulwark.toolchain.artifacts import ContractArtifact
from bulwark.toolchain.project import CompileInput, load_project

__all__ = ["Discovery", "discover", "render", "write_init"]

T = TypeVar("T")
Abi = tuple[Mapping[str, Any], ...]

TIMELOCK_ROLES = ("PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE")
ROLE_GRANTED = Hash32("0x" + keccak(text="RoleGranted(bytes32,address,address)").hex())
NOBODY = Address("0x000000000000000000000000000000000000dEaD")
SENTINEL_ENV = "BULWARK_SENTINEL_KEY"
RPC_ENV = "BULWARK_RPC_URL"


def _fn(name: str, inputs: Sequence[str] = (), outputs: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "inputs": [{"type": t, "name": ""} for t in inputs],
        "outputs": [{"type": t, "name": ""} for t in outputs],
        "stateMutability": "view",
    }


# What probing calls (OpenZeppelin / Safe / ERC-20 interfaces), whatever the ABI says.
PROBE_ABI: Abi = (
    _fn("owner", (), ("address",)),
    _fn("hasRole", ("bytes32", "address"), ("bool",)),
    _fn("getMinDelay", (), ("uint256",)),
    _fn("getOwners", (), ("address[]",)),
    _fn("getThreshold", (), ("uint256",)),
    _fn("isSentinel", ("address",), ("bool",)),
    _fn("decimals", (), ("uint8",)),
    _fn("symbol", (), ("string",)),
    _fn("balanceOf", ("address",), ("uint256",)),
    _fn("paused", (), ("bool",)),
    _fn("pause"),
    _fn("upgradeToAndCall", ("address", "bytes")),
)


@dataclass(frozen=True, slots=True)
class SafeInfo:
    address: Address
    owners: tuple[Address, ...]
    threshold: int


@dataclass(frozen=True, slots=True)
class TimelockInfo:
    address: Address
    min_delay: int
    roles: Mapping[str, tuple[Address, ...]]  # PROPOSER_ROLE/EXECUTOR_ROLE/CANCELLER_ROLE -> holders


@dataclass(frozen=True, slots=True)
class PauseInfo:
    guarded_by: tuple[str, ...]  # role names (or "owner") whose holders can call pause()
    holders: tuple[Address, ...]
    paused: bool
    unguarded: bool  # anyone could call pause()


@dataclass(frozen=True, slots=True)
class FoundContract:
    name: str
    proxy: Address
    implementation: Address
    proxy_kind: str  # transparent, uups, none
    admin: Address | None  # the ERC-1967 admin (a ProxyAdmin) of a Transparent proxy
    upgrade_owner: Address | None  # ProxyAdmin.owner() or the UUPS proxy's owner()
    upgraders: tuple[str, ...]  # UUPS: the roles (or "owner") whose holders may upgrade
    source: tuple[str, str] | None  # (file, contract) that compiles to the implementation
    source_note: str  # why no source was found
    abi: Abi = field(repr=False)
    roles: Mapping[str, tuple[Address, ...]] = field(default_factory=dict)
    pause: PauseInfo | None = None


@dataclass(frozen=True, slots=True)
class FoundAsset:
    name: str
    address: Address | None  # None: native ETH
    decimals: int
    held_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Discovery:
    chain_id: int
    rpc_url: str
    project: CompileInput
    contracts: tuple[FoundContract, ...]
    assets: tuple[FoundAsset, ...]
    safe: SafeInfo | None
    timelock: TimelockInfo | None
    guardian: Address | None  # a Bulwark guardian holding the pause role
    guardian_owner: Address | None
    notes: tuple[str, ...] = ()


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


class _Accounts:
    """Every account the protocol mentions, in the order found (candidates for roles and owners)."""

    def __init__(self) -> None:
        self._seen: dict[Address, None] = {}

    def add(self, *accounts: object) -> None:
        for acc in accounts:
            if isinstance(acc, str) and acc != ZERO_ADDRESS:
                self._seen[checksum(acc)] = None

    def all(self) -> list[Address]:
        return list(self._seen)


class _Probe:
    """eth_calls that may fail (no such function, not a contract): None instead of an error, except
    when the endpoint itself is gone."""

    def __init__(self, client: ChainClient) -> None:
        self.client = client

    async def call(
        self, to: str, fn: str, *args: Any, abi: Abi = PROBE_ABI, sender: str | None = None
    ) -> Any:
        try:
            tx = TxRequest(to=checksum(to), data=encode_call(abi, fn, *args))
            out = await self.client.call(tx, sender=checksum(sender) if sender else None)
            if not out and fn != "pause":
                return None
            return decode_result(abi, fn, out, len(args))
        except RpcUnreachable:
            raise
        except (ChainError, DecodingError, ValueError, OverflowError):
            return None

    async def succeeds(self, to: str, fn: str, *args: Any, sender: str) -> bool:
        """Whether ``fn`` called by ``sender`` would succeed (an eth_call: nothing is sent)."""
        try:
            tx = TxRequest(to=checksum(to), data=encode_call(PROBE_ABI, fn, *args))
            await self.client.call(tx, sender=checksum(sender))
            return True
        except RpcUnreachable:
            raise
        except ChainError:
            return False


async def _slot_address(client: ChainClient, address: Address, slot: Hash32) -> Address | None:
    word = await client.get_storage_at(address, slot)
    found = checksum("0x" + str(word)[-40:])
    return None if found == ZERO_ADDRESS else found


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


def _getters(abi: Abi, output: str) -> list[str]:
    """Functions without inputs returning one ``output`` value that do not change state."""
    return [
        str(e["name"])
        for e in abi
        if e.get("type") == "function"
        and not e.get("inputs")
        and [o.get("type") for o in e.get("outputs") or []] == [output]
        and e.get("stateMutability") in ("view", "pure")
    ]


def _has(abi: Abi, name: str) -> bool:
    return any(e.get("type") == "function" and e.get("name") == name for e in abi)


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
        probe = _Probe(client)
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
            admin = await _slot_address(client, proxy, ADMIN_SLOT)
            if impl == proxy:
                kind, owner = "none", await probe.call(proxy, "owner")
            elif admin is not None:
                kind, owner = "transparent", await probe.call(admin, "owner")
            else:
                kind, owner = "uups", await probe.call(proxy, "owner")
            owner_address = checksum(owner) if isinstance(owner, str) else None
            drafts.append(_Draft(name, proxy, impl, kind, admin, owner_address, art, source_note))

        # Every account the protocol mentions: candidates for roles, owners, assets.
        pool = _Accounts()
        mention = pool.add
        getter_values: dict[Address, dict[str, Address]] = {}
        for d in drafts:
            mention(d.proxy, d.impl, d.admin, d.owner)
            abi: Abi = tuple(d.art.abi) if d.art else ()
            values: dict[str, Address] = {}
            for getter in _getters(abi, "address"):
                value = await probe.call(d.proxy, getter, abi=abi)
                if isinstance(value, str) and checksum(value) != ZERO_ADDRESS:
                    values[getter] = checksum(value)
            getter_values[d.proxy] = values
            mention(*values.values())
            mention(*await _granted_accounts(client, d.proxy))

        timelock = await _find_timelock(probe, client, [d.owner for d in drafts], pool)
        safe = await _find_safe(probe, timelock, pool.all())
        if safe is not None:
            mention(safe.address, *safe.owners)

        contracts: list[FoundContract] = []
        for d in drafts:
            abi = tuple(d.art.abi) if d.art else ()
            roles = await _roles(probe, d.proxy, abi, pool.all())
            pause = await _pause(probe, d.proxy, abi, roles, d.owner)
            upgraders = await _upgraders(probe, d.proxy, d.impl, roles, d.owner) if d.kind == "uups" else ()
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
        guardian, guardian_owner = await _guardian(probe, contracts)
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


async def _granted_accounts(client: ChainClient, address: Address) -> list[Address]:
    """Accounts ever granted a role here (``RoleGranted`` logs); none when the node refuses the range."""
    try:
        logs = await client.get_logs(
            LogFilter(address=address, topics=(ROLE_GRANTED,), from_block=0, to_block="latest")
        )
    except ChainError:
        # A public endpoint may cap the range or time out on it: the other candidates still apply
        # (and a node that is really gone fails the very next probe).
        return []
    return [checksum("0x" + str(lg.topics[2])[-40:]) for lg in logs if len(lg.topics) > 2]


async def _gather(calls: Iterable[Awaitable[T]]) -> list[T]:
    return list(await asyncio.gather(*calls))


async def _holders(
    probe: _Probe, at: Address, role: bytes, candidates: Sequence[Address]
) -> tuple[Address, ...]:
    answers = await _gather(probe.call(at, "hasRole", role, c) for c in candidates)
    return tuple(c for c, yes in zip(candidates, answers, strict=True) if yes is True)


async def _find_timelock(
    probe: _Probe, client: ChainClient, owners: Sequence[Address | None], pool: _Accounts
) -> TimelockInfo | None:
    for cand in dict.fromkeys([*(o for o in owners if o), *pool.all()]):
        delay = await probe.call(cand, "getMinDelay")
        if not isinstance(delay, int):
            continue
        pool.add(*await _granted_accounts(client, cand))
        roles = {}
        for role in TIMELOCK_ROLES:
            roles[role] = await _holders(probe, cand, keccak(text=role), pool.all())
        return TimelockInfo(cand, delay, roles)
    return None


async def _find_safe(
    probe: _Probe, timelock: TimelockInfo | None, candidates: Sequence[Address]
) -> SafeInfo | None:
    ordered = [*(timelock.roles.get("PROPOSER_ROLE", ()) if timelock else ()), *candidates]
    for cand in dict.fromkeys(ordered):
        owners = await probe.call(cand, "getOwners")
        threshold = await probe.call(cand, "getThreshold")
        if isinstance(owners, list | tuple) and isinstance(threshold, int) and owners:
            return SafeInfo(cand, tuple(checksum(o) for o in owners), threshold)
    return None


async def _roles(
    probe: _Probe, proxy: Address, abi: Abi, candidates: Sequence[Address]
) -> dict[str, tuple[Address, ...]]:
    if abi and not _has(abi, "hasRole"):
        return {}
    ids: dict[str, bytes] = {"DEFAULT_ADMIN_ROLE": DEFAULT_ADMIN_ROLE}
    for getter in _getters(abi, "bytes32"):
        if getter.endswith("_ROLE"):
            value = await probe.call(proxy, getter, abi=abi)
            if isinstance(value, bytes):
                ids[getter] = value
    out: dict[str, tuple[Address, ...]] = {}
    for name, role in ids.items():
        holders = await _holders(probe, proxy, role, candidates)
        if holders:
            out[name] = holders
    return out


async def _able(
    probe: _Probe,
    proxy: Address,
    fn: str,
    args: tuple[Any, ...],
    roles: Mapping[str, tuple[Address, ...]],
    owner: Address | None,
) -> tuple[tuple[str, ...], tuple[Address, ...]]:
    """Who may call ``fn``: an eth_call from every role holder (and the owner) decides; the guard
    is each role all of whose holders succeed. An account holding several roles makes them all
    candidates: DEFAULT_ADMIN_ROLE (the other roles' admin) then yields to a more specific one."""
    accounts = list(
        dict.fromkeys([*(a for held in roles.values() for a in held), *([owner] if owner else [])])
    )
    able = [a for a in accounts if await probe.succeeds(proxy, fn, *args, sender=a)]
    guards = [name for name, held in roles.items() if held and all(h in able for h in held)]
    if len(guards) > 1 and "DEFAULT_ADMIN_ROLE" in guards:
        guards.remove("DEFAULT_ADMIN_ROLE")
    if not guards and owner is not None and owner in able:
        guards = ["owner"]
    return tuple(guards), tuple(able)


async def _pause(
    probe: _Probe, proxy: Address, abi: Abi, roles: Mapping[str, tuple[Address, ...]], owner: Address | None
) -> PauseInfo | None:
    if not (_has(abi, "pause") and _has(abi, "paused")):
        return None
    if await probe.call(proxy, "paused") is True:
        return PauseInfo((), (), paused=True, unguarded=False)  # pause() reverts for everyone now
    guards, able = await _able(probe, proxy, "pause", (), roles, owner)
    unguarded = await probe.succeeds(proxy, "pause", sender=NOBODY)
    return PauseInfo(guards, able, paused=False, unguarded=unguarded)


async def _upgraders(
    probe: _Probe,
    proxy: Address,
    impl: Address,
    roles: Mapping[str, tuple[Address, ...]],
    owner: Address | None,
) -> tuple[str, ...]:
    """Who may upgrade a UUPS proxy: re-upgrading to the current implementation, as an eth_call
    (the implementation's own ``_authorizeUpgrade`` decides)."""
    guards, _ = await _able(probe, proxy, "upgradeToAndCall", (impl, b""), roles, owner)
    return guards


async def _assets(
    probe: _Probe,
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


async def _guardian(
    probe: _Probe, contracts: Sequence[FoundContract]
) -> tuple[Address | None, Address | None]:
    """A Bulwark guardian (it answers ``isSentinel``) among the accounts able to pause."""
    for c in contracts:
        for holder in c.pause.holders if c.pause else ():
            if await probe.call(holder, "isSentinel", NOBODY) is not None:
                owner = await probe.call(holder, "owner")
                return holder, checksum(owner) if isinstance(owner, str) else None
    return None, None


# -- writing -----------------------------------------------------------------------------------


def _q(value: object) -> str:
    """A YAML scalar: JSON strings and numbers are valid YAML."""
    return json.dumps(value)


def rpc_value(url: str) -> tuple[str, str | None]:
    """The URL itself when it cannot carry a key (no user, path or query), else an env reference."""
    parts = urlsplit(url)
    if not parts.username and not parts.password and parts.path in ("", "/") and not parts.query:
        return url, None
    return (
        f"env:{RPC_ENV}",
        f"set {RPC_ENV} to the RPC URL (it may carry an API key, so it is not written here)",
    )


def _relative(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when they share more than the filesystem root, else absolute."""
    if Path(os.path.commonpath([path, base])) == Path(path.anchor):
        return path.as_posix()
    return Path(os.path.relpath(path, base)).as_posix()


def render(d: Discovery, *, out_dir: Path, protocol: str = "protocol", network: str = "main") -> str:
    """The ``bulwark.yaml`` text for ``d``; paths are written relative to ``out_dir``."""
    by_address = {c.proxy: c.name for c in d.contracts}

    labels = {
        **({d.timelock.address: "the timelock"} if d.timelock else {}),
        **({d.safe.address: "the Safe"} if d.safe else {}),
        **({d.guardian: "the Bulwark guardian"} if d.guardian else {}),
    }

    def who(address: Address) -> str:
        if address in by_address:
            return by_address[address]
        return f"{address} ({labels[address]})" if address in labels else address

    url, url_note = rpc_value(d.rpc_url)
    lines = [
        "# Written by `bulwark init`: review every line, then run `bulwark config check -c <this file>`.",
        "# Lines starting with '# TODO' are what init could not find: fill them in or delete them.",
        "version: 1",
        "",
        "networks:",
        f"  {network}:",
        f"    chain_id: {d.chain_id}",
    ]
    if url_note:
        lines.append(f"    # {url_note}")
    lines += [f"    rpc_http: {_q(url)}", '    # rpc_ws: "ws://..."  # optional: mempool by subscription', ""]
    lines += ["protocols:", f"  {protocol}:", f"    network: {network}"]
    lines.append(
        f"    source: {_q(_relative(d.project.path if d.project.sources else d.project.root, out_dir))}"
        f"  # {d.project.kind} project"
    )
    lines.append("    contracts:")
    for c in d.contracts:
        lines.append(f"      {c.name}:")
        kind = {"transparent": "Transparent proxy", "uups": "UUPS proxy", "none": "not a proxy"}[c.proxy_kind]
        lines.append(f"        address: {_q(c.proxy)}  # {kind}; implementation {c.implementation}")
        if c.admin is not None:
            owner = f", owned by {who(c.upgrade_owner)}" if c.upgrade_owner else ""
            lines.append(f"        # ProxyAdmin (ERC-1967 admin): {c.admin}{owner}")
        elif c.proxy_kind == "uups":
            guard = " or ".join(c.upgraders) or "nobody found"
            owner = f"; owner {who(c.upgrade_owner)}" if c.upgrade_owner else ""
            lines.append(f"        # upgrades through the implementation (UUPS): guarded by {guard}{owner}")
        if c.source is not None:
            lines.append(f"        abi: {_q(f'abi/{c.name}.json')}")
            lines.append("        implementation:")
            lines.append(f"          file: {_q(c.source[0])}")
            lines.append(f"          contract: {_q(c.source[1])}")
            if c.source_note:
                lines.append(f"          # note: {c.source_note}")
        else:
            lines.append(
                f"        # TODO implementation: {{file: src/..., contract: ...}}  ({c.source_note})"
            )
            lines.append("        # TODO abi: path/to/abi.json  (no source matched, so no ABI was written)")
        if c.pause is None:
            lines.append(
                "        # pause: no pause()/paused() in the ABI: Bulwark cannot contain this contract"
            )
        else:
            p = c.pause
            guard = " or ".join(p.guarded_by) or "nobody found"
            able = ", ".join(who(h) for h in p.holders) or "none found"
            lines.append(f"        # pause: pause() guarded by {guard} (can pause: {able})")
            if p.paused:
                lines.append("        # note: the contract is paused now; who may pause was not probed")
            if p.unguarded:
                lines.append("        # WARNING: anyone can call pause() on this contract")
        lines.append(
            "        # kind: generic  # TODO: lending, vault, amm, oracle... (kind-specific detectors)"
        )
    if d.assets:
        lines.append("    assets:")
        for a in d.assets:
            lines.append(f"      {a.name}:")
            lines.append(f"        address: {_q(a.address) if a.address else 'native'}")
            lines.append(f"        decimals: {a.decimals}")
            lines.append(f"        held_by: [{', '.join(a.held_by)}]")
    else:
        lines.append("    # TODO assets: none found (no ERC-20 behind an address getter, no ETH balance)")
    roles: dict[str, dict[Address, None]] = {}
    for c in d.contracts:
        for role, accounts in c.roles.items():
            roles.setdefault(role, {}).update(dict.fromkeys(accounts))
    # A Transparent proxy's ProxyAdmin is what calls upgradeToAndCall on it: the governance path's
    # upgrade, never to be taken for an unauthorised privileged call.
    admins = [c.admin for c in d.contracts if c.admin is not None]
    if admins:
        roles.setdefault("PROXY_ADMIN", {}).update(dict.fromkeys(admins))
    if roles:
        lines.append("    roles:  # AccessControl roles (hasRole probed); PROXY_ADMIN: the ERC-1967 admins")
        for role, members in roles.items():
            names = [by_address.get(h, h) for h in members]
            known = [
                who(h).split(" (", 1)[1].rstrip(")") for h in members if h not in by_address and "(" in who(h)
            ]
            note = f"  # {', '.join(known)}" if known else ""
            lines.append(f"      {role}: [{', '.join(_q(n) for n in names)}]{note}")
    lines.append("")
    lines += ["monitors:", f"  {protocol}:", f"    protocol: {protocol}", ""]
    lines += _responses(d, protocol)
    lines += _policy(d, protocol)
    if d.notes:
        lines += ["", *(f"# note: {n}" for n in d.notes)]
    return "\n".join(lines) + "\n"


def _responses(d: Discovery, protocol: str) -> list[str]:
    if d.guardian is None:
        return [
            "# TODO responses: no Bulwark guardian holds a pause right; deploy one, grant it the pause role",
            "# responses:",
            f"#   sentinel_key: env:{SENTINEL_ENV}",
            f'#   guardians: {{{protocol}: "0x..."}}',
            "",
        ]
    return [
        "responses:",
        f"  # the guardian's sentinel key: set {SENTINEL_ENV} (never write the key in this file)",
        f"  sentinel_key: env:{SENTINEL_ENV}",
        "  guardians:",
        f"    {protocol}: {_q(d.guardian)}",
        "",
    ]


def _policy(d: Discovery, protocol: str) -> list[str]:
    if d.safe is None or d.timelock is None:
        missing = " and ".join(x for x, v in (("Safe", d.safe), ("timelock", d.timelock)) if v is None)
        return [
            f"# TODO policies: no {missing} found behind the proxies' admins; fill in the governance path",
            "# policies:",
            f"#   {protocol}:",
            '#     safe: "0x..."',
            '#     timelock: "0x..."',
            "#     owners: [...]",
            "#     threshold: 2",
            "#     proxies: [...]",
            "#     actions:",
            "#       upgrade: {default: {threshold: 2, delay_s: 172800}}",
            "#       unpause: {default: {threshold: 2, delay_s: 0}}",
        ]
    tl, safe = d.timelock, d.safe
    proxies = [
        c.name
        for c in d.contracts
        if c.upgrade_owner == tl.address
        or any(tl.address in c.roles.get(r, ()) for r in c.upgraders if r != "owner")
    ]
    lines = [
        "policies:",
        f"  {protocol}:",
        f"    safe: {_q(safe.address)}  # Safe {safe.threshold}-of-{len(safe.owners)}",
    ]
    lines.append(f"    timelock: {_q(tl.address)}  # TimelockController, min delay {tl.min_delay} s")
    for role in TIMELOCK_ROLES:
        holders = ", ".join(tl.roles.get(role, ())) or "nobody found"
        lines.append(f"    # timelock {role}: {holders}")
    if d.guardian is not None and d.guardian_owner == tl.address:
        lines.append(f"    guardian: {_q(d.guardian)}  # owned by the timelock")
    lines.append(f"    owners: [{', '.join(_q(o) for o in safe.owners)}]")
    lines.append(f"    threshold: {safe.threshold}")
    if proxies:
        lines.append(f"    proxies: [{', '.join(proxies)}]  # upgraded through the timelock")
    else:
        lines.append("    # TODO proxies: [...]  (no contract found whose upgrades go through the timelock)")
    lines += [
        "    actions:  # a starting point: the Safe's threshold and the timelock's delay",
        "      upgrade:",
        f"        default: {{threshold: {safe.threshold}, delay_s: {tl.min_delay}}}",
        "      unpause:",
        f"        default: {{threshold: {safe.threshold}, delay_s: {tl.min_delay}}}",
    ]
    return lines


def write_init(d: Discovery, out: Path, *, protocol: str = "protocol", force: bool = False) -> list[Path]:
    """Write the YAML and each matched contract's ABI (``abi/<name>.json`` beside it)."""
    out = out.resolve()
    if out.exists() and not force:
        raise UsageError(f"{out} exists; choose another --out or pass --force to overwrite it")
    written: list[Path] = []
    abi_dir = out.parent / "abi"
    for c in d.contracts:
        if c.source is not None:
            abi_dir.mkdir(parents=True, exist_ok=True)
            path = abi_dir / f"{c.name}.json"
            path.write_text(json.dumps(list(c.abi), indent=1) + "\n")
            written.append(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(d, out_dir=out.parent, protocol=protocol))
    return [out, *written]
