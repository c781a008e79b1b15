"""``bulwark audit verify|show``: read the record (``bulwark incidents`` lives in cli/incidents.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

DB_OPTION = typer.Option(
    None,
    "--db",
    help="Database URL (default: $BULWARK_DATABASE_URL or sqlite in ./.bulwark).",
    show_default=False,
)


def database_url(db: str | None) -> str:
    from bulwark.store import default_url

    return db or os.environ.get("BULWARK_DATABASE_URL") or default_url(Path(".bulwark"))


AUDIT_KEY_OPTION = typer.Option(
    None,
    "--audit-key",
    help="Audit key reference, env:NAME or file:PATH (default: audit_key of --config, else "
    "$BULWARK_AUDIT_KEY, itself a reference). Without one, only the hash chain is checked.",
    show_default=False,
)
ANCHOR_OPTION = typer.Option([], "--anchor", help="An anchor (file or notification JSON); repeat.")
OUT_OPTION = typer.Option(None, "--out", help="Also write the anchor to this file.")
CONFIG_OPTION = typer.Option(
    None, "--config", "-c", help="bulwark.yaml: its audit_key, database_url and notifications."
)


DEMO_STATE = Path(".bulwark")


def key_source(reference: str | None = None, config: Any | None = None) -> str | None:
    """Which audit key applies, as a reference: ``--audit-key``, else the configuration's
    ``audit_key``, else ``$BULWARK_AUDIT_KEY`` (a reference too), else the demo's own key when
    the demo made one here (so every command on the demo's store writes it keyed); else None."""
    if reference is not None:
        return reference
    if config is not None and config.audit_key is not None:
        return str(config.audit_key.reference)
    env = os.environ.get("BULWARK_AUDIT_KEY")
    if env:
        return env
    demo = DEMO_STATE / "demo-audit.key"
    return f"file:{demo}" if demo.is_file() else None


def audit_key(reference: str | None = None, config: Any | None = None) -> str | None:
    """The audit key's value (see :func:`key_source`); ``None`` when there is none."""
    from bulwark.config.secrets import parse_reference

    if reference is None and config is not None and config.audit_key is not None:
        return str(config.audit_key.resolve())  # anchored to the configuration file's folder
    source = key_source(reference, config)
    if source is None:
        return None
    return parse_reference(source, field="--audit-key", base_dir=Path.cwd()).resolve()


def open_store(db: str | None, key_reference: str | None = None, config: Any | None = None) -> Any:
    """The store every command writes through: its URL and, when one is given, the audit key
    (a log is keyed only if every writer holds the key)."""
    from bulwark.store import Store

    url = db
    if url is None and config is not None and config.database_url is not None:
        url = config.database_url.resolve()
    return Store(database_url(url), audit_key=audit_key(key_reference, config))


def demo_audit_key(state_dir: Path = DEMO_STATE) -> tuple[str, str]:
    """The demo's own audit key (made once, kept in ``state_dir``), and its reference for
    ``bulwark audit verify --audit-key``. Only for the local demo: production names its own."""
    import secrets

    path = state_dir / "demo-audit.key"
    if not path.is_file():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n")
        path.chmod(0o600)
    ref = f"file:{path}"
    return audit_key(ref) or "", ref


def anchor_sink(notifier: Any, keyed: bool) -> Callable[[Any], None]:
    """Send each audit anchor to every notification channel (in the background inside a loop)."""
    import asyncio

    from bulwark.notify import anchor_notification

    def sink(anchor: Any) -> None:
        message = anchor_notification(anchor.to_json(), keyed=keyed)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(notifier.notify(message))
        else:
            notifier.submit(message)

    return sink


def _config(path: Path | None) -> Any | None:
    from bulwark.config import load_config

    return load_config(path) if path is not None else None


def _anchors(paths: list[Path]) -> list[Any]:
    from bulwark.errors import UsageError
    from bulwark.store.audit import Anchor

    out = []
    for path in paths:
        try:
            out.append(Anchor.from_json(json.loads(path.read_text())))
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"--anchor {path}: {exc}; give an anchor file or its notification JSON"
            ) from None
    return out


def register(app: typer.Typer) -> None:
    audit = typer.Typer(
        help="The hash-chained (and, with an audit key, keyed) audit log.", no_args_is_help=True
    )
    app.add_typer(audit, name="audit")

    @audit.command("verify")
    def verify(
        db: str | None = DB_OPTION,
        key: str | None = AUDIT_KEY_OPTION,
        config: Path | None = CONFIG_OPTION,
        anchor: list[Path] = ANCHOR_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Recompute the chain (and MACs, with the key), check it against anchors, replay the
        incident and action tables from it; name the first thing broken (exit 1)."""
        anchors = _anchors(anchor)
        cfg = _config(config)
        source = key_source(key, cfg)
        store = open_store(db, key, cfg)
        try:
            result = store.verify_audit(anchors)
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps({**result.to_json(), "key": source}))
        elif result.ok:
            extra = f"; {result.unchecked_macs} MACs not checked (no key)" if result.unchecked_macs else ""
            typer.echo(
                f"audit log intact: {result.entries} entries, {result.rows} incident/action rows match, "
                f"{result.anchors} anchor(s) reached; checked: {result.mode}{extra}"
                + (f" (key {source})" if source else "")
            )
        else:
            where = f" at entry {result.first_broken}" if result.first_broken is not None else ""
            typer.echo(f"audit log BROKEN{where}: {result.reason} (checked: {result.mode})")
        if not result.ok:
            raise typer.Exit(1)

    @audit.command("anchor")
    def anchor_cmd(
        db: str | None = DB_OPTION,
        key: str | None = AUDIT_KEY_OPTION,
        config: Path | None = CONFIG_OPTION,
        out: Path | None = OUT_OPTION,
        notify: bool = typer.Option(
            False, "--notify", help="Send it to the notification channels of --config (e.g. from cron)."
        ),
    ) -> None:
        """Print the log's head (seq, hash, time), signed with the audit key: keep it elsewhere."""
        from bulwark.errors import UsageError

        cfg = _config(config)
        store = open_store(db, key, cfg)
        try:
            anchor = store.audit_anchor()
            keyed = store.audit_keyed
        finally:
            store.close()
        body = json.dumps(anchor.to_json())
        if out is not None:
            out.write_text(body + "\n")
        if notify:
            from bulwark.app.notify import notifier_from_config

            notifier = notifier_from_config(cfg) if cfg is not None else None
            if notifier is None:
                raise UsageError("--notify needs --config with a notifications section")
            anchor_sink(notifier, keyed)(anchor)
        typer.echo(body)

    @audit.command("show")
    def show(
        incident: str | None = typer.Option(None, "--incident", help="Only this incident's entries."),
        db: str | None = DB_OPTION,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Print the audit log, oldest first."""
        from bulwark.store import Store

        store = Store(database_url(db))
        try:
            entries = store.audit_entries(incident)
        finally:
            store.close()
        for e in entries:
            if as_json:
                typer.echo(
                    json.dumps(
                        {
                            "seq": e.seq,
                            "at": e.at,
                            "kind": e.kind,
                            "incident": e.incident_id,
                            "payload": e.payload,
                            "hash": e.hash,
                        }
                    )
                )
            else:
                typer.echo(f"{e.seq:>5}  {e.at}  {e.kind:<24} {e.incident_id or '-':<18} {e.hash[:18]}")
