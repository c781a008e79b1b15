"""``bulwark doctor``: is everything Bulwark needs installed and working?"""

from __future__ import annotations

import json

import typer

from bulwark.toolchain.doctor import run_checks


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
        """Check Python dependencies, node, anvil, forge, every solcjs version and Slither."""
        results = run_checks()
        ok = all(c.ok for c in results)
        if as_json:
            typer.echo(
                json.dumps(
                    {"ok": ok, "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in results]}
                )
            )
        else:
            width = max(len(c.name) for c in results)
            for c in results:
                typer.echo(f"{'ok  ' if c.ok else 'FAIL'}  {c.name:<{width}}  {c.detail}")
            typer.echo("all checks passed" if ok else f"{sum(not c.ok for c in results)} check(s) failed")
        if not ok:
            raise typer.Exit(1)
