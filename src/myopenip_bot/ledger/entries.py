"""What the ledger holds: one entry per outcome, and the pure rules that read them.

An entry is a fact at a moment: the bot was about to click « Valider » for a licence
(`submitting`), the portal accepted it (`in_progress`), an outcome was settled (the
run's own words: `done`, `already_done`, `would_do`, `refused`, …), or billing
terminated a number it released (`terminated`). Entries are never changed nor
deleted: a later fact is a later entry.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "DISSOCIATED",
    "SUBMITTING",
    "TERMINATED",
    "Entry",
    "Query",
    "at_text",
    "client_key",
    "dissociated_by",
    "latest_per_action",
    "local_minute",
    "portal_key",
    "user_key",
]

#: « Valider » is about to be clicked for this licence; its outcome is a later entry (a
#: run killed in between leaves this one last: a rerun settles it by reading the portal).
SUBMITTING = "submitting"
#: Billing terminated the number (`myopenip numbers --terminated`): it leaves the list.
TERMINATED = "terminated"
#: The entries that say the bot dissociated a number: done, or accepted by the portal.
DISSOCIATED = ("done", "in_progress")


def at_text(moment: datetime) -> str:
    """A moment as the ledger stores it: UTC, to the microsecond, one fixed width (so that
    text order is time order on every back end): "2026-12-07T04:27:15.123456Z"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_minute(at: str) -> str:
    """A stored UTC moment as this machine's local time, to the minute ("2026-12-07
    14:02"); the stored text itself when it is not one."""
    try:
        moment = datetime.fromisoformat(at).astimezone()
    except ValueError:
        return at
    return moment.strftime("%Y-%m-%d %H:%M")


def client_key(text: str) -> str:
    """A client's name as searched: no accents, no case, blanks collapsed
    ("Société  Générale" and "societe generale" are the same)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def user_key(name: str) -> str:
    """A user's name as the ledger looks it up: "USER:" and its words without case nor
    accents, in order ("Lina André" and "andre lina" are "USER:ANDRE LINA"); "" for none."""
    words = sorted(client_key(name).split())
    return "USER:" + " ".join(words).upper() if words else ""


def portal_key(url: str) -> str:
    """The portal an entry is about, as stored: scheme, host, port and path of its URL,
    never a user, a password, a query or a fragment."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True, slots=True)
class Entry:
    """One fact of the ledger. Text from the portal (client, reason) is stored as data,
    as the portal showed it; whoever shows it goes through `myopenip_bot.text`."""

    at: str  # at_text(): UTC
    os_user: str  # who ran the bot on its machine
    host: str  # the machine
    portal_user: str  # the portal's « Identifiant » it logged in with
    portal: str  # portal_key() of MYOPENIP_BASE_URL
    client: str  # the client's name, as the services list shows it ("" when not reached)
    account: str  # its « Compte client » (CC-…)
    service: str
    licence: str
    number: str  # ten digits, or "" (a licence that was not found)
    keep_number: bool | None  # « Conserver le numéro »: Oui (True), Non (False)
    outcome: str  # an Outcome's value, SUBMITTING or TERMINATED
    reason: str
    ticket: str
    command: str  # "dissociate", "batch", "dissociate --dry-run", "numbers --terminated"
    run_dir: str  # the run's folder (a batch's report folder), when it had one
    user: str = ""  # the licence's « Utilisateur » when the run found it ("" otherwise)
    id: int = 0  # the ledger's order of writing (0 before it is written)

    @property
    def released(self) -> bool:
        """The number was dissociated and given back (« Conserver le numéro » = Non)."""
        return self.outcome == "done" and self.keep_number is False

    @property
    def kept(self) -> bool:
        """The number was dissociated and kept in the client's pool."""
        return self.outcome == "done" and self.keep_number is True


@dataclass(frozen=True)
class Query:
    """Which entries to read: every given field must match (refs and tickets without
    regard to case, the client by `client_key` anywhere in its name or account)."""

    number: str | None = None  # ten digits
    licence: str | None = None
    service: str | None = None
    client: str | None = None
    ticket: str | None = None
    user: str | None = None  # a licence's user, whole name (case, accents, order aside)
    since: str | None = None  # at_text(), inclusive
    until: str | None = None  # at_text(), exclusive
    portal: str | None = None  # portal_key(); None: every portal


def latest_per_action(entries: Sequence[Entry]) -> list[Entry]:
    """Of entries newest first, the last word of each run on each licence (its
    `submitting` and `in_progress` are followed by its outcome): what a person asks the
    history. A `submitting` left last says a run stopped after its click. Terminations
    and entries with no run folder all stay."""
    seen: set[tuple[str, str, str, str, str]] = set()
    kept = []
    for entry in entries:
        if entry.outcome == TERMINATED or not entry.run_dir:
            kept.append(entry)
            continue
        key = (entry.run_dir, entry.portal, entry.service, entry.licence, entry.number)
        if key in seen:
            continue
        seen.add(key)
        kept.append(entry)
    return kept


def numbers_of(entries: Iterable[Entry]) -> list[str]:
    """The distinct numbers of `entries`, in their order."""
    return list(dict.fromkeys(entry.number for entry in entries if entry.number))


def dissociated_by(entries: Iterable[Entry], keys: Iterable[str]) -> dict[str, Entry]:
    """Of `entries` newest first, the latest that says the bot dissociated each of `keys`
    (a number's ten digits, or a licence ref in any case): `done` or `in_progress`, by
    its number or its licence. A dry run's, a refusal's or a rerun's entries say nothing
    of the kind."""
    wanted = {key.upper() for key in keys if key}
    found: dict[str, Entry] = {}
    for entry in entries:
        if entry.outcome not in DISSOCIATED:
            continue
        for key in (entry.number, entry.licence.upper(), user_key(entry.user)):
            if key and key in wanted:
                found.setdefault(key, entry)
    return found
