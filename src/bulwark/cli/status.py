"""``bulwark status -c bulwark.yaml [--json]``: every role process of a scaled-out Bulwark (role,
host, pid, what it serves, active or standing by, last seen, lag) and who holds each lease."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bulwark.cli.config import check_file

if TYPE_CHECKING:
    from bulwark.app.status import ClusterStatus


def _progress(p: dict[str, Any]) -> str:
    return " ".join(
        f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in sorted(p.items())
    )


def table(status: ClusterStatus) -> list[str]:
    """The human view: one line per role process, then one per lease."""
    lines = [
        f"{'ROLE':<9} {'SERVES':<14} {'HOST':<16} {'PID':>7} {'STATE':<8} {'SEEN':>7} {'LAG':>6}  PROGRESS"
    ]
    for r in status.roles:
        seen = f"{r.age_s:.0f}s" + (" STALE" if r.stale else "")
        lag = "-" if r.lag is None else str(r.lag)
        lines.append(
            f"{r.role:<9} {r.scope:<14} {r.host[:16]:<16} {r.pid:>7} {r.state:<8} {seen:>7} {lag:>6}  "
            f"{_progress(r.progress)}"
        )
    if not status.roles:
        lines.append("(no role process is running)")
    lines.append("")
    lines.append(f"{'LEASE':<32} {'HOLDER':<40} {'ROLE':<9} EXPIRES")
    for x in status.leases:
        if x.holder is None:
            lines.append(f"{x.name:<32} {'-':<40} {'-':<9} -")
            continue
        expires = "-"
        if x.expires_at:
            expires = datetime.fromisoformat(x.expires_at).astimezone(UTC).strftime("%H:%M:%S UTC")
        lines.append(f"{x.name:<32} {x.holder:<40} {x.role or '?':<9} {expires}")
    return lines


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status(
        config: Annotated[Path, typer.Option("-c", "--config", help="The bulwark.yaml of the cluster.")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    ) -> None:
        """Show every role process of a scaled-out Bulwark (its lag: what its consumer has not
        acknowledged yet) and who holds each lease."""
        from bulwark.app.status import cluster_status  # the NATS client: only when asked

        cfg = check_file(config)
        result = asyncio.run(cluster_status(cfg))
        if as_json:
            typer.echo(json.dumps(result.to_json()))
            return
        for line in table(result):
            typer.echo(line)
