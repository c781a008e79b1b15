"""Writing what ``bulwark init`` found as a starting ``bulwark.yaml`` (as text, so the comments
survive) and each matched contract's ABI beside it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from bulwark.app.init.found import Discovery
from bulwark.app.init.powers import TIMELOCK_ROLES
from bulwark.domain import Address
from bulwark.errors import UsageError

__all__ = ["render", "rpc_value", "write_init"]

SENTINEL_ENV = "BULWARK_SENTINEL_KEY"
RPC_ENV = "BULWARK_RPC_URL"


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
