"""``bulwark worker --role ingest|screen|respond|incident -c bulwark.yaml``: one scale-out role, the
same as ``bulwark watch --role`` (kept for the scripts that use it; see :mod:`bulwark.cli.roles`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bulwark.cli.config import check_file
from bulwark.cli.roles import Role, run_role


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        config: Annotated[Path, typer.Option("-c", "--config", help="The bulwark.yaml to run.")],
        role: Annotated[
            Role,
            typer.Option(
                "--role",
                help="ingest (one active per network), screen (any number), respond (any number per "
                "protocol; one acts at a time, the others stand by) or incident (the flow; one owner "
                "per incident).",
            ),
        ],
        network: Annotated[
            list[str] | None,
            typer.Option("--network", help="Network(s) to serve (default: every configured one)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
        protocol: Annotated[
            str | None, typer.Option("--protocol", help="respond: the protocol to contain (default: all).")
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="respond: print what would be sent, send nothing.")
        ] = False,
        until_block: Annotated[
            int | None, typer.Option("--until-block", help="ingest: stop once this block is published.")
        ] = None,
        state_dir: Annotated[
            Path, typer.Option("--state-dir", help="incident: where patch candidates are built.")
        ] = Path(".bulwark"),
    ) -> None:
        """Run one role of a scaled-out Bulwark over NATS JetStream and PostgreSQL (Ctrl-C stops)."""
        cfg = check_file(config)  # fails closed, listing every problem, before anything connects
        run_role(cfg, role, networks=network or (), protocol=protocol, as_json=as_json, dry_run=dry_run,
                 until_block=until_block, state_dir=state_dir)  # fmt: skip
