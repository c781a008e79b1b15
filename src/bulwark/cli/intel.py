"""``bulwark intel publish|pull|list``: signed threat intelligence between protocols."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from bulwark.cli.audit import DB_OPTION, open_store

CONFIG_OPTION = typer.Option(None, "-c", "--config", help="bulwark.yaml with an `intel:` section.")
OUT_OPTION = typer.Option(None, "--out", help="Write the bundle into this directory (file feed).")
VICTIM_OPTION = typer.Option([], "--victim", help="A protocol contract (default: those named).")
ATTACK_TX_OPTION = typer.Option([], "--attack-tx", help="More attack transactions (deployments).")
SOURCE_OPTION = typer.Option(None, "--source", help="Vulnerable source to fingerprint.")
REQUIRED_CONFIG_OPTION = typer.Option(..., "-c", "--config", help="bulwark.yaml with an `intel:` section.")


def register(app: typer.Typer) -> None:
    intel = typer.Typer(help="Signed threat intelligence: publish, pull, list, scan.", no_args_is_help=True)
    app.add_typer(intel, name="intel")
    register_scan(intel)

    @intel.command("publish")
    def publish(
        incident_id: str = typer.Argument(..., help="The incident to learn from."),
        db: str | None = DB_OPTION,
        key: str | None = typer.Option(
            None, "--key", help="Publisher key: env:NAME, file:PATH or keystore:PATH."
        ),
        password: str | None = typer.Option(
            None, "--password", help="Keystore password: env:NAME|file:PATH."
        ),
        out: Path | None = OUT_OPTION,
        taxii: str | None = typer.Option(None, "--taxii", help="TAXII 2.1 API root to publish to."),
        collection: str | None = typer.Option(None, "--collection", help="TAXII collection id."),
        rpc: str = typer.Option(..., "--rpc", help="JSON-RPC URL of the chain the incident happened on."),
        victim: list[str] = VICTIM_OPTION,
        attack_tx: list[str] = ATTACK_TX_OPTION,
        source: Path | None = SOURCE_OPTION,
        contract: str | None = typer.Option(None, "--contract", help="Contract in --source."),
        config: Path | None = CONFIG_OPTION,
        ttl_days: int | None = typer.Option(None, "--ttl-days", min=1, max=365),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Derive indicators from INCIDENT_ID, sign them, put the bundle on a feed."""
        from datetime import timedelta

        from bulwark.app.intel import (
            evidence_for_incident,
            feeds_from_config,
            incident_indicators,
            load_intel_config,
            publish_incident,
            vulnerable_code,
        )
        from bulwark.chain import ChainClient, Signer, run
        from bulwark.config.secrets import KEY_SCHEMES, parse_reference
        from bulwark.domain import VulnClass
        from bulwark.errors import UsageError
        from bulwark.intel.feeds import FileFeed, TaxiiFeed
        from bulwark.intel.indicators import VulnerableCode
        from bulwark.toolchain.solc import Compiler

        cfg = load_intel_config(config) if config is not None else None
        base = config.parent if config is not None else Path(".")
        key_ref = (
            parse_reference(key, field="--key", schemes=KEY_SCHEMES, base_dir=Path.cwd())
            if key
            else (cfg.publisher_key if cfg else None)
        )
        if key_ref is None:
            raise UsageError("no publisher key: give --key env:NAME|keystore:PATH or intel.publisher_key")
        password_ref = (
            parse_reference(password, field="--password", base_dir=Path.cwd())
            if password
            else (cfg.publisher_password.anchored(base) if cfg and cfg.publisher_password else None)
        )
        signer = Signer(key_ref.anchored(base).private_key(password_ref))
        feed: FileFeed | TaxiiFeed
        if out is not None and taxii is not None:
            raise UsageError("--out and --taxii are exclusive")
        if out is not None:
            feed = FileFeed(out)
        elif taxii is not None:
            if not collection:
                raise UsageError("--taxii needs --collection")
            feed = TaxiiFeed(taxii, collection)
        elif cfg is not None and cfg.publish_to is not None:
            feed = feeds_from_config(cfg, base)[cfg.publish_to]
        else:
            raise UsageError("where to? give --out DIR, --taxii URL --collection ID, or intel.publish_to")
        if (source is None) != (contract is None):
            raise UsageError("--source and --contract go together")
        ttl = timedelta(days=ttl_days or (cfg.ttl_days if cfg else 30))

        store = open_store(db)
        try:
            record = store.incident(incident_id)
            victims = list(victim) or sorted(
                {str(f["contract"]) for f in store.findings(incident_id) if f.get("contract")}
            )
            vulnerable: tuple[VulnerableCode, ...] = ()
            if source is not None:
                try:
                    vc: VulnClass | None = VulnClass(record.vuln_class)
                except ValueError:
                    vc = None
                with Compiler() as compiler:
                    vulnerable = vulnerable_code(compiler, source, contract, vc)

            async def go() -> dict[str, Any]:
                async with ChainClient(rpc) as client:
                    evidence = await evidence_for_incident(
                        client,
                        store,
                        incident_id,
                        victims=victims,
                        attack_txs=attack_tx,
                        vulnerable=vulnerable,
                    )
                indicators = incident_indicators(evidence, ttl=ttl)
                bundle = await publish_incident(
                    indicators,
                    signer,
                    feed,
                    store=store,
                    incident_id=incident_id,
                    publisher_name=cfg.publisher_name if cfg else "bulwark",
                )
                return {
                    "incident": incident_id,
                    "feed": feed.name,
                    "publisher": signer.address,
                    "bundle": bundle["id"],
                    "indicators": [{"kind": i.kind.value, "value": i.value} for i in indicators],
                }

            result = run(go())
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps(result, indent=2))
        else:
            typer.echo(f"published {len(result['indicators'])} indicator(s) to {result['feed']}")
            for i in result["indicators"]:
                typer.echo(f"  {i['kind']:<17} {i['value']}")

    @intel.command("pull")
    def pull_cmd(
        config: Path = REQUIRED_CONFIG_OPTION,
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Pull every configured feed, keep what trusted publishers signed (rejections audited)."""
        from bulwark.app.intel import feeds_from_config, load_intel_config, pull_and_remember
        from bulwark.chain import run
        from bulwark.errors import ConfigError

        cfg = load_intel_config(config)
        if not cfg.feeds:
            raise ConfigError(f"{config}: intel has no feeds to pull")
        feeds = list(feeds_from_config(cfg, config.parent).values())
        store = open_store(db)
        try:
            intel, new = run(pull_and_remember(feeds, cfg.publishers, store))
        finally:
            store.close()
        rejected = [{"feed": r.source, "object": r.object_id, "reason": r.reason} for r in intel.rejections]
        if as_json:
            typer.echo(
                json.dumps({"accepted": len(intel.indicators), "new": new, "rejected": rejected}, indent=2)
            )
            return
        typer.echo(f"accepted {len(intel.indicators)} indicator(s) ({new} new), rejected {len(rejected)}")
        for r in rejected:
            typer.echo(f"  rejected {r['object'] or r['feed']}: {r['reason']}")

    @intel.command("list")
    def list_cmd(
        db: str | None = DB_OPTION,
        show_all: bool = typer.Option(False, "--all", help="Include expired indicators."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Indicators pulled and kept (valid ones unless --all)."""
        from bulwark.app.intel import remembered

        store = open_store(db)
        try:
            items = [i for i in remembered(store) if show_all or not i["expired"]]
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps(items, indent=2))
            return
        if not items:
            typer.echo("no indicators")
        for i in items:
            flag = " (expired)" if i["expired"] else ""
            typer.echo(f"{i['kind']:<17} {i['value']}  from {i['publisher']} until {i['valid_until']}{flag}")


SOURCE_SPEC_OPTION = typer.Option(
    ..., "--source", help="COMPONENT=PATH:CONTRACT, one per own contract to scan (repeatable)."
)


def _own_source(spec: str) -> Any:
    from bulwark.app.intel import OwnSource
    from bulwark.errors import UsageError

    component, _, rest = spec.partition("=")
    path, _, contract = rest.rpartition(":")
    if not component or not path or not contract:
        raise UsageError(f"--source {spec!r}: expected COMPONENT=PATH:CONTRACT")
    return OwnSource(component, Path(path), contract)


def register_scan(intel: typer.Typer) -> None:
    @intel.command("scan")
    def scan_cmd(
        source: list[str] = SOURCE_SPEC_OPTION,
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Match our own contracts against the vulnerable-code indicators kept by `intel pull`
        (function shapes, checked against the patch stage's localisation). Exit 3 on a match."""
        from bulwark.app.intel import intel_from_store, scan_own_code
        from bulwark.toolchain.solc import Compiler

        sources = [_own_source(s) for s in source]
        store = open_store(db)
        try:
            intel = intel_from_store(store)
            with Compiler() as compiler:
                matches = scan_own_code(sources, intel, compiler)
            for m in matches:
                store.audit(
                    "intel.vulnerable-code",
                    {"component": m.source.component, "contract": m.source.contract, "function": m.function,
                     "fingerprint": m.fingerprint, "localised": m.localised},
                )  # fmt: skip
        finally:
            store.close()
        rows = [
            {
                "component": m.source.component,
                "contract": m.source.contract,
                "function": m.function,
                "fingerprint": m.fingerprint,
                "localised": m.localised,
                "vuln_class": m.indicator.vuln_class.value if m.indicator.vuln_class else None,
            }
            for m in matches
        ]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
        elif not rows:
            typer.echo(f"no match among {len(intel.vulnerable_code)} vulnerable-code indicator(s)")
        for r in rows if not as_json else []:
            typer.echo(f"MATCH {r['component']}: {r['contract']}.{r['function']} ({r['vuln_class']})")
        if rows:
            raise typer.Exit(3)
