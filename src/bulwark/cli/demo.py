"""``bulwark demo`` and ``bulwark scenario run --protect full``: a whole incident on a local chain.

The demo narrates each step as it happens, then prints a one-screen incident report and writes it
as Markdown and JSON under ``reports/<incident>/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import typer

DEFAULT_SCENARIO = "spot-price-collateral"

_STEP_TITLES = {
    "patch": "patch generated",
    "verify": "patch verified on a fork",
    "approve": "upgrade proposal signed",
    "upgrade": "proxy upgraded through Safe + timelock",
    "resume": "protocol resumed",
    "close": "incident closed, nothing left paused",
}


def _usd(wei: int) -> str:
    return f"{wei / 10**18:,.2f} USD"


class Narrator:
    """Prints one line per event, with the time since the demo started."""

    def __init__(self, echo: Callable[[str], None] = typer.echo) -> None:
        self.started = time.perf_counter()
        self.echo = echo

    def say(self, text: str) -> None:
        self.echo(f"[{time.perf_counter() - self.started:7.2f}s] {text}")

    def contained(self, out: Mapping[str, Any]) -> None:
        findings = out.get("findings") or []
        first = findings[0] if findings else None
        if first:
            when = "before inclusion" if first.get("before_inclusion") else "after inclusion"
            classes = ", ".join(dict.fromkeys(str(f.get("class")) for f in findings))
            self.say(f"detected     {classes} ({first.get('severity')}) {when}: {first.get('title')}")
        latency = out.get("response_latency_ms")
        if out.get("paused_before_attack"):
            self.say(
                f"contained    pause {out.get('pause_tx')} landed before the attack "
                f"({latency} ms to broadcast)"
            )
        else:
            self.say(f"contained    NOT before the attack (ordering: {out.get('pause_ordering')})")
        self.say(f"loss         {_usd(int(out.get('loss_wei', 0)))} during the attack window")

    def event(self, e: Any) -> None:
        title = _STEP_TITLES.get(e.step, e.step)
        if e.kind == "started":
            self.say(f"{e.step:<12} ...")
        elif e.kind == "done":
            rec = e.record
            extra = ""
            if e.step == "patch":
                n = len(rec.get("candidates", []))
                extra = f": {rec.get('class')} via {rec.get('template')} ({n} candidates)"
            elif e.step == "verify":
                extra = (
                    f": attack blocked={rec.get('attack_blocked')}, layout ok={rec.get('layout_ok')}, "
                    f"regressions={rec.get('regressions')}, evidence {str(rec.get('evidence_hash'))[:18]}…"
                )
            elif e.step == "approve":
                extra = f": {rec.get('signed')}/{rec.get('threshold')} signatures on {rec.get('proposal_id')}"
            elif e.step == "resume":
                extra = f": {len(rec.get('unpaused', []))} component(s) unpaused through governance"
            self.say(f"{e.step:<12} {title} in {e.seconds:.2f}s{extra}")
        elif e.kind == "waiting":
            self.say(f"{e.step:<12} waiting: {e.reason}")
        elif e.kind == "failed":
            self.say(f"{e.step:<12} FAILED: {e.reason}")


def report_markdown(out: Mapping[str, Any]) -> str:
    steps = out.get("steps_seconds") or {}
    ttv = sum(float(steps.get(k) or 0) for k in ("patch", "verify"))
    lines = [
        f"# Incident {out.get('incident')}: {out.get('scenario')} ({out.get('class')})",
        "",
        "| | |",
        "|---|---|",
        f"| attack transactions | {', '.join(out.get('attack_txs', []))} |",
        f"| loss | {_usd(int(out.get('loss_wei', 0)))} ({out.get('loss_wei')} wei) |",
        f"| paused before the attack | {out.get('paused_before_attack')} (pause {out.get('pause_tx')}) |",
        f"| time to contain | {out.get('response_latency_ms')} ms from mempool arrival to pause broadcast |",
        f"| time to verified patch | {ttv:.1f} s |",
        f"| verification | {json.dumps(out.get('verification'))} |",
        f"| evidence hash | `{out.get('evidence_hash')}` |",
        f"| proposal | {out.get('proposal_id')} |",
        f"| upgraded / resumed | {out.get('upgraded')} / {out.get('resumed')} |",
        f"| final state | {out.get('flow_state')} {out.get('flow_reason') or ''} |",
        "",
        "## Patch",
        "",
        "```diff",
        str(out.get("diff") or "(none)").rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def run_full(
    name: str,
    *,
    db: str | None,
    benign_txs: int,
    seed: int,
    regress: int,
    reports: Path,
    narrate: bool,
    remedy: str = "code",
) -> dict[str, Any]:
    from bulwark.cli.audit import database_url, demo_audit_key
    from bulwark.cli.scenario import scenario_named
    from bulwark.lab.full import FullOptions, run_scenario_full
    from bulwark.scenarios.runner import RunOptions
    from bulwark.store import Store

    scenario = scenario_named(name)
    reports = reports.resolve()  # the verifier compiles candidates from their absolute path
    narrator = Narrator() if narrate else None
    key, key_ref = demo_audit_key()  # the demo's own config: a keyed audit log
    store = Store(database_url(db), audit_key=key)
    try:
        if narrator:
            narrator.say(
                f"scenario     {name}: anvil, demo protocol (Safe 2-of-3 + timelock), {benign_txs} benign txs"
            )
        out = run_scenario_full(
            scenario,
            RunOptions(benign_txs=benign_txs, seed=seed),
            store=store,
            full=FullOptions(
                workdir=reports / "work",
                regress=regress,
                remedy=remedy,
                on_event=narrator.event if narrator else None,
                on_contained=narrator.contained if narrator else None,
            ),
        )
        if narrator and out.get("benign_after"):
            b = out["benign_after"]
            narrator.say(f"benign       after resumption: {b.get('txs')} txs, {b.get('reverted')} reverted")
        audit = store.verify_audit()
        out["audit_ok"] = audit.ok
        out["audit_mode"] = f"{audit.mode}; check with bulwark audit verify --audit-key {key_ref}"
    finally:
        store.close()
    folder = reports / str(out.get("incident") or f"run-{int(time.time())}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(out, indent=2, default=str))
    (folder / "report.md").write_text(report_markdown(out))
    out["report"] = str(folder / "report.md")
    return out


def _print_report(out: Mapping[str, Any]) -> None:
    typer.echo("")
    typer.echo(report_markdown(out))
    typer.echo(f"audit log    {'intact' if out.get('audit_ok') else 'BROKEN'} ({out.get('audit_mode')})")
    typer.echo(f"report       {out['report']} (and report.json)")


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        scenario: str = typer.Option(
            DEFAULT_SCENARIO, "--scenario", help="Attack to stage (`bulwark scenario list`)."
        ),
        db: str | None = typer.Option(None, "--db", help="Database URL (default: sqlite in ./.bulwark)."),
        benign_txs: int = typer.Option(
            40, "--benign-txs", min=0, help="Benign transactions before the attack."
        ),
        regress: int = typer.Option(
            20, "--regress", min=0, help="Benign transactions replayed in verification."
        ),
        reports: str = typer.Option("reports", "--reports", help="Where the incident report goes."),
        keep: bool = typer.Option(
            False, "--keep", help="Leave the dashboard running on the incident's store."
        ),
        port: int = typer.Option(8000, "--port", help="Dashboard port with --keep."),
    ) -> None:
        """A whole incident on a local chain: detect, contain, patch, verify, sign, upgrade, resume."""
        out = run_full(
            scenario,
            db=db,
            benign_txs=benign_txs,
            seed=0,
            regress=regress,
            reports=Path(reports),
            narrate=True,
        )
        _print_report(out)
        benign_ok = (
            int((out.get("benign_after") or {}).get("reverted", 1)) == 0
            or out.get("benign_expected_reverts") is not None
        )
        ok = (
            out.get("flow_state") == "closed"
            and int(out.get("loss_wei", 1)) == 0
            and benign_ok
            and out.get("audit_ok")
        )
        if keep:
            import uvicorn

            from bulwark.api import create_app
            from bulwark.cli.audit import database_url, demo_audit_key

            typer.echo(
                f"dashboard    http://127.0.0.1:{port}/incidents/{out.get('incident')} (Ctrl-C to stop)"
            )
            uvicorn.run(
                create_app(database_url(db), audit_key=demo_audit_key()[0]),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        if not ok:
            raise typer.Exit(1)
