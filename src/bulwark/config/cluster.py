"""The ``cluster`` section of ``bulwark.yaml``: the broker and the shared database of scale-out.

    cluster:
      nats_url: env:BULWARK_NATS_URL       # NATS with JetStream (nats:// or tls://), or a literal
      database_url: env:BULWARK_DB_URL     # PostgreSQL shared by every role (state, leases)
      ack_wait_s: 30                       # a screen worker's unacknowledged tx is redelivered after this
      tx_retention_s: 86400                # how long the broker keeps transactions (older: dropped)

Without the section, Bulwark runs embedded: one process, no broker, SQLite. ``bulwark config check``
verifies that both servers answer (:func:`cluster_problems`), one line for each that does not.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from bulwark.config.secrets import UrlOrRef
from bulwark.errors import ConfigError

__all__ = ["ClusterConfig", "cluster_problems", "postgres_url"]

NATS_SCHEMES = ("nats", "tls")
PG_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


class ClusterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    nats_url: UrlOrRef
    database_url: UrlOrRef
    # How long a screen worker may hold a transaction unacknowledged before the broker hands it to
    # another worker (a killed worker's transactions come back after this).
    ack_wait_s: float = Field(default=30.0, gt=0, le=3600)
    # How long the transaction stream keeps messages (acknowledged or not): a screening backlog
    # older than this, with every screen worker down, is dropped unjudged. Set when the stream is
    # first created.
    tx_retention_s: float = Field(default=24 * 3600.0, ge=600, le=30 * 24 * 3600.0)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


def postgres_url(url: str) -> str:
    """``url`` with the one PostgreSQL driver Bulwark ships (psycopg 3) when it names none."""
    if _scheme(url) in ("postgresql", "postgres"):
        return "postgresql+psycopg" + url[url.index(":") :]
    return url


async def _nats_problem(url: str, timeout_s: float) -> str | None:
    import nats
    from nats.js.errors import Error as JetStreamError

    if _scheme(url) not in NATS_SCHEMES:
        return "cluster.nats_url: not a NATS URL (nats://HOST:PORT or tls://HOST:PORT)"
    try:
        nc = await asyncio.wait_for(
            nats.connect(url, connect_timeout=timeout_s, allow_reconnect=False, max_reconnect_attempts=0),
            timeout_s + 1,
        )
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        return (
            f"cluster.nats_url: NATS at {_where(url)} did not answer ({type(exc).__name__}); "
            "start nats-server (with -js) or fix the URL"
        )
    try:
        await nc.jetstream().account_info()
    except (TimeoutError, JetStreamError, nats.errors.Error):
        return f"cluster.nats_url: NATS at {_where(url)} has no JetStream; start nats-server with -js"
    finally:
        await nc.close()
    return None


def _db_problem(url: str, timeout_s: float) -> str | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    if _scheme(url) not in PG_SCHEMES:
        return "cluster.database_url: must be a PostgreSQL URL (postgresql+psycopg://USER@HOST:PORT/DB)"
    url = postgres_url(url)
    engine = create_engine(url, connect_args={"connect_timeout": max(1, round(timeout_s))})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        return (
            f"cluster.database_url: PostgreSQL at {_where(url)} did not answer ({reason}); "
            "start it or fix the URL"
        )
    finally:
        engine.dispose()
    return None


def _where(url: str) -> str:
    """host:port only: a URL may carry a password."""
    parts = urlsplit(url)
    return f"{parts.hostname or '?'}:{parts.port or 'default port'}"


async def cluster_problems(cluster: ClusterConfig) -> list[str]:
    """One line per server of the section that cannot be reached (empty: both answer)."""
    problems: list[str] = []
    try:
        nats_url = cluster.nats_url.resolve()
    except ConfigError as exc:
        problems.append(f"cluster.nats_url: {exc.user_message}")
    else:
        nats = await _nats_problem(nats_url, cluster.connect_timeout_s)
        if nats is not None:
            problems.append(nats)
    try:
        db_url = cluster.database_url.resolve()
    except ConfigError as exc:
        problems.append(f"cluster.database_url: {exc.user_message}")
    else:
        db = await asyncio.to_thread(_db_problem, db_url, cluster.connect_timeout_s)
        if db is not None:
            problems.append(db)
    return problems
