"""``bulwark worker --role ingest|screen|respond -c bulwark.yaml``: one scale-out role (needs a
``cluster`` section; see :mod:`bulwark.app.roles`)."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bulwark.cli.config import check_file
from bulwark.cli.watch import _until_terminated
from bulwark.detect.report import finding_json
from bulwark.domain import Finding
from bulwark.errors import UsageError
from bulwark.logs import mask
from bulwark.respond import Containment

if TYPE_CHECKING:
    from bulwark.chain.bus import TxEnvelope


class Role(StrEnum):
    ingest = "ingest"
    screen = "screen"
    respond = "respond"


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        config: Annotated[Path, typer.Option("-c", "--config", help="The bulwark.yaml to run.")],
        role: Annotated[
            Role,
            typer.Option(
                "--role",
                help="ingest (one per network), screen (any number) or respond (any number per "
                "protocol; one acts at a time, the others stand by).",
            ),
        ],
        network: Annotated[
            list[str] | None,
            typer.Option("--network", help="Network(s) to serve (ingest: exactly one; screen: default all)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per finding.")] = False,
        protocol: Annotated[
            str | None, typer.Option("--protocol", help="respond: the protocol to contain.")
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="respond: print what would be sent, send nothing.")
        ] = False,
        until_block: Annotated[
            int | None, typer.Option("--until-block", help="ingest: stop once this block is published.")
        ] = None,
    ) -> None:
        """Run one role of a scaled-out Bulwark over NATS JetStream and PostgreSQL (Ctrl-C stops)."""
        # Imported here: the NATS client costs every other command ~0.2 s of start-up otherwise.
        from bulwark.app.roles import run_ingest_role, run_respond_role, run_screen_role

        cfg = check_file(config)  # fails closed, listing every problem, before anything connects
        nets = list(network or [])
        if role is Role.ingest:
            if len(nets) != 1 and len(cfg.networks) != 1:
                raise UsageError("--role ingest serves one network: name it with --network NAME")
            name = nets[0] if nets else next(iter(cfg.networks))
            asyncio.run(_until_terminated(run_ingest_role(cfg, name, until_block=until_block)))
            return

        if role is Role.respond:
            if protocol is None:
                if len(cfg.protocols) != 1:
                    raise UsageError("--role respond acts for one protocol: name it with --protocol NAME")
                protocol = next(iter(cfg.protocols))

            def contained(c: Containment) -> None:
                verb = "WOULD " if c.dry_run else ""
                typer.echo(mask(f"CONTAIN  {verb}{c.action.describe()} tx {c.tx_hash} against {c.attack_tx}"))

            asyncio.run(
                _until_terminated(run_respond_role(cfg, protocol, dry_run=dry_run, on_contained=contained))
            )
            return

        def show(env: TxEnvelope, findings: list[Finding]) -> None:
            for f in findings:
                if as_json:
                    typer.echo(mask(json.dumps({"type": "finding", "network": env.network,
                                                "finding": finding_json(f)})))  # fmt: skip
                else:
                    typer.echo(
                        mask(f"{f.severity.name:<8} {f.detector:<30} {env.network} tx {f.tx_hash}: {f.title}")
                    )

        async def screen() -> None:
            await run_screen_role(cfg, nets, on_screened=show)

        asyncio.run(_until_terminated(screen()))
