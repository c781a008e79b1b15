"""Opening a database: the engine, SQLite's settings, the migrations, and the URL as it may be shown."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bulwark.errors import StoreError
from bulwark.logs import mask

_MIGRATIONS = Path(__file__).with_name("migrations")


def safe_url(url: str) -> str:
    """The URL as it may appear in a message: no password."""
    try:
        return mask(make_url(url).render_as_string(hide_password=True))
    except Exception:
        return "<database url>"


def default_url(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'bulwark.db'}"


def now() -> datetime:
    return datetime.now(UTC)


def aware(at: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


_MIGRATION_LOCK = 0x62756C77  # pg_advisory_xact_lock key: b"bulw"


def open_engine(url: str) -> Engine:
    try:
        engine = create_engine(url, future=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open database {safe_url(url)}: {exc}; check database_url") from exc
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
        # Serialise writers up front so two appenders never read the same chain tip.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def migrate(engine: Engine, url: str) -> None:
    """Bring the schema to the newest migration."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # Roles starting together on a new database would each create alembic_version;
                # one migrates at a time (the lock ends with this transaction), the rest find it done.
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise StoreError(
            f"database {safe_url(url)} is unreachable: {exc.orig}; "
            "check database_url and that the server is running"
        ) from exc


def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
    # Python's sqlite3 would otherwise open its own implicit transactions and ignore BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()
