"""``bulwark evidence check BUNDLE``: what a signer runs on the evidence a proposal names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from bulwark.cli.audit import DB_OPTION, open_store
from bulwark.errors import UsageError

_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


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
            typer.Option("--rpc", help="Archive RPC: also re-run the verification on a fork and compare."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Recompute the evidence hash from the bundle alone; name any field altered since export."""
        from bulwark.verify.bundle import check_bundle, load_bundle

        if expect is not None and not _HASH.fullmatch(expect):
            raise UsageError(f"--expect must be a 0x-prefixed 32-byte hash, got {expect!r}")
        data = load_bundle(bundle)
        result = check_bundle(data, expected=expect)
        if as_json:
            out = result.summary()
            if result.ok and rpc is not None:
                from bulwark.verify.rerun import rerun_bundle

                again = rerun_bundle(data, rpc)
                out["rerun"] = again.summary()
                out["ok"] = again.same_verdict
            typer.echo(json.dumps(out))
            if not out["ok"]:
                raise typer.Exit(1)
            return
        result.raise_if_altered(bundle)
        verdict = "PASS" if result.passed else "FAIL"
        typer.echo(f"OK  evidence {result.evidence_hash}  (recorded verdict: {verdict})")
        if rpc is not None:
            _rerun(data, rpc)

    @evidence_app.command("export")
    def export_cmd(
        which: Annotated[str, typer.Argument(help="A proposal id, or an evidence hash in the store.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the bundle (JSON).")],
        db: str | None = DB_OPTION,
    ) -> None:
        """Write the evidence bundle a proposal cites, for signers and anyone else to check."""
        from bulwark.verify.bundle import stored_bundle

        store = open_store(db)
        try:
            if _HASH.fullmatch(which):
                evidence_hash = which
            else:
                from bulwark.govern.proposal import load

                evidence_hash = load(store, which)[0].evidence_hash
            bundle = stored_bundle(store, evidence_hash)
        finally:
            store.close()
        out.write_text(json.dumps(bundle, indent=2, sort_keys=True) + "\n")
        typer.echo(f"{out}  evidence {bundle['evidence_hash']}")

    app.add_typer(evidence_app, name="evidence")


def _rerun(data: Any, rpc: str) -> None:
    """Verify the bundle's candidate again on a fork of ``rpc``; exit 1 when the verdict differs."""
    from bulwark.verify.rerun import rerun_bundle

    again = rerun_bundle(data, rpc)
    verdict = "PASS" if again.reproduced_passed else "FAIL"
    hashes = (
        "same evidence hash"
        if again.recorded_hash == again.reproduced_hash
        else (f"evidence hash {again.reproduced_hash}: {', '.join(again.differing)} came out differently")
    )
    if again.same_verdict:
        typer.echo(f"REPRODUCED  verdict {verdict}, same reasons; {hashes}")
        return
    typer.echo(
        f"DIFFERENT  re-run verdict {verdict} with reasons {list(again.reproduced_reasons)}; recorded "
        f"{'PASS' if again.recorded_passed else 'FAIL'} with {list(again.recorded_reasons)}; {hashes}"
    )
    raise typer.Exit(1)
