"""One role of a scaled-out Bulwark, run from the command line (``bulwark watch --role ROLE`` and
its alias ``bulwark worker --role ROLE``); see :mod:`bulwark.app.roles` and
:mod:`bulwark.app.incident_role`. Every role needs the configuration's ``cluster`` section."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bulwark.logs import mask

if TYPE_CHECKING:
    from bulwark.chain.bus import TxEnvelope
    from bulwark.config import BulwarkConfig
    from bulwark.domain import Finding
    from bulwark.respond import Containment

__all__ = ["ROLE_HELP", "Role", "run_role"]


class Role(StrEnum):
    ingest = "ingest"
    screen = "screen"
    respond = "respond"
    incident = "incident"


ROLE_HELP = (
    "Run one role of a scaled-out Bulwark (needs a `cluster` section): ingest (one active per "
    "network), screen (any number), respond (one active per protocol, the others stand by) or "
    "incident (the flow; one owner per incident)."
)


def run_role(
    cfg: BulwarkConfig,
    role: Role,
    *,
    networks: Sequence[str] = (),
    protocol: str | None = None,
    as_json: bool = False,
    dry_run: bool = False,
    until_block: int | None = None,
    state_dir: Path = Path(".bulwark"),
) -> None:
    """Run ``role`` until Ctrl-C or SIGTERM. Without ``networks`` (``protocol``), ingest (respond)
    serves every configured network (protocol), each under its own lease."""
    # Imported here: the NATS client costs every other command ~0.2 s of start-up otherwise.
    from bulwark.app.incident_role import run_incident_role
    from bulwark.app.roles import networks_named, run_ingest_role, run_respond_role, run_screen_role
    from bulwark.cli.watch import _flow_line, _until_terminated
    from bulwark.detect.report import finding_json

    nets = list(networks)
    if role is Role.ingest:
        names = networks_named(cfg, nets)  # checked before anything connects

        def work() -> Awaitable[object]:
            return asyncio.gather(*(run_ingest_role(cfg, n, until_block=until_block) for n in names))

    elif role is Role.respond:
        protocols = [protocol] if protocol is not None else list(cfg.protocols)

        def contained(c: Containment) -> None:
            verb = "WOULD " if c.dry_run else ""
            typer.echo(mask(f"CONTAIN  {verb}{c.action.describe()} tx {c.tx_hash} against {c.attack_tx}"))

        def work() -> Awaitable[object]:
            return asyncio.gather(
                *(run_respond_role(cfg, p, dry_run=dry_run, on_contained=contained) for p in protocols)
            )

    elif role is Role.incident:

        def work() -> Awaitable[object]:
            return run_incident_role(
                cfg,
                nets,
                workdir=str(state_dir / "candidates"),
                on_event=lambda e: typer.echo(_flow_line(e, as_json)),
                on_owned=lambda iid: typer.echo(
                    json.dumps({"type": "owned", "incident": iid}) if as_json else f"OWN      incident {iid}"
                ),
            )
    else:

        def show(env: TxEnvelope, findings: list[Finding]) -> None:
            for f in findings:
                if as_json:
                    typer.echo(mask(json.dumps({"type": "finding", "network": env.network,
                                                "finding": finding_json(f)})))  # fmt: skip
                else:
                    typer.echo(
                        mask(f"{f.severity.name:<8} {f.detector:<30} {env.network} tx {f.tx_hash}: {f.title}")
                    )

        def work() -> Awaitable[object]:
            return run_screen_role(cfg, nets, on_screened=show)

    async def main() -> None:
        await work()

    asyncio.run(_until_terminated(main()))
