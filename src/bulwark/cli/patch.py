"""``bulwark patch``: locate the flaw in a Solidity file and write the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bulwark.errors import CompileError, UsageError

if TYPE_CHECKING:
    from bulwark.domain.patch import Patch
    from bulwark.patch.cost import PatchCost
    from bulwark.patch.engine import Confidence

# One exit code per conclusion (1 and 2 stay the usual error and usage-error codes).
EXIT_CODES = {"patched": 0, "abstained": 3, "clean": 4, "no-contract": 5}


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
        """Find the vulnerable function and print (and optionally write) a compiled, ABI-preserving fix.

        \b
        Status (JSON "status") and exit code:
          patched      0  a candidate compiles with ABI and storage layout kept
          abstained    3  a flaw found, no candidate validated ("rejected": why)
          clean        4  analysed, no finding strong enough to patch
          no-contract  5  no contract: empty, comments, interfaces/libraries only
        Errors exit 1 (e.g. the source does not compile), usage errors 2.

        \b
        Confidence, in [0, 1], on every finding and candidate:
          finding    localisation score (detectors, agreement, trace)
          candidate  localisation (less 0.02 per lower-ranked template)
                     x validation (0.8: compiled, ABI and layout kept,
                     no exploit replayed; 0.5 when behaviour changed,
                     0.3 when a synthesised attack still works)

        \b
        Behaviour and attack checks (JSON "behaviour", "attack" per candidate):
        each candidate and the original run the same seeded, ABI-built call
        sequences in an in-process EVM; "changes" lists where they differ
        ("expected": a refusal on the flaw path). The attack's shape
        (re-entry, non-owner, relayed owner, overflow boundary, race,
        sandwich) is synthesised from the finding; a candidate it still
        gets through, or that breaks behaviour, is ranked below the others.
        Caller changes (JSON "caller_changes" per candidate): how callers
        must now call, when a fix changes the calling protocol (a
        commit-reveal: call "first" with keccak256(abi.encodePacked(
        "preimage"...)) of "preimage_types", "blocks_before" blocks earlier).
        Cost of the applied patch ("cost"): runtime size before/after from an
        optimised compile; gas of each patched function from a call in an
        in-process EVM (pyrevm).
        """
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
            from bulwark.patch.engine import MIN_SCORE, analyse, candidates, confidence, status

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
            generation = candidates(analysis, compiler)
        patches = generation.patches
        findings = analysis.findings
        outcome = status(analysis, patches).value
        best = patches[0] if patches else None
        written: str | None = None
        if best is not None and out is not None:
            for rel, text in best.patched_sources.items():
                dest = out / (Path(rel).relative_to("/") if Path(rel).is_absolute() else Path(rel))
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(text, encoding="utf-8")
            written = str(out)
        cost = generation.cost.to_json() if generation.cost is not None else None
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "status": outcome,
                        "findings": [
                            {
                                "detector": f.detector,
                                "class": f.vuln_class.value,
                                "contract": f.contract,
                                "function": f.function,
                                "lines": list(f.lines),
                                "score": f.score,
                                "confidence": f.score,
                                "confidence_basis": "localisation: "
                                + "; ".join(f.evidence or (f"detector {f.detector}",)),
                                "patched": f.score >= MIN_SCORE,
                            }
                            for f in findings
                        ],
                        "patches": [
                            _patch_json(p, confidence(p), cost if i == 0 else None)
                            for i, p in enumerate(patches)
                        ],
                        "rejected": [
                            {
                                "contract": r.contract,
                                "function": r.function,
                                "class": r.vuln_class,
                                "template": r.template,
                                "reason": r.reason,
                            }
                            for r in generation.rejected
                        ],
                        "notes": [*analysis.notes, *generation.notes],
                        "compiled": bool(patches) and all(p.compiled for p in patches),
                        "out": written,
                    }
                )
            )
            raise typer.Exit(EXIT_CODES[outcome])
        for note in (*analysis.notes, *generation.notes):
            typer.echo(f"note     {note}")
        for f in findings:
            where = f"{f.contract}.{f.function}" if f.function else f.contract
            typer.echo(f"finding  {f.score:.2f}  {f.vuln_class.value:<22} {where}  ({f.detector})")
        if best is None:
            typer.echo(_no_patch_line(outcome, path))
            for r in generation.rejected:
                where = f"{r.contract}.{r.function}" if r.function else r.contract
                typer.echo(f"rejected {where} [{r.template or r.vuln_class}]: {r.reason}")
            raise typer.Exit(EXIT_CODES[outcome])
        conf = confidence(best)
        typer.echo(
            f"patch    {best.template} for {best.contract}.{best.function} (solc {best.solc_version}), "
            f"confidence {conf.value:.2f} = localisation {conf.localisation:.2f} "
            f"x validation {conf.validation:.2f}"
        )
        for line in _validation_lines(best):
            typer.echo(line if line.startswith("attack") else f"check    {line}")
        for change in best.caller_changes:
            typer.echo(f"callers  {change.contract}.{change.function}: {change.text}")
        if generation.cost is not None:
            for line in _cost_lines(generation.cost):
                typer.echo(line)
        typer.echo(best.diff, nl=False)
        if written:
            typer.echo(f"wrote {len(best.patched_sources)} file(s) to {written}")


def _no_patch_line(outcome: str, path: Path) -> str:
    if outcome == "no-contract":
        return (
            f"no patch: {path} holds no contract to analyse (empty, comments, or only interfaces/libraries)"
        )
    if outcome == "clean":
        return "no patch: analysed, no vulnerability found"
    return "no patch: a vulnerability was found but no candidate survived validation (abstained)"


def _patch_json(p: Patch, conf: Confidence, cost: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "class": p.vuln_class.value,
        "contract": p.contract,
        "function": p.function,
        "template": p.template,
        "diff": p.diff,
        "confidence": conf.value,
        "confidence_basis": {
            "formula": "localisation x validation",
            "localisation": conf.localisation,
            "validation": conf.validation,
            "validated": list(conf.validated),
            "not_validated": list(conf.not_validated),
        },
        "applied": cost is not None,
        "cost": cost,
        "behaviour": _behaviour_json(p),
        "attack": (
            {"shape": p.attack.shape, "outcome": p.attack.outcome, "detail": p.attack.detail}
            if p.attack
            else None
        ),
        # how callers must now call (e.g. commit before revealing): behaviour the patch changes on purpose
        "caller_changes": [c.to_json() for c in p.caller_changes],
    }


def _behaviour_json(p: Patch) -> dict[str, Any]:
    """Which behaviours the candidate changed against the original; "expected" marks a restriction
    on the flaw path (the localised function refusing a call), anything else is a broken behaviour."""
    b = p.behaviour
    if b is None:
        return {"checked": False, "kept": None, "note": "not checked", "changes": []}
    return {
        "checked": b.checked,
        "kept": b.kept,
        "note": b.note,
        "sequences": b.sequences,
        "calls": b.calls,
        "changes": [
            {
                "function": c.function,
                "sender": c.sender,
                "what": c.what,
                "expected": c.expected,
                "call": c.detail,
            }
            for c in b.changes
        ],
    }


def _validation_lines(p: Patch) -> list[str]:
    out: list[str] = []
    b = p.behaviour
    if b is not None and b.kept:
        flaw = sum(1 for c in b.changes if c.expected)
        out.append(
            f"behaviour kept on {b.sequences} generated call sequences ({b.calls} calls)"
            + (f"; {flaw} restriction(s) on the flaw path" if flaw else "")
        )
    elif b is not None and b.checked:
        out.extend(
            f"behaviour CHANGED {c.function} from {c.sender}: {c.what} ({c.detail})"
            for c in b.changes
            if not c.expected
        )
    elif b is not None:
        out.append(f"behaviour {b.note}")
    if p.attack is not None:
        out.append(f"attack   {p.attack.shape}: {p.attack.outcome} ({p.attack.detail})")
    return out


def _cost_lines(cost: PatchCost) -> list[str]:
    if cost.size_before is None or cost.size_after is None:
        return [f"cost     size {cost.size_source}", f"cost     gas {cost.gas_source}"]
    pct = cost.size_overhead_pct or 0.0
    out = [
        f"cost     runtime size {cost.size_before} -> {cost.size_after} bytes ({pct:+.2f}%), "
        f"{cost.size_source}"
    ]
    for g in cost.gas:
        out.append(f"cost     gas {g.function} {g.before} -> {g.after} ({g.overhead_pct:+.2f}%)")
    out.append(
        f"cost     gas measured by {cost.gas_source}" if cost.gas else f"cost     gas {cost.gas_source}"
    )
    out.extend(f"cost     gas not measured for {s}" for s in cost.gas_skipped)
    return out
