"""Cross-reference checks on the raw document, so broken links are reported even when other parts
of the file fail schema validation: the operator fixes everything in one pass, not one per run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eth_utils.address import is_address

from bulwark.errors import ToolchainError
from bulwark.toolchain.project import CompileInput, load_project

if TYPE_CHECKING:
    from bulwark.config.models import BulwarkConfig


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def cross_references(raw: Mapping[str, Any]) -> list[str]:
    """Every name that points nowhere, as ``location: problem`` lines."""
    problems: list[str] = []
    networks = _mapping(raw.get("networks"))
    protocols = _mapping(raw.get("protocols"))
    monitors = _mapping(raw.get("monitors"))

    for pname, proto_raw in protocols.items():
        proto = _mapping(proto_raw)
        net = proto.get("network")
        if isinstance(net, str) and net not in networks:
            problems.append(f"protocols.{pname}.network: unknown network {net!r} ({_known(networks)})")
        contracts = _mapping(proto.get("contracts"))
        for aname, asset in _mapping(proto.get("assets")).items():
            for holder in _mapping(asset).get("held_by") or ():
                if isinstance(holder, str) and holder not in contracts:
                    problems.append(
                        f"protocols.{pname}.assets.{aname}.held_by: unknown contract {holder!r} "
                        f"({_known(contracts)})"
                    )
        if not proto.get("source"):
            for cname, contract in contracts.items():
                if _mapping(contract).get("implementation") is not None:
                    problems.append(
                        f"protocols.{pname}.contracts.{cname}.implementation: set protocols.{pname}.source "
                        "(the Foundry/Hardhat project or standard-JSON file the file is part of)"
                    )
        known = {**contracts, **_mapping(proto.get("assets"))}
        for i, inv in enumerate(proto.get("invariants") or ()):
            for side in ("lhs", "rhs"):
                call = _mapping(_mapping(inv).get(side))
                for ref in (call.get("contract"), *(call.get("args") or ())):
                    if isinstance(ref, str) and not is_address(ref) and ref not in known:
                        problems.append(
                            f"protocols.{pname}.invariants[{i}].{side}: unknown contract or asset {ref!r} "
                            f"({_known(known)})"
                        )
        for role, holders in _mapping(proto.get("roles")).items():
            for holder in holders if isinstance(holders, list | tuple) else ():
                if isinstance(holder, str) and not is_address(holder) and holder not in contracts:
                    problems.append(
                        f"protocols.{pname}.roles.{role}: {holder!r} is neither an address nor a contract "
                        f"of this protocol ({_known(contracts)})"
                    )

    for mname, mon_raw in monitors.items():
        mon = _mapping(mon_raw)
        pref = mon.get("protocol")
        if not isinstance(pref, str):
            continue
        if pref not in protocols:
            problems.append(f"monitors.{mname}.protocol: unknown protocol {pref!r} ({_known(protocols)})")
            continue
        contracts = _mapping(_mapping(protocols.get(pref)).get("contracts"))
        for i, rule_raw in enumerate(mon.get("rules") or ()):
            rule = _mapping(rule_raw)
            contract = rule.get("contract")
            where = f"monitors.{mname}.rules[{i}]"
            if isinstance(contract, str) and contract not in contracts:
                problems.append(f"{where}.contract: unknown contract {contract!r} ({_known(contracts)})")
            when = rule.get("when")
            if when in ("event", "call") and not contract:
                problems.append(f"{where}: a {when!r} rule needs 'contract'")
            if when == "event" and not rule.get("event"):
                problems.append(f"{where}: an 'event' rule needs 'event'")
            if when == "call" and not rule.get("function"):
                problems.append(f"{where}: a 'call' rule needs 'function'")
    responses = _mapping(raw.get("responses"))
    for pref in _mapping(responses.get("guardians")):
        if pref not in protocols:
            problems.append(f"responses.guardians.{pref}: unknown protocol {pref!r} ({_known(protocols)})")
    for section in ("policies", "remedies"):
        for pref in _mapping(raw.get(section)):
            if pref not in protocols:
                problems.append(f"{section}.{pref}: unknown protocol {pref!r} ({_known(protocols)})")
    policies = _mapping(raw.get("policies"))
    for pref in _mapping(raw.get("signers")):
        if pref not in protocols:
            problems.append(f"signers.{pref}: unknown protocol {pref!r} ({_known(protocols)})")
        elif pref not in policies:
            problems.append(f"signers.{pref}: protocol {pref!r} has no policy: signers sign its proposals")
    return problems


def source_problems(config: BulwarkConfig) -> list[str]:
    """Each protocol's ``source`` reads as a project and names the implementation files it holds
    (offline: whether they compile to the deployed code is :mod:`bulwark.app.sources`' check)."""
    problems: list[str] = []
    for pname, proto in config.protocols.items():
        if proto.source is None:
            continue
        try:
            project = load_project(config.resolve_path(proto.source))
        except ToolchainError as exc:
            problems.append(f"protocols.{pname}.source: {exc.user_message}")
            continue
        for cname, contract in proto.contracts.items():
            impl = contract.implementation
            if impl is not None and not has_source_file(project, impl.file.as_posix()):
                problems.append(
                    f"protocols.{pname}.contracts.{cname}.implementation.file: no {impl.file} in "
                    f"{project.path if project.sources else project.root}"
                )
    return problems


def config_warnings(config: BulwarkConfig) -> list[str]:
    """What is valid but will not do what it seems to: a ``privileged`` entry that matches no
    function (a bare name is matched through the contract's ABI, so without one it matches nothing)."""
    warnings: list[str] = []
    for pname, proto in config.protocols.items():
        for cname, contract in proto.contracts.items():
            where = f"protocols.{pname}.contracts.{cname}.privileged"
            bare = [e for e in contract.privileged if "(" not in e and not e.startswith("0x")]
            if not bare:
                continue
            try:
                abi = contract.load_abi(config.base_dir)
            except (OSError, ValueError, KeyError):
                abi = None  # an unreadable ABI is reported by the loader itself
            names = {str(i.get("name")) for i in abi or () if i.get("type") == "function"}
            for entry in bare:
                if abi is None:
                    warnings.append(
                        f"{where}: {entry!r} is a bare name and {cname} has no abi/artifact, so it "
                        f"matches nothing; write the signature (e.g. '{entry}(address)') or a 0x selector, "
                        "or give the contract's abi"
                    )
                elif entry not in names:
                    warnings.append(f"{where}: no function {entry!r} in {cname}'s ABI, so it matches nothing")
    return warnings


def contract_signals(config: BulwarkConfig) -> list[str]:
    """Per protected contract, which signals detection has for it and which it lacks (and how to
    give them), so a new user sees what an ``ok`` configuration will and will not catch."""
    lines: list[str] = []
    for pname, proto in config.protocols.items():
        for cname, c in proto.contracts.items():
            held = [a for a, asset in proto.assets.items() if cname in asset.held_by]
            has = ["call tree (re-entry, privileged calls, ecrecover reuse, flash loans)"]
            lacks: list[str] = []
            if held:
                has.append("holdings of " + ", ".join(held))
            if c.kind == "amm":
                if len(held) >= 2:
                    has.append("pool price (getReserves, else its balances)")
                else:
                    lacks.append(
                        "a pool price unless it answers getReserves(): name two assets it holds or a probe"
                    )
            elif c.kind == "vault":
                has.append("share price if ERC-4626 (asset, totalAssets, totalSupply)")
            elif c.kind == "oracle":
                has.append("prices through price(address)")
            if c.probes:
                has.append("probes " + ", ".join(p.call for p in c.probes))
            elif c.kind in ("amm", "vault", "lending", "generic"):
                lacks.append("probes (a price or share-price view to watch: probes: [{call: ...}])")
            if not held and not c.probes and c.kind not in ("token", "oracle", "governance"):
                lacks.append("any value signal: name it in an asset's held_by or add a probe")
            if c.abi is not None or c.artifact is not None:
                has.append("ABI (typed signatures, privileged names)")
            else:
                lacks.append("an ABI (abi/artifact): bare privileged names match nothing")
            if c.implementation is not None and proto.source is not None:
                has.append("sources (privileged slots, balance maps)")
            else:
                lacks.append("sources (implementation): privileged state only from known patterns")
            lines.append(
                f"contract {pname}.{cname} ({c.kind}): has {'; '.join(has)}"
                + (f"; lacks {'; '.join(lacks)}" if lacks else "")
            )
    return lines


def has_source_file(project: CompileInput, file: str) -> bool:
    if project.sources:
        return file in project.sources
    return (project.root / file).is_file()


def _known(names: Mapping[str, Any]) -> str:
    return "known: " + ", ".join(sorted(names)) if names else "none defined"
