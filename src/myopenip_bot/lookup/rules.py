"""The lookups' rules on plain data: which client a name means, which licences a filter
keeps, which service a one-shot given by client means."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from myopenip_bot.models import ServiceInfo, Tab, format_number

__all__ = [
    "LicenceFilter",
    "ListedLicence",
    "SdaForms",
    "clients_meant",
    "clients_near",
    "holder",
    "name_likeness",
    "near_words",
    "same_text",
]

# How alike two client names must read (difflib's ratio, case and accents aside) for one
# to be offered for the other: a typo, a plural, a word missing or added.
NEAR_RATIO = 0.6


@dataclass(frozen=True)
class ListedLicence:
    """A licence as a service's tab lists it, with its service."""

    service: ServiceInfo
    tab: Tab
    licence: str
    type: str
    number: str | None  # ten digits
    user: str
    site: str
    state: str


@dataclass(frozen=True)
class LicenceFilter:
    """Which licences to keep: all filters given must hold."""

    with_number: bool = False
    number: str | None = None  # ten digits
    licence: str | None = None  # a ref, or its start
    user: str | None = None  # any part of the user's name, case and accents aside

    def keeps(self, listed: ListedLicence) -> bool:
        if self.with_number and listed.number is None:
            return False
        if self.number is not None and listed.number != self.number:
            return False
        if self.licence is not None and not listed.licence.upper().startswith(self.licence.upper()):
            return False
        return self.user is None or _fold(self.user) in _fold(listed.user)


def same_text(a: str, b: str) -> bool:
    """The same name to a person: case, accents and spacing aside."""
    return _fold(a) == _fold(b)


def clients_meant(given: str, services: Iterable[ServiceInfo]) -> list[tuple[str, str]]:
    """The clients (name, account) `given` means among those of `services`: its account,
    else exactly its name, else every client whose name holds it."""
    clients = sorted({(s.client, s.account) for s in services if s.client or s.account})
    by_account = [c for c in clients if c[1] and same_text(c[1], given)]
    if by_account:
        return by_account
    exact = [c for c in clients if same_text(c[0], given)]
    return exact or [c for c in clients if _fold(given) in _fold(c[0])]


def near_words(given: str) -> list[str]:
    """The words of a client name that found no client, to list the services by instead
    (the longest first, two at most): one right word finds the client a typo hid."""
    words = [w for w in re.split(r"[\s\-'’.,&/]+", given) if len(w) >= 4]
    return sorted(dict.fromkeys(words), key=len, reverse=True)[:2]


def clients_near(
    given: str, services: Iterable[ServiceInfo], limit: int = 3
) -> list[tuple[str, str]]:
    """The clients (name, account) of `services` whose name reads closest to `given`,
    closest first, `limit` at most; none that reads less alike than NEAR_RATIO."""
    scored = sorted(
        (-name_likeness(given, name), name, account)
        for name, account in {(s.client, s.account) for s in services if s.client}
    )
    return [(name, account) for score, name, account in scored if -score >= NEAR_RATIO][:limit]


def name_likeness(given: str, name: str) -> float:
    """How alike two client names read, from 0 to 1, case, accents, punctuation and the
    order of their words aside (« logistique normandie » reads as « Normandie
    Logistique »): difflib's ratio of the names as written, or of their words sorted,
    whichever is higher."""
    as_written = difflib.SequenceMatcher(None, _fold(given), _fold(name)).ratio()
    in_order = difflib.SequenceMatcher(None, _sorted_words(given), _sorted_words(name)).ratio()
    return max(as_written, in_order)


# How a number can be typed in the « SDA » filter (LicenceResultsPage.search).
SDA_FORMS = ("{digits}", "{grouped}")


@dataclass
class SdaForms:
    """How a run types a number in the « SDA » filter, as it learns it.

    At first in the selectors' hint's form alone: one search per tab. That a search finds
    nothing proves nothing about the form, so the first time it does, a number that tab
    lists is looked for in each form (the hint's first): the form that finds it is the
    one from then on; when none does, every form, each time (the hint is only a hint).
    """

    preferred: str
    known: tuple[str, ...] | None = None

    @property
    def to_try(self) -> tuple[str, ...]:
        """The forms to type a number in now, in order."""
        return self.known if self.known is not None else (self.preferred,)

    @property
    def in_order(self) -> tuple[str, ...]:
        """Every form, the hint's first."""
        return tuple(sorted(SDA_FORMS, key=lambda form: form != self.preferred))

    def learn(self, found_by: str | None) -> None:
        """A number the portal lists was found typed `found_by` (None: in no form)."""
        self.known = (found_by,) if found_by is not None else self.in_order

    def left_after(self, tried: Sequence[str]) -> tuple[str, ...]:
        """The forms to try now beyond those `tried`."""
        return tuple(form for form in self.to_try if form not in tried)


def holder(
    wanted: Sequence[str], found: dict[str, list[ListedLicence]]
) -> tuple[ServiceInfo | None, str]:
    """The one service holding every one of `wanted` (refs or numbers, as `found` keys
    them, each with the licences it matched); None and why not, naming the candidates."""
    services = {s.service.ref: s.service for rows in found.values() for s in rows}
    holding = [
        ref
        for ref in sorted(services)
        if all(any(row.service.ref == ref for row in found.get(w, [])) for w in wanted)
    ]
    if len(holding) == 1:
        return services[holding[0]], ""
    if not services:
        return None, "none of the client's MetaCentrex services « Actif » holds " + ", ".join(
            wanted
        )
    candidates = "; ".join(
        f"{row.service.ref}: {row.licence}"
        + (f" {format_number(row.number)}" if row.number else "")
        + (f" ({row.user})" if row.user else "")
        for w in wanted
        for row in found.get(w, [])
    )
    if not holding:
        return None, f"no one service of the client holds them all ({candidates})"
    return None, f"{len(holding)} services of the client hold them ({candidates})"


def _sorted_words(text: str) -> str:
    return " ".join(sorted(w for w in re.split(r"[\W_]+", _fold(text)) if w))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())
