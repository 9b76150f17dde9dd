"""Where the ledger lives: a SQLite file of the user's, or a team's PostgreSQL database.

    MYOPENIP_LEDGER unset        ~/.local/share/myopenip/ledger.sqlite3 (XDG_DATA_HOME):
                                 the same for every folder the user runs from
    MYOPENIP_LEDGER=/a/path      that SQLite file
    MYOPENIP_LEDGER=postgresql://user@host/db   a team's ledger (psycopg 3)

One schema on both, the same SQL (text timestamps of one width, integers for booleans),
versioned in `ledger_meta` and migrated in place by whoever opens it first. Entries are
appended, never changed nor deleted: a trigger refuses it on both back ends. Writers on
several machines lose nothing (each write is one transaction; SQLite waits for its
lock, PostgreSQL's rows do not conflict).

With PostgreSQL, a session-level advisory lock per (portal, service) keeps two machines
from acting on one service at the same time (`try_lock_service`); a SQLite ledger is one
user's, on one machine: its lock always succeeds.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

from myopenip_bot.errors import BotError
from myopenip_bot.files import UnsafePathError, refuse_link
from myopenip_bot.ledger.entries import (
    DISSOCIATED,
    TERMINATED,
    Entry,
    Query,
    client_key,
    dissociated_by,
    latest_per_action,
    user_key,
)

__all__ = [
    "SCHEMA_VERSION",
    "Ledger",
    "LedgerError",
    "LedgerMissingError",
    "LedgerWriteError",
    "default_ledger_path",
    "open_ledger",
]

SCHEMA_VERSION = 1
# SQLite's application_id: this file is a ledger ("MYLG").
APPLICATION_ID = 0x4D594C47
# How long a SQLite writer waits for another's transaction (another process's run).
BUSY_SECONDS = 30


class LedgerError(BotError):
    """The ledger could not be opened or read: the message names it and why."""


class LedgerMissingError(LedgerError):
    """A reader asked for a ledger that does not exist (yet): nothing was created."""


class LedgerWriteError(LedgerError):
    """An entry could not be written: a run stops before its next « Valider » (nothing is
    acted on without its record)."""


# Keys asked in one read (SQLite allows 999 parameters a statement; each key is two).
_KEYS_PER_READ = 400
_COLUMNS = (
    "at",
    "os_user",
    "host",
    "portal_user",
    "portal",
    "client",
    "account",
    "client_key",
    "service",
    "licence",
    "number",
    "keep_number",
    "outcome",
    "reason",
    "ticket",
    "command",
    "run_dir",
    "licence_user",
    "user_key",
)

# Version 1, as each back end writes it (the rest of the SQL is the same on both).
_SCHEMA_V1 = """
CREATE TABLE ledger_entries (
    id {id},
    at TEXT NOT NULL,
    os_user TEXT NOT NULL,
    host TEXT NOT NULL,
    portal_user TEXT NOT NULL,
    portal TEXT NOT NULL,
    client TEXT NOT NULL,
    account TEXT NOT NULL,
    client_key TEXT NOT NULL,
    service TEXT NOT NULL,
    licence TEXT NOT NULL,
    number TEXT NOT NULL,
    keep_number INTEGER,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    ticket TEXT NOT NULL,
    command TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    licence_user TEXT NOT NULL,
    user_key TEXT NOT NULL
);
CREATE INDEX ledger_entries_number ON ledger_entries (number, at);
CREATE INDEX ledger_entries_licence ON ledger_entries (UPPER(licence), at);
CREATE INDEX ledger_entries_service ON ledger_entries (UPPER(service), at);
CREATE INDEX ledger_entries_ticket ON ledger_entries (UPPER(ticket), at);
CREATE INDEX ledger_entries_at ON ledger_entries (at);
CREATE INDEX ledger_entries_outcome ON ledger_entries (outcome, number);
CREATE INDEX ledger_entries_user ON ledger_entries (user_key, at);
"""

_APPEND_ONLY_SQLITE = """
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
"""

_APPEND_ONLY_POSTGRES = """
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the ledger is append-only'; END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
"""

# Released (done, « Conserver le numéro » = Non), neither terminated nor released again
# since: billing's list. Kept: done with Oui, and nothing done with the number since.
_RELEASED_NOT_TERMINATED = f"""
SELECT {{columns}} FROM ledger_entries r
WHERE r.outcome = 'done' AND r.keep_number = 0 {{portal}}
AND NOT EXISTS (
    SELECT 1 FROM ledger_entries t
    WHERE t.number = r.number AND t.portal = r.portal AND t.outcome = '{TERMINATED}'
    AND t.id > r.id)
AND NOT EXISTS (
    SELECT 1 FROM ledger_entries l
    WHERE l.number = r.number AND l.portal = r.portal AND l.outcome = 'done'
    AND l.id > r.id)
ORDER BY r.at DESC, r.id DESC
"""

_KEPT_IN_POOL = f"""
SELECT {{columns}} FROM ledger_entries r
WHERE r.outcome = 'done' AND r.keep_number = 1 {{portal}}
AND NOT EXISTS (
    SELECT 1 FROM ledger_entries l
    WHERE l.number = r.number AND l.portal = r.portal
    AND l.outcome IN ('done', '{TERMINATED}') AND l.id > r.id)
ORDER BY r.at DESC, r.id DESC
"""


def default_ledger_path() -> Path:
    """The user's data folder (XDG_DATA_HOME, else ~/.local/share): one ledger for every
    folder the user runs from."""
    given = os.environ.get("XDG_DATA_HOME", "")
    home = Path(given) if given.startswith("/") else Path.home() / ".local" / "share"
    return home / "myopenip" / "ledger.sqlite3"


def open_ledger(where: str | None, *, create: bool = True) -> Ledger:
    """The ledger `where` names (None or "": the user's SQLite file), its schema created
    or migrated; raises LedgerError naming it and why it cannot be used. A reader
    (`create` false) creates nothing: a ledger not there (a path mistyped, a database
    without its tables) raises LedgerMissingError, a file that is no ledger is refused."""
    where = (where or "").strip()
    if where.startswith(("postgresql://", "postgres://")):
        return Ledger(_Postgres(where, create=create))
    path = Path(where).expanduser() if where else default_ledger_path()
    if not create:
        if not path.is_symlink() and not path.exists():
            raise LedgerMissingError(
                f"the ledger {path} does not exist: nothing was ever recorded there (a "
                "path mistyped in MYOPENIP_LEDGER?)"
            )
        if path.is_file() and path.stat().st_size == 0:
            raise LedgerError(f"{path} is an empty file, not a myopenip ledger: not touched")
    return Ledger(_Sqlite(path))


class _Backend(Protocol):
    name: str  # what messages call it: a path, or the URL without its password

    @contextmanager
    def transaction(self) -> Iterator[Any]: ...

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]: ...

    def placeholder(self) -> str: ...

    def try_lock(self, key: int) -> bool: ...

    def unlock(self, key: int) -> None: ...

    def close(self) -> None: ...


class Ledger:
    """The record of every action: `record` appends, the rest reads. Thread-safe (a
    batch's workers share one)."""

    def __init__(self, backend: _Backend) -> None:
        self._db = backend
        self._mutex = threading.Lock()
        self._held: dict[int, int] = {}

    @property
    def name(self) -> str:
        """The ledger as messages name it (never with a password)."""
        return self._db.name

    def close(self) -> None:
        with self._mutex:
            for key in list(self._held):
                self._release(key)
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------

    def record(self, entries: Sequence[Entry]) -> None:
        """Append `entries`, all or none, on disk (or committed) when this returns;
        raises LedgerWriteError saying that nothing of them was recorded."""
        if not entries:
            return
        p = self._db.placeholder()
        sql = (
            f"INSERT INTO ledger_entries ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join([p] * len(_COLUMNS))})"
        )
        rows = [_row(entry) for entry in entries]
        with self._mutex:
            try:
                with self._db.transaction() as cursor:
                    cursor.executemany(sql, rows)
            except Exception as error:  # sqlite3 or psycopg: said as what it means
                raise LedgerWriteError(
                    f"the ledger {self.name} could not be written ({_why(error)}): "
                    f"{len(entries)} entr{'y was' if len(entries) == 1 else 'ies were'} "
                    "not recorded"
                ) from None

    # -- reading ------------------------------------------------------------------

    def entries(self, query: Query, *, every: bool = False) -> list[Entry]:
        """The entries `query` matches, newest first; unless `every`, only the last word
        of each run on each licence (`latest_per_action`)."""
        p = self._db.placeholder()
        where: list[str] = []
        params: list[Any] = []
        if query.number:
            where.append(f"number = {p}")
            params.append(query.number)
        for column, value in (
            ("licence", query.licence),
            ("service", query.service),
            ("ticket", query.ticket),
        ):
            if value:
                where.append(f"UPPER({column}) = UPPER({p})")
                params.append(value)
        if query.user:
            where.append(f"user_key = {p}")
            params.append(user_key(query.user))
        if query.client:
            # client_key holds the name and the account, both made plain
            where.append(f"client_key LIKE {p} ESCAPE '!'")
            params.append("%" + _like(client_key(query.client)) + "%")
        if query.since:
            where.append(f"at >= {p}")
            params.append(query.since)
        if query.until:
            where.append(f"at < {p}")
            params.append(query.until)
        if query.portal:
            where.append(f"portal = {p}")
            params.append(query.portal)
        sql = f"SELECT id, {', '.join(_COLUMNS)} FROM ledger_entries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY at DESC, id DESC"
        found = self._read(sql, [_storable(param) for param in params])
        return found if every else latest_per_action(found)

    def dissociations(self, portal: str, service: str, keys: Sequence[str]) -> dict[str, Entry]:
        """What the ledger says the bot dissociated on `service` of `portal`, for each of
        `keys` (numbers' ten digits, licence refs, entries.user_key of a user's name):
        its latest `done` or `in_progress`
        entry (`dissociated_by`), by the key upper-cased; keys it has none for are absent."""
        p = self._db.placeholder()
        wanted = sorted({key.upper() for key in keys if key})
        found: list[Entry] = []
        for start in range(0, len(wanted), _KEYS_PER_READ):
            chunk = wanted[start : start + _KEYS_PER_READ]
            marks = ", ".join([p] * len(chunk))
            sql = (
                f"SELECT id, {', '.join(_COLUMNS)} FROM ledger_entries "
                f"WHERE portal = {p} AND UPPER(service) = UPPER({p}) "
                f"AND outcome IN ({', '.join([p] * len(DISSOCIATED))}) "
                f"AND (number IN ({marks}) OR UPPER(licence) IN ({marks}) "
                f"OR user_key IN ({marks})) "
                "ORDER BY at DESC, id DESC"
            )
            found += self._read(sql, [portal, service, *DISSOCIATED, *chunk, *chunk, *chunk])
        found.sort(key=lambda entry: (entry.at, entry.id), reverse=True)
        return dissociated_by(found, wanted)

    def to_terminate(self, portal: str | None = None) -> list[Entry]:
        """Numbers released and not terminated since (nor released again: the latest
        release stands), newest first: billing's list."""
        return self._listing(_RELEASED_NOT_TERMINATED, portal)

    def available(self, portal: str | None = None) -> list[Entry]:
        """Numbers kept in their client's pool by a dissociation, with nothing done with
        them by the bot since, newest first."""
        return self._listing(_KEPT_IN_POOL, portal)

    def _listing(self, template: str, portal: str | None) -> list[Entry]:
        p = self._db.placeholder()
        columns = ", ".join(f"r.{c}" for c in ("id", *_COLUMNS))
        sql = template.format(columns=columns, portal=f"AND r.portal = {p}" if portal else "")
        return self._read(sql, [portal] if portal else [])

    def _read(self, sql: str, params: Sequence[Any]) -> list[Entry]:
        with self._mutex:
            try:
                rows = self._db.query(sql, params)
            except Exception as error:
                raise LedgerError(
                    f"the ledger {self.name} could not be read ({_why(error)})"
                ) from None
        return [_entry(row) for row in rows]

    # -- one service at a time (PostgreSQL) ---------------------------------------

    def try_lock_service(self, portal: str, service: str) -> bool:
        """Hold the team's lock on `service` of `portal` for this process (until
        `unlock_service` or `close`): False when another holds it. Always True on SQLite."""
        key = _lock_key(portal, service)
        with self._mutex:
            if key in self._held:
                self._held[key] += 1
                return True
            try:
                taken = self._db.try_lock(key)
            except Exception as error:
                raise LedgerError(
                    f"the ledger {self.name} could not lock the service {service} ({_why(error)})"
                ) from None
            if taken:
                self._held[key] = 1
            return taken

    def unlock_service(self, portal: str, service: str) -> None:
        key = _lock_key(portal, service)
        with self._mutex:
            if key not in self._held:
                return
            self._held[key] -= 1
            if self._held[key] == 0:
                self._release(key)

    def _release(self, key: int) -> None:
        self._held.pop(key, None)
        with suppress(Exception):  # a lost connection released it already
            self._db.unlock(key)


def _lock_key(portal: str, service: str) -> int:
    digest = hashlib.sha256(f"myopenip\0{portal}\0{service.upper()}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _storable(value: Any) -> Any:
    """A text as both back ends store it: PostgreSQL's text holds no NUL, so neither does
    SQLite's (U+FFFD, the replacement character, instead); other values as they are."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _row(entry: Entry) -> tuple[Any, ...]:
    keep = None if entry.keep_number is None else int(entry.keep_number)
    key = client_key(f"{entry.client} {entry.account}")
    values = (
        entry.at,
        entry.os_user,
        entry.host,
        entry.portal_user,
        entry.portal,
        entry.client,
        entry.account,
        key,
        entry.service,
        entry.licence,
        entry.number,
        keep,
        entry.outcome,
        entry.reason,
        entry.ticket,
        entry.command,
        entry.run_dir,
        entry.user,
        user_key(entry.user),
    )
    return tuple(_storable(value) for value in values)


def _entry(row: Sequence[Any]) -> Entry:
    (
        id_,
        at,
        os_user,
        host,
        portal_user,
        portal,
        client,
        account,
        _key,
        service,
        licence,
        number,
        keep,
        outcome,
        reason,
        ticket,
        command,
        run_dir,
        licence_user,
        _user_key,
    ) = row
    return Entry(
        at=at,
        os_user=os_user,
        host=host,
        portal_user=portal_user,
        portal=portal,
        client=client,
        account=account,
        service=service,
        licence=licence,
        number=number,
        keep_number=None if keep is None else bool(keep),
        outcome=outcome,
        reason=reason,
        ticket=ticket,
        command=command,
        run_dir=run_dir,
        user=licence_user,
        id=int(id_),
    )


def _like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_PASSWORD_PARAM = re.compile(r"(?i)(password=)[^&\s]*")


def _masked(text: str) -> str:
    """`text` with the password of any URL or connection string in it masked."""
    return _PASSWORD_PARAM.sub(r"\1***", _PASSWORD.sub(r"\1***@", text))


def _why(error: BaseException) -> str:
    """An error's first line, any password in it masked."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return _masked(text)


# -- SQLite -------------------------------------------------------------------------


class _Sqlite:
    def __init__(self, path: Path) -> None:
        self.name = str(path)
        try:
            refuse_link(path, "the ledger")
        except UnsafePathError as error:  # a link planted in its place: never followed
            raise LedgerError(str(error)) from None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            existed = path.exists() and path.stat().st_size > 0
            if not existed:  # private from its first byte
                os.close(
                    os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
                )
            self._conn = sqlite3.connect(
                path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as error:
            raise LedgerError(f"the ledger {path} cannot be opened ({_why(error)})") from None
        try:
            # Another's file is never touched. An empty database is a ledger another
            # process is creating right now (its first open, at the same time as ours):
            # the migration waits for it and finds the schema done.
            if existed and not self._ours_or_empty():
                raise LedgerError(f"{path} is not a myopenip ledger: not touched (MYOPENIP_LEDGER)")
            self._write_ahead_log()
            self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.Error as error:
            self._conn.close()
            raise LedgerError(f"the ledger {path} cannot be opened ({_why(error)})") from None
        except BaseException:
            self._conn.close()
            raise

    def _write_ahead_log(self) -> None:
        """WAL mode, which each first open of a new ledger asks for. SQLite refuses the
        change at once ("database is locked"), without its busy timeout, while another
        connection opens the file: asked again until BUSY_SECONDS have passed."""
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(0.01)  # allowed: the busy timeout does not cover this pragma

    def _ours_or_empty(self) -> bool:
        """The file is a ledger, or a database with nothing in it yet. Both read in one
        snapshot: between two separate reads another process's first open may commit the
        schema, and "no ledger id, but tables" would then read as another's file."""
        self._conn.execute("BEGIN")
        try:
            app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
            tables = self._conn.execute("SELECT 1 FROM sqlite_master").fetchone()
        finally:
            self._conn.execute("COMMIT")
        return app_id == APPLICATION_ID or (app_id == 0 and not tables)

    def _migrate(self) -> None:
        if self._current():  # a reader, or a writer of entries alone, changes nothing
            return
        with self.transaction() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT)")
            version = _version(cur, self.name)
            if version < 1:
                for statement in _statements(
                    _SCHEMA_V1.format(id="INTEGER PRIMARY KEY AUTOINCREMENT")
                ):
                    cur.execute(statement)
                for statement in _triggers(_APPEND_ONLY_SQLITE):
                    cur.execute(statement)
                cur.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            _set_version(cur, "?")

    def _current(self) -> bool:
        """Whether the schema is this version's already (a newer one is refused)."""
        found = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'"
        ).fetchone()
        if found is None:
            return False
        return _version(self._conn.cursor(), self.name) == SCHEMA_VERSION

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql, params).fetchall())

    def placeholder(self) -> str:
        return "?"

    def try_lock(self, key: int) -> bool:
        return True

    def unlock(self, key: int) -> None:
        return None

    def close(self) -> None:
        self._conn.close()


# -- PostgreSQL ---------------------------------------------------------------------

# Taken while a schema is created or migrated: two first runs at once do it once.
_MIGRATION_LOCK = 0x4D594C47


class _Postgres:
    def __init__(self, url: str, *, create: bool = True) -> None:
        self._create = create
        self.name = _masked(url)
        try:
            import psycopg
        except ImportError:  # pragma: no cover - a dependency of the project
            raise LedgerError(
                "MYOPENIP_LEDGER names a PostgreSQL database but psycopg is not installed "
                "(pip install 'psycopg[binary]')"
            ) from None
        self._psycopg = psycopg
        try:
            # Writes: one transaction each. Locks: a session of their own, never in a
            # transaction (an advisory lock of the session outlives them).
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=15)
            self._locks = psycopg.connect(url, autocommit=True, connect_timeout=15)
            # A write held up by another's lock (a table locked by hand, a long migration)
            # fails after as long as SQLite waits, rather than holding a run forever.
            self._conn.execute(f"SET lock_timeout = '{int(BUSY_SECONDS * 1000)}ms'")
        except Exception as error:
            self.close()  # the first connection, when the second failed
            raise LedgerError(f"the ledger {self.name} cannot be opened ({_why(error)})") from None
        try:
            self._migrate()
        except LedgerError:
            self.close()
            raise
        except Exception as error:
            self.close()
            raise LedgerError(f"the ledger {self.name} cannot be opened ({_why(error)})") from None

    def _migrate(self) -> None:
        if self._current():  # a role that may only add entries opens it too
            return
        if not self._create:
            raise LedgerMissingError(
                f"the database {self.name} holds no myopenip ledger yet: nothing was ever "
                "recorded there (a database mistyped in MYOPENIP_LEDGER?)"
            )
        with self.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            cur.execute("CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT)")
            version = _version(cur, self.name)
            if version < 1:
                for statement in _statements(
                    _SCHEMA_V1.format(id="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
                ):
                    cur.execute(statement)
                cur.execute(_APPEND_ONLY_POSTGRES)
            _set_version(cur, "%s")

    def _current(self) -> bool:
        """Whether the schema is this version's already (a newer one is refused)."""
        with self._conn.cursor() as cur:
            cur.execute("SELECT to_regclass('ledger_meta') IS NOT NULL")
            row = cur.fetchone()
            if not (row and row[0]):
                return False
            return _version(cur, self.name) == SCHEMA_VERSION

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._conn.transaction(), self._conn.cursor() as cur:
            yield cur

    def query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def placeholder(self) -> str:
        return "%s"

    def try_lock(self, key: int) -> bool:
        row = self._locks.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        return bool(row and row[0])

    def unlock(self, key: int) -> None:
        self._locks.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        for conn in (getattr(self, "_conn", None), getattr(self, "_locks", None)):
            if conn is not None:
                with suppress(Exception):
                    conn.close()


def _version(cur: Any, name: str) -> int:
    cur.execute("SELECT value FROM ledger_meta WHERE key = 'schema_version'")
    row = cur.fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"the ledger {name} has schema {version}, newer than this myopenip knows "
            f"({SCHEMA_VERSION}): update myopenip; nothing was written"
        )
    return version


def _set_version(cur: Any, p: str) -> None:
    cur.execute("DELETE FROM ledger_meta WHERE key = 'schema_version'")
    cur.execute(
        f"INSERT INTO ledger_meta (key, value) VALUES ('schema_version', {p})",
        (str(SCHEMA_VERSION),),
    )


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _triggers(script: str) -> list[str]:
    """SQLite's triggers, each whole (their bodies hold a ';')."""
    return [part.strip() + " END;" for part in script.split("END;") if part.strip()]
