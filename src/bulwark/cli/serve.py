"""``bulwark serve``: the dashboard, JSON API and ``/metrics`` over the store."""

from __future__ import annotations

import typer

from bulwark.cli.audit import AUDIT_KEY_OPTION, DB_OPTION, audit_key, database_url
from bulwark.errors import UsageError


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        db: str | None = DB_OPTION,
        key: str | None = AUDIT_KEY_OPTION,
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (loopback by default)."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
        rpc: str | None = typer.Option(
            None, "--rpc", help="Chain RPC URL: enables approve/reject from the page (read-only without it)."
        ),
    ) -> None:
        """Serve the dashboard; with --rpc, Safe owners approve or reject proposals from the page."""
        import uvicorn

        from bulwark.api import create_app

        if host not in ("127.0.0.1", "::1", "localhost"):
            typer.echo(
                f"warning: serving on {host}: anyone who can reach it reads incidents and proposals",
                err=True,
            )
        try:
            secret = audit_key(key)
            actions = None
            if rpc:
                from bulwark.app.dashboard import GovernActions

                actions = GovernActions(rpc, database_url(db), secret)
            application = create_app(database_url(db), actions, audit_key=secret)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        typer.echo(f"dashboard on http://{host}:{port}/", err=True)
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
