"""``bulwark verify``: prove a candidate implementation before anyone signs it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bulwark.chain import run
from bulwark.domain import Address
from bulwark.errors import UsageError

if TYPE_CHECKING:
    from bulwark.config.invariants import FuzzConfig

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


def _address(value: str, what: str) -> Address:
    if not _ADDRESS.match(value):
        raise UsageError(f"{what} must be a 0x-prefixed 20-byte address, got {value!r}")
    return Address(value)


def _declared_invariants(config: Path, protocol: str | None) -> tuple[tuple[Any, ...], FuzzConfig]:
    """The protocol's invariants and its fuzz settings (``protocols.<name>.fuzz``)."""
    from bulwark.config import load_config

    cfg = load_config(config)
    if protocol is None:
        if len(cfg.protocols) != 1:
            raise UsageError(f"{config} declares several protocols: pick one with --protocol")
        protocol = next(iter(cfg.protocols))
    if protocol not in cfg.protocols:
        raise UsageError(f"no protocol {protocol!r} in {config} (have: {', '.join(cfg.protocols)})")
    try:
        return cfg.protocols[protocol].declared_invariants(), cfg.protocols[protocol].fuzz
    except ValueError as exc:
        raise UsageError(f"{config}: {exc}") from exc


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify_cmd(
        rpc: Annotated[
            str, typer.Option("--rpc", help="JSON-RPC URL of the live chain (forked, never written).")
        ],
        proxy: Annotated[str, typer.Option("--proxy", help="The ERC-1967/UUPS proxy to upgrade.")],
        candidate: Annotated[Path, typer.Option("--candidate", help="Solidity source of the candidate.")],
        contract: Annotated[
            str | None, typer.Option("--contract", help="Contract name in the candidate.")
        ] = None,
        attack_tx: Annotated[
            list[str] | None, typer.Option("--attack-tx", help="An observed attack transaction (repeat).")
        ] = None,
        poc: Annotated[
            Path | None, typer.Option("--poc", help="A Foundry PoC test run on the patched fork.")
        ] = None,
        regress: Annotated[int, typer.Option("--regress", help="Recent benign transactions to replay.")] = 20,
        live: Annotated[
            Path | None,
            typer.Option("--live", help="Source of the live implementation (default: by bytecode)."),
        ] = None,
        protect: Annotated[
            list[str] | None, typer.Option("--protect", help="Another contract whose assets count (repeat).")
        ] = None,
        asset: Annotated[
            list[str] | None, typer.Option("--asset", help="A token to count besides those the attack moved.")
        ] = None,
        upgrader: Annotated[
            str | None, typer.Option("--upgrader", help="Account allowed to upgrade (default: discovered).")
        ] = None,
        price_oracle: Annotated[
            str | None,
            typer.Option("--price-oracle", help="Contract with price(address) to value assets by."),
        ] = None,
        config: Annotated[
            Path | None,
            typer.Option("--config", "-c", help="bulwark.yaml whose protocol declares invariants to fuzz."),
        ] = None,
        protocol: Annotated[
            str | None, typer.Option("--protocol", help="Protocol of --config (default: its only one).")
        ] = None,
        defender: Annotated[
            list[str] | None,
            typer.Option(
                "--defender", help="Sentinel/relayer whose (containment) txs are not replayed (repeat)."
            ),
        ] = None,
        slither: Annotated[
            bool, typer.Option("--slither", help="Also run Slither's upgradeability checks.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        seed: Annotated[
            int | None,
            typer.Option(
                "--seed", min=0, help="Seed of the invariant fuzz (default: the config's fuzz.seed, else 0)."
            ),
        ] = None,
        evidence_out: Annotated[
            Path | None,
            typer.Option(
                "--evidence-out",
                help="Write the evidence bundle (what `propose --evidence` and `evidence check` take).",
            ),
        ] = None,
    ) -> None:
        """Upgrade safety, exploit replay, regression replay, invariants, cost -> verdict + evidence hash."""
        from bulwark.toolchain.solc import Compiler
        from bulwark.verify.engine import VerifyRequest, verify

        if not candidate.is_file():
            raise UsageError(f"candidate source {candidate} does not exist")
        if poc is not None and not poc.is_file():
            raise UsageError(f"PoC test {poc} does not exist")
        if live is not None and not live.is_file():
            raise UsageError(f"live source {live} does not exist")
        if regress < 0:
            raise UsageError("--regress must be zero or more")
        attack_tx, protect, asset = attack_tx or [], protect or [], asset or []
        from bulwark.config.invariants import FuzzConfig

        invariants, fuzz = (
            _declared_invariants(config, protocol) if config is not None else ((), FuzzConfig())
        )
        for h in attack_tx:
            if not _HASH.match(h):
                raise UsageError(f"--attack-tx must be a 0x-prefixed 32-byte hash, got {h!r}")
        request = VerifyRequest(
            rpc_url=rpc,
            proxy=_address(proxy, "--proxy"),
            candidate=candidate.resolve(),
            contract=contract,
            live_source=live.resolve() if live else None,
            attack_txs=tuple(attack_tx),
            poc=poc.resolve() if poc else None,
            regress=regress,
            protected=tuple(_address(p, "--protect") for p in protect),
            assets=tuple(_address(a, "--asset") for a in asset),
            upgrader=_address(upgrader, "--upgrader") if upgrader else None,
            price_oracle=_address(price_oracle, "--price-oracle") if price_oracle else None,
            defenders=tuple(_address(d, "--defender") for d in defender or []),
            invariants=invariants,
            fuzz_seed=fuzz.seed if seed is None else seed,
            fuzz_examples=fuzz.examples,
            fuzz_steps=fuzz.steps,
            slither=slither,
        )
        with Compiler() as compiler:
            verdict = run(verify(request, compiler=compiler))
        if evidence_out is not None:
            from bulwark.verify.bundle import evidence_bundle

            # The bundle: the document, its per-field digests and its hash (`bulwark evidence check`).
            evidence_out.write_text(json.dumps(evidence_bundle(verdict.evidence), indent=2, sort_keys=True))
        if as_json:
            typer.echo(json.dumps(verdict.summary()))
        else:
            typer.echo(f"{'PASS' if verdict.passed else 'FAIL'}  evidence {verdict.evidence_hash}")
            typer.echo(
                f"layout {'ok' if verdict.layout_ok else 'BROKEN'}; "
                f"safety {'ok' if verdict.safety_ok else 'FAILED'}; "
                f"attack {_attack(verdict.attack_blocked)}; regressions {verdict.regressions}; "
                f"gas overhead {verdict.gas_overhead_pct:+.2f}%"
            )
            for reason in verdict.reasons:
                typer.echo(f"  - {reason}")
            for note in verdict.notes:
                typer.echo(f"  note: {note}")
        if not verdict.passed:
            raise typer.Exit(1)


def _attack(blocked: bool | None) -> str:
    return "not replayed" if blocked is None else ("blocked" if blocked else "NOT BLOCKED")
