"""``bulwark audit verify|show``: read the record (``bulwark incidents`` lives in cli/incidents.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

DB_OPTION = typer.Option(
    None,
    "--db",
    help="Database URL (default: $BULWARK_DATABASE_URL or sqlite in ./.bulwark).",
    show_default=False,
)


def database_url(db: str | None) -> str:
    from bulwark.store import default_url

    return db or os.environ.get("BULWARK_DATABASE_URL") or default_url(Path(".bulwark"))


def register(app: typer.Typer) -> None:
    audit = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
    app.add_typer(audit, name="audit")

    @audit.command("verify")
    def verify(db: str | None = DB_OPTION, as_json: bool = typer.Option(False, "--json")) -> None:
        """Recompute the hash chain; name the first broken entry, if any (exit 1)."""
        from bulwark.store import Store

        store = Store(database_url(db))
        try:
            result = store.verify_audit()
        finally:
            store.close()
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "ok": result.ok,
                        "entries": result.entries,
                        "first_broken": result.first_broken,
                        "reason": result.reason,
                    }
                )
            )
        elif result.ok:
            typer.echo(f"audit log intact: {result.entries} entries")
        else:
            typer.echo(f"audit log BROKEN at entry {result.first_broken}: {result.reason}")
        if not result.ok:
            raise typer.Exit(1)

    @audit.command("show")
    def show(
        incident: str | None = typer.Option(None, "--incident", help="Only this incident's entries."),
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Print the audit log, oldest first."""
        from bulwark.store import Store

        store = Store(database_url(db))
        try:
            entries = store.audit_entries(incident)
        finally:
            store.close()
        for e in entries:
            if as_json:
                typer.echo(
                    json.dumps(
                        {
                            "seq": e.seq,
                            "at": e.at,
                            "kind": e.kind,
                            "incident": e.incident_id,
                            "payload": e.payload,
                            "hash": e.hash,
                        }
                    )
                )
            else:
                typer.echo(f"{e.seq:>5}  {e.at}  {e.kind:<24} {e.incident_id or '-':<18} {e.hash[:18]}")
