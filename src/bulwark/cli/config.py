"""``bulwark config check -c FILE``: validate a configuration and explain what it will watch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bulwark.app.sources import check_sources
from bulwark.chain.client import run
from bulwark.config import BulwarkConfig, ConfigProblems, load_config, secret_problems
from bulwark.config.checks import config_warnings, contract_signals, source_problems
from bulwark.config.cluster import cluster_problems
from bulwark.detect.setup import monitor_problems


def check_file(path: Path) -> BulwarkConfig:
    """Every problem of ``path`` at once: schema, references, files, secrets, detectors, rules."""
    config = load_config(path)
    problems = secret_problems(config) + monitor_problems(config) + source_problems(config)
    if problems:
        raise ConfigProblems(path, problems)
    return config


def source_lines(config: BulwarkConfig, path: Path) -> list[str]:
    """Per contract, whether its source compiles to the deployed code; a mismatch is a problem, an
    unreachable chain only a note (the file itself is fine)."""
    checks = run(check_sources(config))
    bad = [
        f"protocols.{c.protocol}.contracts.{c.contract}.implementation: {c.line()}"
        for c in checks
        if not c.ok and c.status != "unreachable"
    ]
    if bad:
        raise ConfigProblems(path, bad)
    return [c.line() for c in checks]


def cluster_lines(config: BulwarkConfig, path: Path) -> list[str]:
    """With a ``cluster`` section: the broker and the database must both answer (one problem each)."""
    if config.cluster is None:
        return []
    problems = run(cluster_problems(config.cluster))
    if problems:
        raise ConfigProblems(path, problems)
    return ["cluster: NATS JetStream and PostgreSQL reachable"]


def _explain(config: BulwarkConfig) -> list[str]:
    lines = []
    for name, net in config.networks.items():
        ws = "with WebSocket" if net.rpc_ws is not None else "HTTP only (mempool by polling)"
        lines.append(
            f"network {name}: {ws}, {net.confirmations} confirmation(s), "
            f"recovers up to {net.max_past_blocks} past blocks, mempool {net.mempool}"
        )
    for name, proto in config.protocols.items():
        lines.append(
            f"protocol {name} on {proto.network}: {len(proto.contracts)} contract(s), "
            f"{len(proto.assets)} asset(s), {len(proto.roles)} role(s)"
        )
    for name, mon in config.monitors.items():
        off = sorted(k for k, v in mon.detectors.items() if not v.enabled)
        tuned = sorted(k for k, v in mon.detectors.items() if v.enabled)
        detectors = "all detectors" + (f" except {', '.join(off)}" if off else "")
        detectors += f" (tuned: {', '.join(tuned)})" if tuned else ""
        lines.append(
            f"monitor {name} -> {mon.protocol}: {detectors}; {len(mon.rules)} rule(s); "
            f"cooldown {mon.cooldown_s:g}s; mempool screening {'on' if mon.mempool else 'off'}"
        )
    return lines


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)

    @config_app.command("check")
    def check(
        config: Annotated[Path, typer.Option("-c", "--config", help="The bulwark.yaml to check.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Validate FILE; list every problem (one per line, exit 2) or explain what it configures."""
        try:
            cfg = check_file(config)
            sources = source_lines(cfg, config) + cluster_lines(cfg, config)
        except ConfigProblems as exc:
            if as_json:
                typer.echo(json.dumps({"ok": False, "file": str(config), "problems": exc.problems}))
            else:
                for problem in exc.problems:
                    typer.echo(f"{config}: {problem}", err=True)
                typer.echo(f"{len(exc.problems)} problem(s) found", err=True)
            raise typer.Exit(2) from None
        lines = _explain(cfg) + contract_signals(cfg) + sources
        warnings = config_warnings(cfg)  # valid, but would not do what it seems to
        if as_json:
            typer.echo(json.dumps({"ok": True, "file": str(config), "summary": lines, "warnings": warnings}))
        else:
            for line in lines:
                typer.echo(line)
            for warning in warnings:
                typer.echo(f"{config}: warning: {warning}", err=True)
            typer.echo(f"{config}: ok" + (f" ({len(warnings)} warning(s))" if warnings else ""))

    app.add_typer(config_app, name="config")
