"""``bulwark evidence check BUNDLE``: what a signer runs on the evidence a proposal names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from bulwark.errors import UsageError


def register(app: typer.Typer) -> None:
    evidence_app = typer.Typer(help="Check an exported evidence bundle.", no_args_is_help=True)

    @evidence_app.command("check")
    def check_cmd(
        bundle: Annotated[
            Path, typer.Argument(help="Evidence bundle (written by `bulwark verify --evidence-out`).")
        ],
        expect: Annotated[
            str | None,
            typer.Option("--expect", help="The evidence hash the proposal names (timelock salt)."),
        ] = None,
        rpc: Annotated[
            str | None,
            typer.Option("--rpc", help="Archive RPC to re-run the verification on (not supported yet)."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Recompute the evidence hash from the bundle alone; name any field altered since export."""
        from bulwark.verify.bundle import check_bundle, load_bundle

        if rpc is not None:
            raise UsageError(
                "--rpc: re-running the verification from a bundle is not supported yet; "
                "run `bulwark evidence check BUNDLE` without --rpc for the offline check"
            )
        if expect is not None and not re.fullmatch(r"0x[0-9a-fA-F]{64}", expect):
            raise UsageError(f"--expect must be a 0x-prefixed 32-byte hash, got {expect!r}")
        data = load_bundle(bundle)
        result = check_bundle(data, expected=expect)
        if as_json:
            typer.echo(json.dumps(result.summary()))
            if not result.ok:
                raise typer.Exit(1)
            return
        result.raise_if_altered(bundle)
        verdict = "PASS" if result.passed else "FAIL"
        typer.echo(f"OK  evidence {result.evidence_hash}  (recorded verdict: {verdict})")

    app.add_typer(evidence_app, name="evidence")
