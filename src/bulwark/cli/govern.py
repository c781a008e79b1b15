"""``bulwark propose | approve | reject | execute | proposals``: the governance path for humans."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer

from bulwark.cli.audit import DB_OPTION, open_store

T = TypeVar("T")

KEY_OPTION = typer.Option(
    ..., "--key", help="Signer key: env:NAME, file:PATH or keystore:PATH (a keystore needs --password)."
)
PASSWORD_OPTION = typer.Option(None, "--password", help="Keystore password reference: env:NAME or file:PATH.")
RPC_OPTION = typer.Option(None, "--rpc", help="JSON-RPC URL (default: $BULWARK_RPC_URL).", show_default=False)
EVIDENCE_OPTION = typer.Option(
    None, "--evidence", help="Evidence file written by `bulwark verify --evidence-out` (re-hashed)."
)
BATCH_OUT_OPTION = typer.Option(Path("."), "--out", help="Folder for the batch files.")
CONFIG_OPTION = typer.Option(Path("bulwark.yaml"), "--config", "-c", help="Configuration file.")


def load_key(reference: str, password: str | None = None) -> str:
    """A private key from ``env:NAME``, ``file:PATH`` (hex, or a keystore JSON with ``password``)
    or ``keystore:PATH``, through the one secret resolver."""
    from bulwark.config.secrets import KEY_SCHEMES, parse_reference

    key = parse_reference(reference, field="--key", schemes=KEY_SCHEMES, base_dir=Path.cwd())
    pw = parse_reference(password, field="--password", base_dir=Path.cwd()) if password else None
    return key.private_key(pw)


def _rpc(rpc: str | None) -> str:
    from bulwark.errors import UsageError

    url = rpc or os.environ.get("BULWARK_RPC_URL")
    if not url:
        raise UsageError("no RPC endpoint: give --rpc URL or set BULWARK_RPC_URL")
    return url


@dataclass
class _Ctx:
    rpc: str
    db: str | None
    config: Path | None = None  # its audit_key keys what this command writes to the log


def _run(ctx: _Ctx, body: Callable[[Any, Any], Coroutine[Any, Any, T]]) -> T:
    from bulwark.chain import ChainClient, run
    from bulwark.config import load_config

    store = open_store(ctx.db, None, load_config(ctx.config) if ctx.config is not None else None)

    async def go() -> T:
        async with ChainClient(ctx.rpc) as client:
            return await body(client, store)

    try:
        return run(go())
    finally:
        store.close()


def _print_status(st: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(st.to_json()))
        return
    typer.echo(f"{st.proposal_id}: {st.state.value}, {len(st.signed)}/{st.threshold} signed")
    for a in st.signed:
        typer.echo(f"  signed   {a}")
    for a in st.rejected_by:
        typer.echo(f"  rejected {a}")
    for a in st.missing:
        typer.echo(f"  missing  {a}")


def _policy(config: Path, protocol: str) -> tuple[Any, Any, str]:
    """(Policy, PolicyConfig, rpc url reference) for ``protocol`` from the configuration file."""
    from bulwark.config import load_config
    from bulwark.errors import ConfigError

    cfg = load_config(config)
    policies = getattr(cfg, "policies", None) or {}
    if protocol not in cfg.protocols:
        raise ConfigError(f"no protocol {protocol!r} in {config}")
    if protocol not in policies:
        raise ConfigError(f"no governance policy for {protocol!r} in {config} (add policies.{protocol})")
    proto = cfg.protocols[protocol]
    contracts = {name: c.address for name, c in proto.contracts.items()}
    pcfg = policies[protocol]
    try:
        pol = pcfg.to_policy(protocol, contracts)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return pol, pcfg, cfg.networks[proto.network].rpc_http.resolve()


def _evidence_file(path: Path) -> dict[str, Any]:
    """An evidence document from a file; its hash is recomputed when it is stored."""
    from bulwark.errors import UsageError
    from bulwark.verify.bundle import BUNDLE_FORMAT, unwrap_bundle

    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the evidence file {path}: {exc}") from None
    if isinstance(doc, dict) and doc.get("format") == BUNDLE_FORMAT:
        return unwrap_bundle(doc, path)  # refused unless it checks out
    if not isinstance(doc, dict) or "pass" not in doc:
        raise UsageError(f"{path} is not an evidence document (write one with bulwark verify --evidence-out)")
    return doc


def register(app: typer.Typer) -> None:
    @app.command("propose")
    def propose(
        protocol: str = typer.Option(..., "--protocol", help="Protocol name in the configuration."),
        component: str = typer.Option(..., "--component", help="The proxy to upgrade (a policy proxy name)."),
        implementation: str = typer.Option(..., "--implementation", help="Deployed, verified impl."),
        evidence_hash: str | None = typer.Option(
            None, "--evidence-hash", help="Evidence hash of a verdict in the store (or of --evidence)."
        ),
        evidence: Path | None = EVIDENCE_OPTION,
        severity: str | None = typer.Option(None, "--severity", help="Incident severity (picks the rule)."),
        incident: str | None = typer.Option(None, "--incident", help="Incident id to attach it to."),
        unpause_after: bool = typer.Option(False, "--unpause-after", help="Also propose the unpause."),
        config: Path = CONFIG_OPTION,
        rpc: str | None = RPC_OPTION,
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Check the policy against the chain, then store the upgrade proposal (and its unpause)."""
        from bulwark.domain import Severity
        from bulwark.errors import UsageError
        from bulwark.govern import check_policy, propose_unpause, propose_upgrade

        pol, _, url = _policy(config, protocol)
        document = _evidence_file(evidence) if evidence is not None else None
        if document is None and evidence_hash is None:
            raise UsageError(
                "give --evidence FILE (from bulwark verify) or --evidence-hash of a stored verdict"
            )

        @dataclass(frozen=True)
        class _Reference:
            """Names the evidence; propose_upgrade trusts only the stored document."""

            passed: bool
            evidence_hash: str

        async def body(client: Any, store: Any) -> list[Any]:
            await check_policy(client, pol)
            ref = evidence_hash
            if document is not None:
                stored = store.put_evidence(document, incident_id=incident)
                if ref is not None and ref.lower() != stored:
                    raise UsageError(f"{evidence} hashes to {stored}, not to --evidence-hash {ref}")
                ref = stored
            assert ref is not None
            sev = Severity.parse(severity) if severity else None
            up = await propose_upgrade(
                client,
                store,
                pol,
                _Reference(True, ref),
                component=component,
                implementation=implementation,
                severity=sev,
                incident_id=incident,
            )
            out = [up]
            if unpause_after:
                out.append(await propose_unpause(client, store, pol, after=up.id, severity=sev))
            return out

        made = _run(_Ctx(rpc or url, db, config), body)
        if as_json:
            typer.echo(json.dumps([p.to_json() for p in made]))
            return
        for p in made:
            typer.echo(f"{p.id}: {p.description}")
            for t in p.safe_txs:
                typer.echo(f"  sign {t.step:<17} nonce {t.nonce}  safeTxHash {t.safe_tx_hash}")

    @app.command("approve")
    def approve_cmd(
        proposal_id: str = typer.Argument(..., help="The proposal to sign."),
        key: str = KEY_OPTION,
        password: str | None = PASSWORD_OPTION,
        rpc: str | None = RPC_OPTION,
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Sign the proposal's Safe transactions (EIP-712) and record the approval."""
        from bulwark.govern import approve

        secret = load_key(key, password)
        st = _run(_Ctx(_rpc(rpc), db), lambda c, s: approve(c, s, proposal_id, secret))
        _print_status(st, as_json)

    @app.command("reject")
    def reject_cmd(
        proposal_id: str = typer.Argument(..., help="The proposal to veto."),
        key: str = KEY_OPTION,
        password: str | None = PASSWORD_OPTION,
        reason: str = typer.Option("", "--reason"),
        rpc: str | None = RPC_OPTION,
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Veto the proposal: it will never execute."""
        from bulwark.govern import reject

        secret = load_key(key, password)
        st = _run(_Ctx(_rpc(rpc), db), lambda c, s: reject(c, s, proposal_id, secret, reason=reason))
        _print_status(st, as_json)

    @app.command("execute")
    def execute_cmd(
        proposal_id: str = typer.Argument(..., help="An approved proposal."),
        key: str = typer.Option(..., "--key", help="Relayer key that submits the Safe transactions."),
        password: str | None = PASSWORD_OPTION,
        wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait out the timelock delay."),
        protocol: str | None = typer.Option(None, "--protocol", help="Protocol (for its smoke calls)."),
        config: Path = CONFIG_OPTION,
        rpc: str | None = RPC_OPTION,
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Schedule on the timelock, wait the delay (countdown), execute, run the post-checks."""
        from bulwark.chain import Signer
        from bulwark.execute import execute_proposal

        smoke: tuple[Any, ...] = ()
        url = rpc
        if protocol is not None:
            pol, pcfg, cfg_url = _policy(config, protocol)
            smoke = pcfg.smoke_calls(dict(pol.proxies))
            url = url or cfg_url
        signer = Signer(load_key(key, password))

        def countdown(left: int) -> None:
            if not as_json:
                typer.echo(f"timelock: {left}s left ({time.strftime('%H:%M:%S')})")

        result = _run(
            _Ctx(_rpc(url), db, config if protocol is not None else None),
            lambda c, s: execute_proposal(
                c, s, proposal_id, sender=signer, smoke=smoke, wait=wait, on_countdown=countdown
            ),
        )
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "proposal_id": result.proposal_id,
                        "state": result.state.value,
                        "txs": list(result.tx_hashes),
                        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in result.checks],
                    }
                )
            )
            return
        typer.echo(f"{result.proposal_id}: {result.state.value}")
        for c in result.checks:
            typer.echo(f"  {'ok  ' if c.ok else 'FAIL'} {c.name}")

    @app.command("proposal-batch")
    def proposal_batch_cmd(
        proposal_id: str = typer.Argument(..., help="The proposal to export."),
        out: Path = BATCH_OUT_OPTION,
        db: str | None = DB_OPTION,
    ) -> None:
        """Write the proposal as Safe Transaction Builder batch files (one per Safe transaction),
        for owners who sign in the Safe's own interface."""
        from bulwark.govern import load
        from bulwark.govern.builder import transaction_builder_batches

        store = open_store(db)
        try:
            proposal, _ = load(store, proposal_id)
        finally:
            store.close()
        out.mkdir(parents=True, exist_ok=True)
        batches = transaction_builder_batches(proposal, created_at_ms=int(proposal.created_at * 1000))
        for step, batch in batches.items():
            path = out / f"{proposal.id}-{step.replace('+', '-')}.json"
            path.write_text(json.dumps(batch, indent=2) + "\n")
            typer.echo(f"{step:<17} {path}")

    @app.command("proposals")
    def proposals_cmd(
        db: str | None = DB_OPTION,
        incident: str | None = typer.Option(None, "--incident"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List stored proposals with their state and who has signed."""
        from bulwark.govern import proposals, status

        store = open_store(db)
        try:
            rows = [(p, status(store, p.id)) for p, _ in proposals(store, incident)]
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps([{**p.to_json(), "status": st.to_json()} for p, st in rows]))
            return
        if not rows:
            typer.echo("no proposals")
        for p, st in rows:
            typer.echo(
                f"{p.id}  {st.state.value:<9} {p.action.value:<7} {p.component:<10} "
                f"{len(st.signed)}/{st.threshold} signed  evidence {p.evidence_hash[:18]}…"
            )
