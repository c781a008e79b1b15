"""From configuration to running monitors: protocol models and configured detector instances."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_abi.exceptions import EncodingError
from eth_utils.address import is_address, to_checksum_address

from bulwark.config import BulwarkConfig, MonitorConfig, ProtocolConfig
from bulwark.config.models import ProbeConfig
from bulwark.detect.base import Detector
from bulwark.detect.builtins.rules import DeclarativeRules
from bulwark.detect.codefacts import CodeFacts, contract_facts
from bulwark.detect.evm import selector
from bulwark.detect.model import AssetInfo, ChainView, ContractInfo, Probe, ProtocolModel
from bulwark.detect.registry import available_detectors
from bulwark.domain import Address
from bulwark.errors import BulwarkError, ConfigError
from bulwark.toolchain.project import load_project


@dataclass(frozen=True, slots=True)
class Monitor:
    name: str
    protocol: ProtocolModel
    detectors: tuple[Detector, ...]
    cooldown_s: float
    mempool: bool


def _code_facts(name: str, proto: ProtocolConfig, config: BulwarkConfig) -> dict[str, CodeFacts]:
    """Per contract name: what its sources say is privileged and where balances sit (only for
    contracts whose ``implementation`` names a contract of the protocol's ``source`` project)."""
    wanted = {cname: c.implementation for cname, c in proto.contracts.items() if c.implementation is not None}
    if proto.source is None or not wanted:
        return {}
    root = config.resolve_path(proto.source)
    try:
        project = load_project(root)
        with project.compiler() as compiler:
            result = project.compile(compiler)
        return {
            cname: contract_facts(result, f"{impl.file.as_posix()}:{impl.contract}")
            if any(c.qualified_name == f"{impl.file.as_posix()}:{impl.contract}" for c in result.contracts)
            else contract_facts(result, impl.contract)
            for cname, impl in wanted.items()
        }
    except BulwarkError as exc:
        raise ConfigError(
            f"protocols.{name}.source: cannot read the storage layout of its contracts: {exc.user_message}"
        ) from exc


def _probe(p: ProbeConfig) -> Probe:
    types = [t for t in p.call[p.call.index("(") + 1 : -1].split(",") if t]
    if len(types) != len(p.args):
        raise ConfigError(f"probe {p.call}: {len(types)} argument(s) expected, {len(p.args)} given")
    try:
        values = [int(a, 0) if t.startswith(("uint", "int")) and isinstance(a, str) else a
                  for t, a in zip(types, p.args, strict=True)]  # fmt: skip
        data = bytes.fromhex(selector(p.call)[2:]) + encode(types, values)
    except (ValueError, TypeError, EncodingError) as exc:
        raise ConfigError(f"probe {p.call}: arguments {list(p.args)} do not encode: {exc}") from None
    return Probe(p.call, data, p.max_move)


def protocol_model(name: str, proto: ProtocolConfig, config: BulwarkConfig) -> ProtocolModel:
    facts = _code_facts(name, proto, config)
    contracts = {
        c.address: ContractInfo(
            name=cname,
            address=c.address,
            kind=c.kind,
            abi=tuple(c.load_abi(config.base_dir) or ()),
            privileged=c.privileged,
            probes=tuple(_probe(p) for p in c.probes),
            **_fact_fields(facts.get(cname)),
        )
        for cname, c in proto.contracts.items()
    }
    by_name = {c.name: a for a, c in contracts.items()}

    def holder(ref: str) -> Address:
        return Address(to_checksum_address(ref)) if is_address(ref) else by_name[ref]

    assets = tuple(
        AssetInfo(
            name=aname,
            address=None if a.address == "native" else Address(a.address),
            decimals=a.decimals,
            holders=tuple(by_name[h] for h in a.held_by),
        )
        for aname, a in proto.assets.items()
    )
    roles = {role: frozenset(holder(h) for h in holders) for role, holders in proto.roles.items()}
    return ProtocolModel(name, contracts, assets, roles, frozenset(proto.flash_lenders))


def _fact_fields(facts: CodeFacts | None) -> dict[str, Any]:
    if facts is None:
        return {}
    return {
        "privileged_slots": facts.privileged_slots,
        "privileged_maps": facts.privileged_maps,
        "writers": facts.writers,
        "balance_maps": facts.balance_maps,
        "allowance_maps": facts.allowance_maps,
        "slot_labels": dict(facts.labels or {}),
    }


def _indicator_params(mon: MonitorConfig, config: BulwarkConfig) -> dict[str, Any]:
    addresses = {a for a in mon.indicators.addresses}
    hashes = set(mon.indicators.code_hashes)
    if mon.indicators.file is not None:
        for n, line in enumerate(config.resolve_path(mon.indicators.file).read_text().splitlines(), 1):
            item = line.split("#", 1)[0].strip()
            if not item:
                continue
            if is_address(item):
                addresses.add(Address(to_checksum_address(item)))
            elif len(item) == 66 and item.startswith("0x"):
                hashes.add(item.lower())
            else:
                raise ConfigError(f"{mon.indicators.file}:{n}: neither an address nor a code hash: {item!r}")
    return {"addresses": addresses, "code_hashes": hashes}


def _build(
    mname: str, mon: MonitorConfig, config: BulwarkConfig, registry: Mapping[str, type[Detector]]
) -> tuple[Monitor | None, list[str]]:
    problems: list[str] = []
    for dname in mon.detectors:
        if dname not in registry:
            problems.append(
                f"monitors.{mname}.detectors.{dname}: unknown detector (known: {', '.join(sorted(registry))})"
            )
    model = protocol_model(mon.protocol, config.protocols[mon.protocol], config)
    detectors: list[Detector] = []
    # Every registered detector runs unless the monitor disables it: opting out must be explicit.
    for dname, cls in registry.items():
        settings = mon.detectors.get(dname)
        if settings is not None and not settings.enabled:
            continue
        params: dict[str, Any] = dict(settings.params) if settings is not None else {}
        try:
            if cls is DeclarativeRules:
                params.setdefault("rules", mon.rules)
            if dname == "indicator-match":
                merged = _indicator_params(mon, config)
                params["addresses"] = set(params.get("addresses", ())) | merged["addresses"]
                params["code_hashes"] = set(params.get("code_hashes", ())) | merged["code_hashes"]
            det = cls.from_settings(params, settings.severity if settings is not None else None)
            if isinstance(det, DeclarativeRules):
                det.compile(ChainView(model))
        except (ConfigError, OSError) as exc:
            msg = exc.user_message if isinstance(exc, ConfigError) else str(exc)
            problems.append(f"monitors.{mname}.detectors.{dname}: {msg}")
            continue
        detectors.append(det)
    if problems:
        return None, problems
    return Monitor(mname, model, tuple(detectors), mon.cooldown_s, mon.mempool), []


def monitor_problems(config: BulwarkConfig) -> list[str]:
    problems: list[str] = []
    registry = available_detectors()
    for mname, mon in config.monitors.items():
        problems += _build(mname, mon, config, registry)[1]
    return problems


def build_monitors(config: BulwarkConfig) -> tuple[Monitor, ...]:
    """Every monitor, or a ConfigError listing every problem (fails closed)."""
    registry = available_detectors()
    monitors, problems = [], []
    for mname, mon in config.monitors.items():
        built, probs = _build(mname, mon, config, registry)
        problems += probs
        if built is not None:
            monitors.append(built)
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in the monitors: " + "; ".join(problems))
    return tuple(monitors)
