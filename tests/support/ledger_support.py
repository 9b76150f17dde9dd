"""Helpers of the ledger's tests: entries to write, and a connection of its own to the
ledger's database (another process's, or a person's with a SQL client) to look at it or
to break it, on either back end (`ledger_url`: a SQLite path or a PostgreSQL DSN)."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from myopenip_bot.ledger import Entry, at_text

PORTAL = "https://portal.example"
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    """The ledger's time `minutes` after START."""
    return at_text(START + timedelta(minutes=minutes))


def entry(**fields: Any) -> Entry:
    """An entry of a run with every field set; `fields` override them."""
    base = Entry(
        at=at(0),
        os_user="agent1",
        host="poste-7",
        portal_user="support.n2",
        portal=PORTAL,
        client="Société Générale",
        account="CC-0012",
        service="SRV-10021",
        licence="FPC367128",
        number="0231456789",
        keep_number=False,
        outcome="done",
        reason="dissociated and read back",
        ticket="INC-1001",
        command="dissociate",
        run_dir="/runs/2026-12-01T08-00-00",
    )
    return dataclasses.replace(base, **fields)


def written(found: Entry) -> Entry:
    """`found` as it was given to `record` (before it had an id)."""
    return dataclasses.replace(found, id=0)


def is_postgres(ledger_url: str) -> bool:
    return ledger_url.startswith("postgresql://")


@contextmanager
def connection(ledger_url: str) -> Iterator[Any]:
    """A DB-API connection of its own to the ledger's database, each statement committed."""
    if is_postgres(ledger_url):
        import psycopg

        with psycopg.connect(ledger_url, autocommit=True) as pg:
            yield pg
    else:
        lite = sqlite3.connect(ledger_url, isolation_level=None)
        try:
            yield lite
        finally:
            lite.close()


def rows(ledger_url: str, sql: str) -> list[tuple[Any, ...]]:
    with connection(ledger_url) as db:
        return list(db.execute(sql).fetchall())


def fail_writes(ledger_url: str, why: str = "disk full") -> None:
    """From another connection: every INSERT into the ledger fails from now on (a trigger
    that raises `why`); what is written stays readable."""
    with connection(ledger_url) as db:
        if is_postgres(ledger_url):
            db.execute(
                "CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{why}'; END $$"
            )
            db.execute(
                "CREATE TRIGGER refuse_insert BEFORE INSERT ON ledger_entries "
                "FOR EACH ROW EXECUTE FUNCTION refuse_insert()"
            )
        else:
            db.execute(
                "CREATE TRIGGER refuse_insert BEFORE INSERT ON ledger_entries "
                f"BEGIN SELECT RAISE(ABORT, '{why}'); END"
            )


def allow_writes(ledger_url: str) -> None:
    """Undo `fail_writes`."""
    with connection(ledger_url) as db:
        if is_postgres(ledger_url):
            db.execute("DROP TRIGGER refuse_insert ON ledger_entries")
        else:
            db.execute("DROP TRIGGER refuse_insert")
