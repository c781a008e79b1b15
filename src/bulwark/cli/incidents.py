"""``bulwark incidents [list]`` and ``bulwark incidents resume ID``: the incidents and their state;
carry an interrupted one on from its last recorded state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bulwark.cli.audit import DB_OPTION, open_store


def _list(db: str | None, as_json: bool) -> None:

    store = open_store(db)
    try:
        rows = store.incidents()
    finally:
        store.close()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "protocol": r.protocol,
                        "state": r.state.value,
                        "severity": r.severity,
                        "class": r.vuln_class,
                        "title": r.title,
                        "opened_at": r.opened_at.isoformat(),
                    }
                    for r in rows
                ]
            )
        )
        return
    if not rows:
        typer.echo("no incidents")
    for r in rows:
        typer.echo(f"{r.id}  {r.state.value:<10} {r.severity:<8} {r.protocol:<12} {r.title}")


def _resume(incident_id: str, db: str | None, config: Path | None, rpc: str | None, as_json: bool) -> None:
    from bulwark.cli.config import check_file
    from bulwark.domain import IncidentState
    from bulwark.flow import OPERATOR_ACTIONS, FlowEvent
    from bulwark.lab.resume import resume_incident

    cfg = check_file(config) if config is not None else None  # fails closed before anything runs

    def on_event(e: FlowEvent) -> None:
        if not as_json and e.kind != "skipped":
            extra = f": {e.reason}" if e.reason else ""
            typer.echo(f"{e.step:<10} {e.kind}{extra}")

    store = open_store(db, None, cfg)  # keyed with the configuration's audit_key, if any
    try:
        out: dict[str, Any] = asyncio.run(
            resume_incident(store, incident_id, config=cfg, rpc_url=rpc, on_event=on_event)
        )
    finally:
        store.close()
    state = IncidentState(out["flow_state"])
    if as_json:
        typer.echo(json.dumps(out, default=str))
    else:
        reason = f" ({out['flow_reason']})" if out.get("flow_reason") else ""
        typer.echo(f"incident {incident_id}: {state.value}{reason}")
        if state in OPERATOR_ACTIONS:
            typer.echo(f"next: {OPERATOR_ACTIONS[state]}")
    # A watch incident ends its resume CONTAINED (where the watch pipeline stops); a run's, CLOSED.
    if state in OPERATOR_ACTIONS or state is IncidentState.DETECTED:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    incidents = typer.Typer(help="Incidents: list them, resume an interrupted one.")
    app.add_typer(incidents, name="incidents")

    @incidents.callback(invoke_without_command=True)
    def _default(
        ctx: typer.Context,
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List incidents and their state (same as `bulwark incidents list`)."""
        if ctx.invoked_subcommand is None:
            _list(db, as_json)

    @incidents.command("list")
    def list_(db: str | None = DB_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
        """List incidents and their state."""
        _list(db, as_json)

    @incidents.command("resume")
    def resume(
        incident_id: str = typer.Argument(..., help="The incident (see `bulwark incidents`)."),
        db: str | None = DB_OPTION,
        config: Annotated[
            Path | None,
            typer.Option("-c", "--config", help="The bulwark.yaml of the watch that opened it."),
        ] = None,
        rpc: str | None = typer.Option(
            None, "--rpc", help="A scenario run's chain, when it is not where the run recorded it."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Carry an interrupted incident on from its last recorded state: a pause that landed is
        recorded (or the incident contained again), then every step not yet recorded runs once."""
        _resume(incident_id, db, config, rpc, as_json)
