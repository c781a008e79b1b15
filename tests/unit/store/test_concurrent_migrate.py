"""Processes starting together on a new PostgreSQL database (the roles of a cluster) each migrate
it: one at a time, none failing on the table another is creating."""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, text

from bulwark.store import Store


def test_stores_opened_at_once_on_a_new_database_all_open(pg_url: str) -> None:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            Store(pg_url).close()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    s = Store(pg_url)
    try:
        assert s.incidents() == []
    finally:
        s.close()
