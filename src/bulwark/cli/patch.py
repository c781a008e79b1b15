"""``bulwark patch``: locate the flaw in a Solidity file and write the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bulwark.errors import CompileError, UsageError


def register(app: typer.Typer) -> None:
    @app.command("patch")
    def patch(
        path: Annotated[Path, typer.Argument(help="The Solidity file to repair.")],
        contract: Annotated[str | None, typer.Option("--contract", help="Only this contract.")] = None,
        solc: Annotated[
            str | None, typer.Option("--solc", help="Compiler version (default: from the pragma).")
        ] = None,
        trace: Annotated[Path | None, typer.Option("--trace", help="callTracer JSON of the attack.")] = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="Write patched sources here (same relative paths).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        no_slither: Annotated[
            bool, typer.Option("--no-slither", help="Only Bulwark's own checks (faster).")
        ] = False,
    ) -> None:
        """Find the vulnerable function and print (and optionally write) a compiled, ABI-preserving fix."""
        from bulwark.patch import PatchRequest
        from bulwark.toolchain.paths import project_root
        from bulwark.toolchain.solc import Compiler

        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        trace_data: dict[str, Any] | None = None
        if trace is not None:
            try:
                trace_data = json.loads(trace.read_text())
            except (OSError, ValueError) as exc:
                raise UsageError(f"cannot read trace {trace}: {exc}") from exc
        full = path.resolve()
        root = project_root()
        if not full.is_relative_to(root):
            # outside the project: paths (and --out) relative to the working folder when it holds the file
            cwd = Path.cwd().resolve()
            root = cwd if full.is_relative_to(cwd) else full.parent
        with Compiler(root=root) as compiler:
            from bulwark.patch.engine import analyse, patches_for

            request = PatchRequest(
                paths=[full],
                contract=contract,
                solc_version=solc,
                trace=trace_data,
                use_slither=not no_slither,
            )
            try:
                analysis = analyse(request, compiler)
            except CompileError as exc:
                raise CompileError(
                    f"{path} does not compile, so there is nothing to patch: {exc.user_message}",
                    errors=exc.errors,
                ) from exc
            patches = patches_for(analysis, compiler)
        findings = analysis.findings
        best = patches[0] if patches else None
        written: str | None = None
        if best is not None and out is not None:
            for rel, text in best.patched_sources.items():
                dest = out / (Path(rel).relative_to("/") if Path(rel).is_absolute() else Path(rel))
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(text, encoding="utf-8")
            written = str(out)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "findings": [
                            {
                                "detector": f.detector,
                                "class": f.vuln_class.value,
                                "contract": f.contract,
                                "function": f.function,
                                "lines": list(f.lines),
                                "score": f.score,
                            }
                            for f in findings
                        ],
                        "patches": [
                            {
                                "class": p.vuln_class.value,
                                "contract": p.contract,
                                "function": p.function,
                                "template": p.template,
                                "diff": p.diff,
                            }
                            for p in patches
                        ],
                        "compiled": bool(patches) and all(p.compiled for p in patches),
                        "out": written,
                    }
                )
            )
            return
        for f in findings:
            where = f"{f.contract}.{f.function}" if f.function else f.contract
            typer.echo(f"finding  {f.score:.2f}  {f.vuln_class.value:<22} {where}  ({f.detector})")
        if best is None:
            typer.echo("no patch: nothing to fix" if not findings else "no patch: no template applies")
            return
        typer.echo(f"patch    {best.template} for {best.contract}.{best.function} (solc {best.solc_version})")
        typer.echo(best.diff, nl=False)
        if written:
            typer.echo(f"wrote {len(best.patched_sources)} file(s) to {written}")
