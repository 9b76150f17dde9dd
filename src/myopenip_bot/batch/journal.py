"""The batch journal: a write-ahead record of each row's state, in SQLite, that a killed run
leaves ready to resume.

    pending ──plan──▶ planned ──▶ submitting ──▶ done | refused | failed | unknown
       │                  │              ╰──▶ in_progress ──▶ done
       │                  ╰──▶ already_done | refused | failed | in_progress
       ╰── (a rerun) every row not final goes through the plan again; a new run (`begin`)
           first puts the final ones (done, already_done, refused) back to pending

A row's state is a `Stage` (pending, planned, submitting) or the `models.Outcome` it
settled with (done, already_done, refused, failed, unknown, in_progress), stored as its
value; a row read in any other state is refused (SettingsError), never guessed. Each
transition is one guarded statement (`UPDATE … WHERE … AND state IN (…)`, the states
`_FROM` allows): a row in another state is left as it is, and a row about to be
submitted that cannot be refuses the whole « Valider » (JournalError).

"submitting" is written and synced *before* the click on « Valider »; "in_progress" as
soon as the portal's answer says it accepted (before the listing is read back); the
outcome after. WAL mode, synchronous=FULL, one transaction per transition (BEGIN
IMMEDIATE), a schema version in PRAGMA user_version and our own PRAGMA application_id,
so that a file that is not a journal is never written to.

A run is a night, not a path: each run records the digest of the file's rows
(`file_digest`) and `begin` decides (`resumes`) whether it resumes the journal's last
run or is a new one. It resumes when that run was of the same rows and was killed (no
end recorded) or left one of them not final (interrupted, or ended with rows to settle):
final rows (done, already done, refused) are skipped. Otherwise (the last run ended with
every row final, or the file changed) it is a new run: the file's final rows go back to
"pending" with their per-run data cleared, so that every row is read again from the
portal (done last night: already done tonight; given a new number since: acted on, or
refused when the file gives the old one). Either way a row not final keeps its state: a
row left "submitting" or "unknown" is settled by reading the portal (no number any more:
done; shown at work: in progress), and « Valider » is clicked for it again only after
that read shows its number still there (a lost answer is never final: no cap across runs,
a few times within one); a row "in_progress" is never submitted again (done once the
portal shows it, else in progress still).

A lock file beside it (`<journal>.lock`, flock) lets one run at a time use it; the kernel
releases it when a run dies, so a killed run never leaves it stuck. The lock is taken only
once the journal's path is checked (a regular file or nothing yet, no link for it or its
companions), and never through a link. The journal holds no secret: refs, numbers,
states, what the portal showed of each row (service name, client, licence type, user) and
its answers (made visible, text.visible), screenshot paths, and each run's exit code,
report folder, rows' digest, the run it resumes, and the portal that answered its login.

A journal belongs to one portal, recorded only once that portal answered a login
(`portal_answered`): a run that never reached it (a wrong URL, a portal down) binds it
to nothing.

Schema versions: 1 had no service name, licence type, user or report; 2 no portal; 3 no
digest nor resumed run, and recorded the portal when a run started. An earlier journal is
brought forward in place when it is opened (the columns added, empty until a run fills
them; a version 3 run that no row names, which may never have reached its portal, is
unbound from it), never refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote

import structlog

from myopenip_bot.batch.file import BatchRow
from myopenip_bot.browser.workdir import make_private_dirs
from myopenip_bot.dissociation.accepted import same_portal
from myopenip_bot.errors import BotError, SettingsError, TechnicalError
from myopenip_bot.files import refuse_link
from myopenip_bot.models import Outcome
from myopenip_bot.text import visible

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FINAL",
    "KEPT",
    "STATES",
    "Journal",
    "JournalError",
    "JournalLockedError",
    "JournalRow",
    "JournalWriteError",
    "RunRecord",
    "Settlement",
    "Stage",
    "State",
    "file_digest",
    "resumes",
]

log = structlog.get_logger(__name__)

APPLICATION_ID = 0x4D4F4950  # "MOIP"
SCHEMA_VERSION = 4
# Rows added per transaction when a file is loaded (a signal is checked between two).
LOAD_CHUNK = 10_000
# The files SQLite and the lock keep beside a journal.
COMPANIONS = ("-wal", "-shm", "-journal", ".lock")
_COLUMNS = (  # in JournalRow's order
    "service, licence, line, keep, number, state, planned_number, tab,"
    " submissions, reason, answer, screenshot, client, run,"
    " service_name, licence_type, user_name"
)


class Stage(StrEnum):
    """A row's state before it has an outcome."""

    PENDING = "pending"  # in the file, not read yet (or again, by a rerun)
    PLANNED = "planned"  # found with a number by the run that gave it this state
    SUBMITTING = "submitting"  # « Valider » about to be clicked, or clicked: answer not read


State = Stage | Outcome
# The outcomes a row keeps; the others (would do, not confirmed, not attempted) leave it
# in the state it had, with their reason.
KEPT = frozenset(
    {
        Outcome.DONE,
        Outcome.ALREADY_DONE,
        Outcome.REFUSED,
        Outcome.FAILED,
        Outcome.UNKNOWN,
        Outcome.IN_PROGRESS,
    }
)
# Every state a row may be in, by the text the journal stores.
STATES: dict[str, State] = {state.value: state for state in (*Stage, *KEPT)}
# Rows a rerun leaves as they are.
FINAL = frozenset({Outcome.DONE, Outcome.ALREADY_DONE, Outcome.REFUSED})
_OPEN = frozenset(STATES.values()) - FINAL
# The states a row may move to each state from (a guarded UPDATE: any other stays put).
# A final row moves no more, but that its run may tell it again (a new reason).
_FROM: dict[State, frozenset[State]] = {
    Stage.PLANNED: _OPEN,
    Stage.SUBMITTING: _OPEN - {Outcome.IN_PROGRESS},  # accepted once: never sent again
    **{outcome: _OPEN | ({outcome} & FINAL) for outcome in KEPT},
    # two entries found to be one licence: both refused, one already without number
    Outcome.REFUSED: _OPEN | {Outcome.REFUSED, Outcome.ALREADY_DONE},
}
# A service refused as a whole: rows whose « Valider » was accepted or whose answer was
# never read keep their state (a rerun reads them), and so do final ones.
_REFUSED_WITH_THE_SERVICE = _OPEN - {Outcome.UNKNOWN, Outcome.IN_PROGRESS}

_SCHEMA = """
CREATE TABLE rows (
    service TEXT NOT NULL,
    licence TEXT NOT NULL,
    line INTEGER NOT NULL,
    keep INTEGER NOT NULL,
    number TEXT,                 -- as the file gives it, or NULL
    state TEXT NOT NULL,
    planned_number TEXT,         -- the number the portal showed when planned
    tab TEXT,
    submissions INTEGER NOT NULL DEFAULT 0,  -- « Valider » clicks with it, over all runs
    reason TEXT,
    answer TEXT,                 -- the portal's words after « Valider »
    screenshot TEXT,             -- the dialog before « Valider »
    client TEXT,                 -- the service's client, as the services list shows it
    run INTEGER,                 -- the run that gave the row its state
    updated_at TEXT NOT NULL,
    service_name TEXT,           -- (2) the service's name, as the services list shows it
    licence_type TEXT,           -- (2) "Licence full conferencing", as the listing shows it
    user_name TEXT,              -- (2) « Utilisateur », as the listing shows it
    PRIMARY KEY (service, licence)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    file TEXT NOT NULL,
    exit_code INTEGER,
    report TEXT,                 -- (2) its report folder
    portal TEXT,                 -- (3) the portal that answered its login (MYOPENIP_BASE_URL)
    digest TEXT,                 -- (4) the digest of the file's rows (file_digest)
    resumes INTEGER              -- (4) the run it resumes (NULL: a new run, every row read)
);
"""
# From each version to the next, in place, in one transaction.
_MIGRATIONS = {
    1: (
        "ALTER TABLE rows ADD COLUMN service_name TEXT",
        "ALTER TABLE rows ADD COLUMN licence_type TEXT",
        "ALTER TABLE rows ADD COLUMN user_name TEXT",
        "ALTER TABLE runs ADD COLUMN report TEXT",
    ),
    2: ("ALTER TABLE runs ADD COLUMN portal TEXT",),
    3: (
        "ALTER TABLE runs ADD COLUMN digest TEXT",
        "ALTER TABLE runs ADD COLUMN resumes INTEGER",
        # Version 3 recorded the portal when a run started, reached or not: a run no row
        # names never planned nor settled one, and may never have reached its portal.
        "UPDATE runs SET portal = NULL WHERE id NOT IN"
        " (SELECT DISTINCT run FROM rows WHERE run IS NOT NULL)",
    ),
}
# A new run clears what an earlier run wrote of a final row (its state back to pending).
_RENEWED = (
    "state = 'pending', planned_number = NULL, tab = NULL, submissions = 0, reason = NULL,"
    " answer = NULL, screenshot = NULL, client = NULL, run = NULL, service_name = NULL,"
    " licence_type = NULL, user_name = NULL"
)


class JournalLockedError(BotError):
    """Another run holds the journal's lock."""


class JournalWriteError(BotError):
    """The journal could not be written (a full disk, a read-only file, an I/O error):
    nothing of that transition was recorded. Neither business nor technical: never
    retried, the batch stops before its next « Valider » (that one is never clicked
    unless "submitting" was recorded first)."""


class JournalError(TechnicalError):
    """Rows about to be submitted are not in a state that may be (nothing was written)."""


@dataclass(slots=True)
class JournalRow:
    """One row of the journal as read. Not frozen: a batch reads 200,000 of them after
    a stop, and a frozen dataclass takes three times as long to build; nothing assigns
    to one (a fresh read replaces it)."""

    service: str
    licence: str
    line: int
    keep: bool
    number: str | None
    state: State
    planned_number: str | None
    tab: str | None
    submissions: int
    reason: str | None
    answer: str | None
    screenshot: str | None
    client: str | None
    run: int | None
    service_name: str | None = None
    licence_type: str | None = None
    user: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL


@dataclass(slots=True)
class Settlement:
    """What the runner settled one row with: its `outcome` (one of KEPT gives the row that
    state; any other, or None, leaves the state and records why, with what was read),
    `reason`, the portal's `answer`, the `number` as planned, the `tab`, the « Valider »
    count (`submissions`), what the listing showed (`licence_type`, `user`) and the
    dialog's `screenshot`. A detail None leaves the row's as it is."""

    licence: str
    outcome: Outcome | None
    reason: str | None = None
    answer: str | None = None
    number: str | None = None
    tab: str | None = None
    submissions: int | None = None
    licence_type: str | None = None
    user: str | None = None
    screenshot: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One run of the journal: when it started, and as `finish_run` recorded it (None
    for a run killed or still running); the digest of its file's rows; the run it
    resumed (None: a new run)."""

    id: int
    started_at: str
    finished_at: str | None
    exit_code: int | None
    report: str | None
    digest: str | None = None
    resumes: int | None = None


_RUN_COLUMNS = "id, started_at, finished_at, exit_code, report, digest, resumes"


def file_digest(rows: Iterable[BatchRow]) -> str:
    """What a file asks, as one digest: each row's service, licence, keep value and
    number, in the file's order (its line numbers, blank lines and layout aside)."""
    digest = hashlib.sha256()
    for row in rows:
        fields = (row.service, row.licence, "1" if row.keep else "0", row.number or "")
        digest.update(("\x1f".join(fields) + "\x1e").encode())
    return digest.hexdigest()


def resumes(last: RunRecord | None, digest: str, states: Iterable[State]) -> bool:
    """Whether a run of a file whose rows digest to `digest`, and are in the journal in
    `states`, resumes the journal's `last` run: only when that run was of the same rows
    and was killed (it recorded no end) or left one of them not final (interrupted, or
    ended with rows to settle). Otherwise (it ended with every row final; or the file
    changed) it is a new run, which reads every row of the file again."""
    if last is None or last.digest != digest:
        return False
    return last.finished_at is None or any(state not in FINAL for state in states)


def copy_for_dry_run(path: Path, copy: Path) -> None:
    """Copy the journal at `path` to `copy` without ever writing to it: checked through a
    read-only connection (its last records included, even those a killed run left in the
    write-ahead log), while its lock is held. Raises like `Journal.open`."""
    check_path(path)
    lock_fd = _lock(path)
    try:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise SettingsError(f"{path} is not a journal (not an SQLite file): not touched")
        try:
            source = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise SettingsError(f"the journal {path} cannot be read: {error}") from None
        try:
            app_id = source.execute("PRAGMA application_id").fetchone()[0]
            if app_id != APPLICATION_ID:
                raise SettingsError(f"{path} is an SQLite file but not a myopenip journal")
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                target.close()
        except sqlite3.DatabaseError as error:
            raise SettingsError(f"the journal {path} is unreadable or corrupt: {error}") from None
        finally:
            source.close()
    finally:
        if lock_fd is not None:
            os.close(lock_fd)


class Journal:
    """An open, locked journal; `open` it, `close` it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock_fd: int | None) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd = lock_fd
        self._mutex = threading.RLock()  # workers share the connection: one at a time
        self.run_id: int | None = None

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Lock and open (or create) the journal at `path`.

        Raises JournalLockedError when another run holds it, SettingsError when the file
        is not a journal of ours, is corrupt, or cannot be created: it is never overwritten.
        """
        path = path.expanduser()
        check_path(path)
        try:
            make_private_dirs(path.parent)
        except OSError as error:
            raise SettingsError(
                f"cannot create the journal's folder {path.parent}: {error}"
            ) from None
        lock_fd = _lock(path)
        try:
            conn = _connect(path)
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise
        return cls(path, conn, lock_fd)

    def close(self) -> None:
        self._conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rows -----------------------------------------------------------------------------

    def load(
        self, rows: list[BatchRow], check: Callable[[], None] | None = None
    ) -> list[JournalRow]:
        """Add the file's rows not yet in the journal; return every row of the file.

        A row already in the journal keeps its history. If the file now asks another
        « Conserver le numéro » for a row that is not final, the file wins (nothing was
        submitted with the old value unless it is "submitting", which keeps its value).
        Rows go in LOAD_CHUNK at a time (loading twice adds nothing twice); `check` is
        called between two chunks, so that a signal stops a long load.
        """
        now = _now()
        for start in range(0, len(rows), LOAD_CHUNK):
            if check is not None and start:
                check()
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT INTO rows (service, licence, line, keep, number, state, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 'pending', ?)"
                    " ON CONFLICT (service, licence) DO UPDATE SET line = excluded.line,"
                    " keep = CASE WHEN state IN ('pending', 'planned', 'failed')"
                    "        THEN excluded.keep ELSE keep END,"
                    " number = excluded.number",
                    [
                        (row.service, row.licence, row.line, int(row.keep), row.number, now)
                        for row in rows[start : start + LOAD_CHUNK]
                    ],
                )
        wanted = {(row.service, row.licence) for row in rows}
        return [row for row in self.rows() if (row.service, row.licence) in wanted]

    def rows(self) -> list[JournalRow]:
        """Every row, in the file's order."""
        return self._select("ORDER BY line")

    def rows_of(self, service: str) -> list[JournalRow]:
        """The rows of one service, in the file's order."""
        return self._select("WHERE service = ? ORDER BY line", (service,))

    def row(self, service: str, licence: str) -> JournalRow | None:
        found = self._select("WHERE service = ? AND licence = ?", (service, licence))
        return found[0] if found else None

    def _select(self, where: str, values: tuple[object, ...] = ()) -> list[JournalRow]:
        with self._mutex:
            cursor = self._conn.execute(f"SELECT {_COLUMNS} FROM rows {where}", values)
            found = cursor.fetchall()
        try:
            return [
                JournalRow(r[0], r[1], r[2], bool(r[3]), r[4], STATES[r[5]], *r[6:]) for r in found
            ]
        except KeyError as unknown:
            raise SettingsError(
                f"the journal {self.path} holds a row in a state this bot does not know "
                f"({unknown.args[0]!r}): not a journal it wrote; not touched, give another "
                "--journal"
            ) from None

    def planned(
        self,
        service: str,
        licence: str,
        number: str | None,
        tab: str | None,
        *,
        licence_type: str | None = None,
        user: str | None = None,
    ) -> None:
        """Found with a number, by this run: what the listing showed of it."""
        fields: dict[str, object] = {
            "state": Stage.PLANNED,
            "planned_number": number,
            "tab": tab,
            "reason": None,
            "run": self.run_id,
        }
        if licence_type is not None:
            fields["licence_type"] = visible(licence_type)
        if user is not None:
            fields["user_name"] = visible(user)
        with self._transaction() as conn:
            moved = _update(conn, fields, _FROM[Stage.PLANNED], [(service, licence)])
        if not moved:
            _kept(service, Stage.PLANNED, 1)

    def submitting(self, service: str, licences: Sequence[str], screenshot: str | None) -> None:
        """Before « Valider »: these rows are being submitted (synced to disk on return).
        Raises JournalError, writing nothing, when one of them may not be (a « Valider »
        accepted before, a final row): that « Valider » must not be clicked."""
        fields: dict[str, object] = {"state": Stage.SUBMITTING}
        if screenshot is not None:
            fields["screenshot"] = screenshot
        with self._transaction() as conn:
            moved = _update(
                conn,
                fields,
                _FROM[Stage.SUBMITTING],
                [(service, licence) for licence in licences],
                also="submissions = submissions + 1",
            )
            if moved != len(licences):
                raise JournalError(
                    f"the journal holds {len(licences) - moved} of the rows of {service} "
                    "about to be submitted in a state that may not be (accepted before, or "
                    "final): « Valider » was not clicked"
                )

    def settle(self, service: str, settlements: Sequence[Settlement]) -> None:
        """Rows' outcomes (Settlement), in one transaction: a few statements, however many
        rows (a stopped batch settles 200,000)."""
        groups: dict[tuple[Outcome | None, tuple[str, ...]], list[tuple[str, str]]] = {}
        values: dict[tuple[Outcome | None, tuple[str, ...]], list[tuple[object, ...]]] = {}
        for settled in settlements:
            fields = _settled_fields(settled, self.run_id)
            key = (settled.outcome if settled.outcome in KEPT else None, tuple(fields))
            values.setdefault(key, []).append(tuple(fields.values()))
            groups.setdefault(key, []).append((service, settled.licence))
        with self._transaction() as conn:
            for key, rows in groups.items():
                outcome, columns = key
                allowed = _FROM[outcome] if outcome is not None else _OPEN
                moved = _update_each(conn, columns, values[key], allowed, rows)
                if moved != len(rows):
                    _kept(service, outcome, len(rows) - moved)

    def refuse(self, service: str, licences: Sequence[str], reason: str) -> None:
        """A service refused as a whole: its rows refused, in one statement, but those
        final, accepted (in progress) or whose « Valider » answer was never read (unknown)."""
        fields: dict[str, object] = {
            "state": Outcome.REFUSED,
            "reason": visible(reason),
            "run": self.run_id,
        }
        with self._transaction() as conn:
            _update(
                conn,
                fields,
                _REFUSED_WITH_THE_SERVICE,
                [(service, licence) for licence in licences],
            )

    def set_service(
        self, service: str, *, name: str | None = None, client: str | None = None
    ) -> None:
        """What the services list showed of `service`, for every row of it."""
        fields = {
            column: visible(value)
            for column, value in (("client", client), ("service_name", name))
            if value is not None
        }
        if not fields:
            return
        assignments = ", ".join(f"{column} = ?" for column in fields)
        with self._transaction() as conn:
            conn.execute(
                f"UPDATE rows SET {assignments} WHERE service = ?", (*fields.values(), service)
            )

    # -- runs -----------------------------------------------------------------------------

    def begin(
        self, file: Path, rows: list[BatchRow], check: Callable[[], None] | None = None
    ) -> tuple[list[JournalRow], RunRecord | None]:
        """Start a run of `file`, whose rows are `rows`: a new run, or the resumption of
        the last one (`resumes`). A new run puts the file's final rows back to "pending",
        their per-run data cleared (every row is read again), in the transaction that
        records it: a signal meanwhile (`check`, between two chunks) leaves neither;
        rows not final keep their state either way. Then the rows are loaded (`load`: a
        run stopped there is resumed by the next). Returns every row of the file, and the
        run this one resumes (None: a new run)."""
        digest = file_digest(rows)
        last = self.last_run(finished=False)
        wanted = {(row.service, row.licence) for row in rows}
        with self._mutex:
            found = self._conn.execute("SELECT service, licence, state FROM rows").fetchall()
        states = [STATES.get(state, Stage.PENDING) for *key, state in found if tuple(key) in wanted]
        resumed = last if resumes(last, digest, states) else None
        renew = resumed is None and any(state in FINAL for state in states)
        with self._transaction() as conn:
            if renew:
                _renew(conn, rows, check)
            self.run_id = _insert_run(conn, file, None, digest, resumed.id if resumed else None)
        return self.load(rows, check), resumed

    def start_run(
        self,
        file: Path,
        portal: str | None = None,
        *,
        digest: str | None = None,
        resumes: int | None = None,
    ) -> int:
        """Record a run of `file` starting now, of rows whose digest is `digest`, that
        resumes the run `resumes` (`begin` says which). `portal`: one that answered its
        login already (else `portal_answered` records it once it does)."""
        with self._transaction() as conn:
            self.run_id = _insert_run(conn, file, portal, digest, resumes)
        return self.run_id

    def portal_answered(self, portal: str) -> None:
        """This run's portal answered its login: the journal is that portal's from now on
        (`other_portal`). A run that never reached its portal binds the journal to none."""
        if self.run_id is None:
            return
        with self._transaction() as conn:
            conn.execute(
                "UPDATE runs SET portal = ? WHERE id = ?", (same_portal(portal), self.run_id)
            )

    def other_portal(self, portal: str) -> str | None:
        """The portal an earlier run of this journal logged in to, when it is not
        `portal`: its rows' states are that portal's, not this one's (None: the same, or
        none answered a login). Runs whose portal never answered are not counted."""
        with self._mutex:
            found = self._conn.execute(
                "SELECT DISTINCT portal FROM runs WHERE portal IS NOT NULL"
            ).fetchall()
        others = sorted(row[0] for row in found if row[0] != same_portal(portal))
        return others[0] if others else None

    def finish_run(self, exit_code: int, report: Path | None = None) -> None:
        if self.run_id is None:
            return
        with self._transaction() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ?, report = ? WHERE id = ?",
                (_now(), exit_code, str(report) if report else None, self.run_id),
            )

    def last_run(self, *, finished: bool = True) -> RunRecord | None:
        """The last run that finished (recorded its exit code), if any; `finished`
        False: the last run recorded, finished or not (killed, or this one)."""
        where = "WHERE finished_at IS NOT NULL " if finished else ""
        with self._mutex:
            found = self._conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs {where}ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return RunRecord(*found) if found else None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    if self._conn.in_transaction:  # SQLite may have rolled back itself
                        self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")  # synchronous=FULL: on disk when this returns
            except sqlite3.Error as error:
                # A full disk, a read-only file: said as what it means, never a traceback.
                with contextlib.suppress(sqlite3.Error):
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                raise JournalWriteError(
                    f"the journal {self.path} could not be written ({error}): nothing more "
                    "was recorded"
                ) from None


def _renew(
    conn: sqlite3.Connection, rows: list[BatchRow], check: Callable[[], None] | None
) -> None:
    """The final rows of `rows` back to "pending", their per-run data cleared; `check`
    between two chunks (a signal: the caller's transaction is rolled back)."""
    final = ", ".join(f"'{state.value}'" for state in sorted(FINAL))
    now = _now()
    for start in range(0, len(rows), LOAD_CHUNK):
        if check is not None and start:
            check()
        conn.executemany(
            f"UPDATE rows SET {_RENEWED}, updated_at = ?"
            f" WHERE service = ? AND licence = ? AND state IN ({final})",
            [(now, row.service, row.licence) for row in rows[start : start + LOAD_CHUNK]],
        )


def _insert_run(
    conn: sqlite3.Connection,
    file: Path,
    portal: str | None,
    digest: str | None,
    resumes: int | None,
) -> int:
    """A run starting now: its id."""
    cursor = conn.execute(
        "INSERT INTO runs (started_at, file, portal, digest, resumes) VALUES (?, ?, ?, ?, ?)",
        (_now(), str(file), same_portal(portal) if portal else None, digest, resumes),
    )
    return int(cursor.lastrowid or 0)


def _settled_fields(settled: Settlement, run: int | None) -> dict[str, object]:
    """The columns a settlement writes: with a state (one of KEPT), the outcome and what
    came with it; else only why the row stays as it is, with what was read."""
    fields: dict[str, object] = {"reason": settled.reason}
    shown: dict[str, object] = {
        "licence_type": settled.licence_type,
        "user_name": settled.user,
        "screenshot": settled.screenshot,
    }
    if settled.outcome in KEPT:
        fields |= {"state": settled.outcome, "run": run}
        shown |= {
            "answer": settled.answer,
            "planned_number": settled.number,
            "tab": settled.tab,
            "submissions": settled.submissions,
        }
    elif settled.number is not None:
        fields["planned_number"] = settled.number  # a dry run's, say
    fields |= {column: value for column, value in shown.items() if value is not None}
    for name in ("reason", "answer", "licence_type", "user_name"):
        value = fields.get(name)
        if isinstance(value, str):
            fields[name] = visible(value)  # the portal's texts
    return fields


def _update(
    conn: sqlite3.Connection,
    fields: dict[str, object],
    allowed: frozenset[State],
    rows: Sequence[tuple[str, str]],
    *,
    also: str = "",
) -> int:
    """Give `rows` (service, licence) the same `fields`, each only from a state of
    `allowed`: the number of rows changed."""
    return _update_each(
        conn, tuple(fields), [tuple(fields.values())] * len(rows), allowed, rows, also=also
    )


def _update_each(
    conn: sqlite3.Connection,
    columns: Sequence[str],
    values: Sequence[tuple[object, ...]],
    allowed: frozenset[State],
    rows: Sequence[tuple[str, str]],
    *,
    also: str = "",
) -> int:
    """Give each row of `rows` (service, licence) its `values` of `columns`, only from a
    state of `allowed`, in one statement run for every row: the number of rows changed."""
    assignments = ", ".join([*(f"{name} = ?" for name in columns), *([also] if also else [])])
    states = ", ".join(f"'{state.value}'" for state in sorted(allowed))
    now = _now()
    cursor = conn.executemany(
        f"UPDATE rows SET {assignments}, updated_at = ? "
        f"WHERE service = ? AND licence = ? AND state IN ({states})",
        [(*value, now, *row) for value, row in zip(values, rows, strict=True)],
    )
    return cursor.rowcount


def _kept(service: str, state: State | None, rows: int) -> None:
    """Rows a transition left as they were: their state did not allow it."""
    log.warning(
        "journal_rows_kept",
        service=service,
        state=state.value if state is not None else None,
        rows=rows,
        why="their state in the journal does not move to this one",
    )


def check_path(path: Path) -> None:
    """Refuse a journal path that is a link, a folder or not a regular file (a device, a
    pipe), or whose companions (`-wal`, `-shm`, `.lock`) are links: nothing is created."""
    refuse_link(path, "the journal")
    for suffix in COMPANIONS:
        refuse_link(path.with_name(path.name + suffix), "the journal's companion file")
    if path.is_dir():
        raise SettingsError(f"the journal {path} is a folder; give a file path with --journal")
    if path.exists() and not path.is_file():
        raise SettingsError(
            f"the journal {path} is not a regular file; give a file path with --journal"
        )


def _lock(path: Path) -> int | None:
    if fcntl is None:
        return None
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as error:
        raise SettingsError(f"cannot create the journal's lock {lock_path}: {error}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip()
        os.close(fd)
        who = f" (pid {holder})" if holder else ""
        raise JournalLockedError(
            f"another run is using the journal {path}{who}: wait for it to end, or give this "
            "run its own --journal"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def _connect(path: Path) -> sqlite3.Connection:
    existed = path.exists() and path.stat().st_size > 0
    try:
        if existed:
            with path.open("rb") as handle:
                if handle.read(16) != b"SQLite format 3\x00":
                    raise SettingsError(
                        f"{path} is not a journal (not an SQLite file): not touched; "
                        "give another --journal"
                    )
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if existed:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if app_id != APPLICATION_ID:
                conn.close()
                raise SettingsError(
                    f"{path} is an SQLite file but not a myopenip journal: not touched; "
                    "give another --journal"
                )
            if version not in _MIGRATIONS and version != SCHEMA_VERSION:
                conn.close()
                raise SettingsError(
                    f"{path} is a journal of another version ({version}, this bot writes "
                    f"{SCHEMA_VERSION}): not touched"
                )
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                conn.close()
                raise SettingsError(
                    f"the journal {path} is corrupt ({verdict}): not touched; keep it for a "
                    "person to look at, and give another --journal"
                )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        if existed:
            _migrate(conn, version)
        if not existed:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        os.chmod(path, 0o600)
        return conn
    except sqlite3.DatabaseError as error:
        with contextlib.suppress(UnboundLocalError, sqlite3.Error):
            conn.close()
        raise SettingsError(f"the journal {path} is unreadable or corrupt: {error}") from None


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a journal of an earlier version forward, one version at a time, each in one
    transaction (a run killed halfway leaves it at a version it can go on from)."""
    while version in _MIGRATIONS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _MIGRATIONS[version]:
                conn.execute(statement)
            version += 1
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
