"""The replica's data in SQLite: schema, read queries and the dissociation transaction.

One connection serves the whole (single-threaded, async) app, so submissions are
serialised: of two racing submissions for one licence, the second finds it already
without a number and is refused.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from myopenip_portal.drift import ui_format

STANDARDISTE = "Application standardiste"
METACENTREX = "MetaCentrex"
ACTIVE = "Actif"
ASSIGNED_STATE = "Affectée"
UNASSIGNED_STATE = "Non affectée"
# « État » of a licence whose dissociation the back end accepted and is working on (the
# late-completion quirk); the spec gives this wording as an example.
IN_PROGRESS_STATE = "Dissociation en cours"

SCHEMA = """
CREATE TABLE IF NOT EXISTS partners(
    login TEXT PRIMARY KEY, name TEXT NOT NULL, password TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients(
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, account TEXT NOT NULL UNIQUE,
    partner TEXT NOT NULL REFERENCES partners(login));
CREATE TABLE IF NOT EXISTS sites(
    id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL REFERENCES clients(id),
    name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS services(
    ref TEXT PRIMARY KEY, name TEXT NOT NULL,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    site_id INTEGER NOT NULL REFERENCES sites(id),
    type TEXT NOT NULL, state TEXT NOT NULL, details TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS licences(
    ref TEXT PRIMARY KEY, service_ref TEXT NOT NULL REFERENCES services(ref),
    type TEXT NOT NULL, tab TEXT NOT NULL CHECK (tab IN ('utilisateurs', 'groupements')),
    sda TEXT UNIQUE, user_name TEXT NOT NULL, site TEXT NOT NULL, state TEXT NOT NULL,
    accountcode TEXT NOT NULL, fiche TEXT NOT NULL, urgence TEXT NOT NULL,
    fax2mail TEXT NOT NULL, restrictions TEXT NOT NULL, restrictions_hf TEXT NOT NULL,
    superviseur TEXT NOT NULL, options TEXT NOT NULL, settings TEXT NOT NULL,
    history INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS numbers(
    number TEXT PRIMARY KEY, account TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('assigned', 'available', 'quarantine')),
    licence_ref TEXT REFERENCES licences(ref));
CREATE TABLE IF NOT EXISTS audit(
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL,
    action TEXT NOT NULL, licence_ref TEXT NOT NULL, number TEXT NOT NULL,
    keep INTEGER NOT NULL);
"""
_TABLES = ("audit", "numbers", "licences", "services", "sites", "clients", "partners")

# The licence filter fields: form key -> (label, column). Labels are the spec's, verbatim.
LICENCE_FILTERS: tuple[tuple[str, str, str], ...] = (
    ("sda", "SDA", "sda"),
    ("licence", "Licence", "licence"),
    ("accountcode", "Réf. accountcode", "accountcode"),
    ("fiche", "Réf. fiche produit contractée", "fiche"),
    ("etat", "État", "state"),
    ("urgence", "Numéro d'urgence", "urgence"),
    ("site", "Site", "site"),
    ("fax2mail", "Numéro Fax2Mail", "fax2mail"),
    ("restrictions", "Restrictions d'appels sortants", "restrictions"),
    ("restrictions_hf", "Restrictions d'appels sortants hors forfait illimité", "restrictions_hf"),
    ("superviseur", "Superviseur", "superviseur"),
)
# The service filters: form key -> (label = column header, column).
SERVICE_FILTERS: tuple[tuple[str, str, str], ...] = (
    ("ref", "Réf. du service", "ref"),
    ("name", "Nom du service", "name"),
    ("client", "Client", "client"),
    ("account", "Compte client", "account"),
    ("site", "Site", "site"),
    ("type", "Type de service", "type"),
    ("state", "État du service", "state"),
)


class DissociationError(Exception):
    """A submission the portal refuses; nothing was changed."""

    def __init__(self, status: int, code: str, message: str, licence_ref: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.licence_ref = licence_ref


@dataclass(frozen=True)
class Dissociated:
    """One number taken off its licence by a committed submission."""

    licence_ref: str
    number: str
    keep: bool


def connect(path: str | None) -> sqlite3.Connection:
    """Open the database (in memory when path is None) and create the schema."""
    # check_same_thread=False: the TestClient runs the app in a worker thread; the app
    # itself only ever touches the connection from its one event-loop thread at a time.
    conn = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA)
    return conn


def is_empty(conn: sqlite3.Connection) -> bool:
    count: int = conn.execute("SELECT COUNT(*) FROM partners").fetchone()[0]
    return count == 0


def wipe(conn: sqlite3.Connection) -> None:
    for table in _TABLES:
        conn.execute(f"DELETE FROM {table}")  # names are constants above
    conn.execute("DELETE FROM sqlite_sequence WHERE name = 'audit'")


def insert_rows(conn: sqlite3.Connection, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert dicts into a table (columns from the first row); the caller owns the transaction."""
    rows = list(rows)
    if not rows:
        return
    columns = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    conn.executemany(sql, [tuple(_encode(row[c]) for c in columns) for row in rows])


def _encode(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


# ---------------------------------------------------------------------------- text helpers


def fold(text: str) -> str:
    """Lower-case and strip accents, so filters match like a person expects."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def digits_of(text: str) -> str:
    """The digits of a typed number; "+33 2 31…" becomes "02 31…"'s digits."""
    compact = "".join(c for c in text if c.isdigit() or c == "+")
    if compact.startswith("+33"):
        compact = "0" + compact[3:]
    return compact.replace("+", "")


def display_number(number: str | None) -> str:
    """ "0231456789" -> "02 31 45 67 89" (the portal's way of showing numbers)."""
    if not number:
        return ""
    return " ".join(number[i : i + 2] for i in range(0, len(number), 2))


# ---------------------------------------------------------------------------- logins


def partner_password(conn: sqlite3.Connection, login: str) -> str | None:
    row = conn.execute("SELECT password FROM partners WHERE login = ?", (login,)).fetchone()
    return None if row is None else str(row["password"])


def partner_name(conn: sqlite3.Connection, login: str) -> str:
    row = conn.execute("SELECT name FROM partners WHERE login = ?", (login,)).fetchone()
    return login if row is None else str(row["name"])


# ---------------------------------------------------------------------------- services

_SERVICE_SELECT = """
SELECT s.ref, s.name, c.name AS client, c.account AS account, si.name AS site,
       s.type, s.state, s.details, c.partner AS partner
FROM services s JOIN clients c ON c.id = s.client_id JOIN sites si ON si.id = s.site_id
"""


def service(conn: sqlite3.Connection, ref: str) -> dict[str, Any] | None:
    row = conn.execute(_SERVICE_SELECT + " WHERE s.ref = ?", (ref,)).fetchone()
    if row is None:
        return None
    result = dict(row)
    result["details"] = json.loads(result["details"])
    return result


def services_for(
    conn: sqlite3.Connection, partner: str, filters: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The services a partner's user sees, filtered by substring on each column."""
    rows = conn.execute(_SERVICE_SELECT + " WHERE c.partner = ? ORDER BY s.ref", (partner,))
    wanted = {col: fold(filters.get(key, "").strip()) for key, _, col in SERVICE_FILTERS}
    return [
        dict(row)
        for row in rows
        if all(not needle or needle in fold(str(row[col])) for col, needle in wanted.items())
    ]


# ---------------------------------------------------------------------------- licences


def licences_of(
    conn: sqlite3.Connection, service_ref: str, tab: str, filters: Mapping[str, str]
) -> list[dict[str, Any]]:
    """A service's licences of one tab, filtered by substring on each filter field."""
    rows = [
        dict(row)
        for row in conn.execute(
            "SELECT * FROM licences WHERE service_ref = ? AND tab = ? ORDER BY ref",
            (service_ref, tab),
        )
    ]
    for row in rows:
        row["licence"] = f"{row['ref']} {row['type']}"
    for key, _, column in LICENCE_FILTERS:
        needle = filters.get(key, "").strip()
        if not needle:
            continue
        if key == "sda":
            digits = digits_of(needle)
            if not digits:  # letters only: no number can match
                return []
            rows = [r for r in rows if r["sda"] and digits in r["sda"]]
        else:
            folded = fold(needle)
            rows = [r for r in rows if folded in fold(str(r[column]))]
    return rows


def licences_by_ref(conn: sqlite3.Connection, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for ref in refs:
        row = conn.execute(
            "SELECT l.*, c.partner AS partner FROM licences l "
            "JOIN services s ON s.ref = l.service_ref JOIN clients c ON c.id = s.client_id "
            "WHERE l.ref = ?",
            (ref,),
        ).fetchone()
        if row is not None:
            found[ref] = dict(row)
    return found


def check_licences(
    conn: sqlite3.Connection, partner: str, service_ref: str, refs: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The licences if all are this service's (and so this partner's); raises otherwise."""
    if not refs:
        raise DissociationError(400, "no_licence", "Aucune licence n'est sélectionnée.")
    if len(set(refs)) != len(refs):
        dup = next(r for r in refs if refs.count(r) > 1)
        raise DissociationError(
            400, "duplicate", ui_format("La licence {} est en double.", dup), dup
        )
    found = licences_by_ref(conn, refs)
    for ref in refs:
        licence = found.get(ref)
        if licence is None:
            raise DissociationError(
                404, "unknown_licence", ui_format("Licence {} introuvable.", ref), ref
            )
        if licence["partner"] != partner or licence["service_ref"] != service_ref:
            raise DissociationError(
                403,
                "foreign_licence",
                ui_format("La licence {} n'appartient pas au service {}.", ref, service_ref),
                ref,
            )
    return found


def check_dissociation(
    conn: sqlite3.Connection, *, partner: str, service_ref: str, refs: Sequence[str]
) -> None:
    """Everything `dissociate` would refuse, without changing anything: the service is
    this partner's active MetaCentrex one, the licences are its own and each has a number."""
    svc = service(conn, service_ref)
    if svc is None or svc["partner"] != partner:
        raise DissociationError(
            404, "unknown_service", ui_format("Service {} introuvable.", service_ref)
        )
    if svc["type"] != METACENTREX or svc["state"] != ACTIVE:
        raise DissociationError(
            409,
            "service_not_active",
            ui_format(
                "Le service {} n'est pas un service MetaCentrex actif : "
                "aucun numéro ne peut être dissocié.",
                service_ref,
            ),
        )
    licences = check_licences(conn, partner, service_ref, refs)
    for ref in refs:
        if not licences[ref]["sda"]:
            raise DissociationError(
                409,
                "no_number",
                ui_format("La licence {} n'a pas de numéro à dissocier.", ref),
                ref,
            )


def set_licence_state(conn: sqlite3.Connection, refs: Sequence[str], state: str) -> None:
    """« État » of these licences (the back end at work on them, or done with it)."""
    conn.executemany("UPDATE licences SET state = ? WHERE ref = ?", [(state, r) for r in refs])


def rename_service_refs(conn: sqlite3.Connection, mapping: Mapping[str, str]) -> None:
    """Give services other refs (old -> new), their licences following, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("PRAGMA defer_foreign_keys = ON")
        for old, new in mapping.items():
            conn.execute("UPDATE services SET ref = ? WHERE ref = ?", (new, old))
            conn.execute("UPDATE licences SET service_ref = ? WHERE service_ref = ?", (new, old))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def service_refs(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT ref FROM services ORDER BY ref")]


def dissociate(
    conn: sqlite3.Connection,
    *,
    partner: str,
    service_ref: str,
    choices: Sequence[tuple[str, bool]],
    user: str,
    at: str,
) -> list[Dissociated]:
    """Take the numbers off these licences, all or none, in one transaction.

    Per licence: number, settings, history and user gone; state "Non affectée"; the
    option "Application standardiste" ended, other options kept. The number becomes
    available (keep) or enters quarantine, and the audit records it.
    """
    svc = service(conn, service_ref)
    if svc is None or svc["partner"] != partner:
        raise DissociationError(
            404, "unknown_service", ui_format("Service {} introuvable.", service_ref)
        )
    if svc["type"] != METACENTREX or svc["state"] != ACTIVE:
        raise DissociationError(
            409,
            "service_not_active",
            ui_format(
                "Le service {} n'est pas un service MetaCentrex actif : "
                "aucun numéro ne peut être dissocié.",
                service_ref,
            ),
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        licences = check_licences(conn, partner, service_ref, [ref for ref, _ in choices])
        done: list[Dissociated] = []
        for ref, keep in choices:
            licence = licences[ref]
            number = licence["sda"]
            if not number:
                raise DissociationError(
                    409,
                    "no_number",
                    ui_format("La licence {} n'a pas de numéro à dissocier.", ref),
                    ref,
                )
            options = [o for o in json.loads(licence["options"]) if o != STANDARDISTE]
            conn.execute(
                "UPDATE licences SET sda = NULL, user_name = '', state = ?, urgence = '', "
                "fax2mail = '', superviseur = '', options = ?, settings = '{}', history = 0 "
                "WHERE ref = ?",
                (UNASSIGNED_STATE, json.dumps(options, ensure_ascii=False), ref),
            )
            conn.execute(
                "UPDATE numbers SET state = ?, licence_ref = NULL WHERE number = ?",
                ("available" if keep else "quarantine", number),
            )
            conn.execute(
                "INSERT INTO audit(at, user, action, licence_ref, number, keep) "
                "VALUES (?, ?, 'dissociation', ?, ?, ?)",
                (at, user, ref, number, int(keep)),
            )
            done.append(Dissociated(ref, number, keep))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done


# ---------------------------------------------------------------------------- test API

# POST /_test/data: the text columns a person may edit by hand, by kind of row (the key
# that names a row of each kind, then the editable names). Refs, numbers and the columns a
# rule reads (a service's type and state, a licence's number) are not among them.
EDITABLE: dict[str, tuple[str, frozenset[str]]] = {
    "clients": ("account", frozenset({"name"})),
    "services": ("ref", frozenset({"name", "site"})),
    "licences": (
        "ref",
        frozenset(
            {"type", "user_name", "site", "state", "accountcode", "fiche", "restrictions",
             "restrictions_hf", "superviseur"}
        ),
    ),
}  # fmt: skip
_ROW_NAMES = {"clients": "Client", "services": "Service", "licences": "Licence"}


class UnknownRow(Exception):
    """A hand edit names a row that does not exist; nothing was changed."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{_ROW_NAMES[kind]} {key} introuvable.")
        self.kind = kind
        self.key = key


def edit_texts(
    conn: sqlite3.Connection, edits: Mapping[str, Mapping[str, Mapping[str, str]]]
) -> None:
    """Set text columns as a person editing the database by hand would, all in one
    transaction: `edits` is {kind: {key: {column: text}}} with the kinds and columns of
    EDITABLE (checked by the caller). UnknownRow, and nothing changed, for a missing row.

    A service's "site" gives that service a site of its own with that name, so no other
    service sharing its site changes."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for kind, rows in edits.items():
            key_column, editable = EDITABLE[kind]
            for key, values in rows.items():
                _edit_row(conn, kind, key_column, key, values, editable)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _edit_row(
    conn: sqlite3.Connection,
    kind: str,
    key_column: str,
    key: str,
    values: Mapping[str, str],
    editable: frozenset[str],
) -> None:
    if not set(values) <= editable:
        raise ValueError(f"not editable in {kind}: {sorted(set(values) - editable)}")
    if conn.execute(f"SELECT 1 FROM {kind} WHERE {key_column} = ?", (key,)).fetchone() is None:
        raise UnknownRow(kind, key)
    columns = dict(values)
    if kind == "services" and "site" in columns:
        conn.execute(
            "INSERT INTO sites(client_id, name) SELECT client_id, ? FROM services WHERE ref = ?",
            (columns.pop("site"), key),
        )
        conn.execute("UPDATE services SET site_id = last_insert_rowid() WHERE ref = ?", (key,))
    if columns:  # names from EDITABLE only (checked above), values bound
        assignments = ", ".join(f"{column} = ?" for column in columns)
        conn.execute(
            f"UPDATE {kind} SET {assignments} WHERE {key_column} = ?", (*columns.values(), key)
        )


def state(conn: sqlite3.Connection) -> dict[str, Any]:
    """The whole data set in the spec's `GET /_test/state` shape."""
    services = [
        {k: row[k] for k in ("ref", "name", "client", "account", "site", "type", "state")}
        for row in conn.execute(_SERVICE_SELECT + " ORDER BY s.ref")
    ]
    licences = [
        {
            "ref": row["ref"],
            "type": row["type"],
            "tab": row["tab"],
            "service_ref": row["service_ref"],
            "sda": row["sda"],
            "state": row["state"],
            "options": json.loads(row["options"]),
            "settings": json.loads(row["settings"]),
            "history": row["history"],
        }
        for row in conn.execute("SELECT * FROM licences ORDER BY ref")
    ]
    numbers = [
        dict(row)
        for row in conn.execute(
            "SELECT number, account, state, licence_ref FROM numbers ORDER BY number"
        )
    ]
    audit = [
        {**dict(row), "keep": bool(row["keep"])}
        for row in conn.execute(
            "SELECT at, user, action, licence_ref, number, keep FROM audit ORDER BY id"
        )
    ]
    return {"services": services, "licences": licences, "numbers": numbers, "audit": audit}
