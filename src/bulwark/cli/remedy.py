"""``bulwark remedy``: remediation by state — the setter catalogue, and a scenario's parameter remedy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bulwark.errors import UsageError


def register(app: typer.Typer) -> None:
    remedy = typer.Typer(help="Remedies by state: administrative setters and parameter changes.")
    app.add_typer(remedy, name="remedy")

    @remedy.command("catalogue")
    def catalogue_cmd(
        source: Annotated[Path, typer.Option("--source", help="Solidity source of the contract.")],
        contract: Annotated[str, typer.Option("--contract", help="Contract name.")],
        component: Annotated[str, typer.Option("--component", help="Its name in bulwark.yaml.")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    ) -> None:
        """List the contract's administrative setters and the finding classes inferred for each
        (confirm them in bulwark.yaml under ``remedies.<protocol>.setters``)."""
        from dataclasses import asdict

        from bulwark.remedy.catalogue import catalogue
        from bulwark.toolchain.solc import Compiler

        if not source.is_file():
            raise UsageError(f"no such source file: {source}")
        with Compiler() as compiler:
            setters = catalogue(compiler.compile_files([source.resolve()]), contract, component)
        if as_json:
            typer.echo(json.dumps({"setters": [asdict(s) for s in setters]}))
            return
        for s in setters:
            stored = ", ".join(f"{p.name}->{p.stored_in or '?'}" for p in s.params)
            typer.echo(f"{s.key:32} {s.guard:28} writes {', '.join(s.writes)}  [{stored}]")
            typer.echo(f"{'':32} classes (inferred): {', '.join(s.classes) or 'none'}")

    @remedy.command("scenario")
    def scenario_cmd(
        name: Annotated[str, typer.Argument(help="Scenario of the corpus (`bulwark scenario list`).")],
        benign_txs: Annotated[int, typer.Option("--benign-txs", min=0)] = 12,
        regress: Annotated[int, typer.Option("--regress", min=0)] = 12,
        forward: Annotated[int, typer.Option("--forward", min=0, help="Benign txs simulated forward.")] = 12,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    ) -> None:
        """Play the scenario's attack, then find, verify and measure its smallest parameter remedy."""
        from bulwark.chain import run
        from bulwark.cli.scenario import scenario_named
        from bulwark.lab.remedy import run_scenario_remedy
        from bulwark.toolchain.solc import Compiler

        scenario = scenario_named(name)
        with Compiler() as compiler:
            out = run(
                run_scenario_remedy(
                    scenario, compiler, benign_txs=benign_txs, regress=regress, forward_txs=forward
                )
            )
        if as_json:
            typer.echo(json.dumps(out))
            raise typer.Exit(0 if out["passed"] else 1)
        typer.echo(f"scenario   {out['scenario']} ({out['class']})")
        for a in out["attempts"]:
            verdict = "stops the attack" if a["blocked"] else "rejected: " + "; ".join(a["reasons"])
            typer.echo(f"tried      {a['remedy']}: {verdict}")
        if out["remedy"] is None:
            typer.echo("remedy     none: " + "; ".join(out["reasons"]))
            raise typer.Exit(1)
        typer.echo(f"remedy     {', '.join(c['call'] for c in out['calls'])} ({out['strategy']})")
        typer.echo(f"verified   {'pass' if out['passed'] else 'FAIL'}; evidence {out['evidence_hash']}")
        impact = out["impact"] or {}
        typer.echo(
            f"impact     {impact.get('benign_failed')} benign txs would have failed "
            f"(of {impact.get('replayed', 0) + impact.get('simulated', 0)}); blocked: "
            f"{', '.join(impact.get('blocked_functions', [])) or 'none'}"
        )
        for key in ("largest_price_change", "largest_liquidity_change"):
            m = impact.get(key)
            if m:
                change = f"{m['original']} -> {m['remedied']} ({m['change_pct']}%)"
                typer.echo(f"{key.split('_')[1]:10} {m['label']} {change}")
        if not out["passed"]:
            raise typer.Exit(1)
