"""``bulwark init``: write a starting bulwark.yaml for a deployed protocol (discovery in app.init)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bulwark.app.init import discover, write_init
from bulwark.chain.client import run
from bulwark.chain.rpc import redact_url


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of the chain the protocol runs on.")],
        project: Annotated[
            Path, typer.Option("--project", help="Foundry/Hardhat project folder or standard-JSON file.")
        ],
        proxy: Annotated[list[str], typer.Option("--proxy", help="A proxy (or contract) address; repeat.")],
        out: Annotated[Path, typer.Option("--out", help="Where to write the configuration.")] = Path(
            "bulwark.yaml"
        ),
        name: Annotated[str, typer.Option("--name", help="The protocol's name in the file.")] = "protocol",
        force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
    ) -> None:
        """Probe the chain behind PROXY addresses and write a starting configuration to --out."""
        found = run(discover(rpc, project, proxy))
        written = write_init(found, out, protocol=name, force=force)
        typer.echo(
            f"chain {found.chain_id} at {redact_url(rpc)}; "
            f"project {found.project.path} ({found.project.kind})"
        )
        for c in found.contracts:
            source = f"{c.source[0]}:{c.source[1]}" if c.source else f"no source ({c.source_note})"
            typer.echo(f"  {c.name}: {c.proxy} -> {c.implementation} [{c.proxy_kind}] {source}")
        if found.safe:
            typer.echo(f"  Safe {found.safe.address}: {found.safe.threshold}-of-{len(found.safe.owners)}")
        if found.timelock:
            typer.echo(f"  timelock {found.timelock.address}: min delay {found.timelock.min_delay} s")
        for path in written:
            typer.echo(f"wrote {path}")
        todo = sum(1 for ln in written[0].read_text().splitlines() if ln.lstrip().startswith("# TODO"))
        typer.echo(
            f"{todo} line(s) marked '# TODO' to fill in; then run: bulwark config check -c {written[0]}"
        )
