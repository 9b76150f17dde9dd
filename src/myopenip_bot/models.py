"""What the bot is asked to do and what it reports, independent of any screen."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


def normalize_number(text: str) -> str:
    """Return a French number as ten digits: "+33 2 31 45 67 89" -> "0231456789".

    Raises ValueError naming the text when it is not a French ten-digit number.
    """
    cleaned = re.sub(r"[\s.\-()]", "", text.strip())
    for prefix in ("+33", "0033"):
        if cleaned.startswith(prefix):
            national = cleaned[len(prefix) :]
            # "+33 (0)2 31 45 67 89": the trunk 0 written after the country code is dropped
            if len(national) == 10 and national.startswith("0"):
                national = national[1:]
            cleaned = "0" + national
            break
    if not re.fullmatch(r"0[1-9][0-9]{8}", cleaned):  # ASCII digits only: not "０２…"
        raise ValueError(f"not a French ten-digit number: {text!r}")
    return cleaned


# The longest service ref taken (the replica's read "SRV-10021", another portal's
# "MC-004217"): far beyond any real one, far below what would break a screen or a file.
SERVICE_REF_MAX = 64


def service_ref_problem(text: str) -> str | None:
    """Why `text` (already stripped) cannot be a service ref, or None when it can.

    The guide never shows a service ref, so its shape is not a condition: any ref is
    looked up on the portal. Only what no portal's ref can be is refused: nothing,
    blanks or control characters inside, more than SERVICE_REF_MAX characters.
    """
    if not text:
        return "is empty"
    if any(ch.isspace() for ch in text):
        return "has a blank inside (a ref is one word)"
    if not text.isprintable():
        return "holds a control character"
    if len(text) > SERVICE_REF_MAX:
        return f"is {len(text)} characters long (a ref has at most {SERVICE_REF_MAX})"
    return None


# A ticket's longest form (a help desk's "INC0012345", a change "CHG-2026-000042"): far
# beyond any real one, far below what would break a table or a file.
TICKET_MAX = 100


def ticket_problem(text: str) -> str | None:
    """Why `text` (already stripped) cannot be a ticket, or None when it can: it is
    empty, holds a control character, or is longer than TICKET_MAX."""
    if not text:
        return "is empty: give the ticket's reference (INC-1001)"
    if not text.isprintable():
        return "holds a control character"
    if len(text) > TICKET_MAX:
        return f"is {len(text)} characters long (a ticket has at most {TICKET_MAX})"
    return None


def name_key(text: str) -> str:
    """A name as compared: no accents, no case, blanks collapsed ("Lina  ANDRE" and "lina
    andré" are the same)."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def ended_options(options: Iterable[str], ended: Iterable[str]) -> tuple[str, ...]:
    """Those of a licence's `options` that a dissociation ends (`ended`: the selectors'
    texts.ended_options, « Application standardiste »), compared without case nor
    accents; as the portal writes them."""
    keys = {name_key(option) for option in ended}
    return tuple(option for option in options if name_key(option) in keys)


def format_number(digits: str) -> str:
    """Ten digits grouped by two, as the portal shows them: "02 31 45 67 89"."""
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


class Tab(StrEnum):
    UTILISATEURS = "Utilisateurs"
    GROUPEMENTS = "Groupements"


class Outcome(StrEnum):
    DONE = "done"  # dissociated by this run (verified, or confirmed by the portal's status)
    ALREADY_DONE = "already_done"  # the licence had no number: never touched
    WOULD_DO = "would_do"  # dry run: the dialog listed it; Annuler was clicked
    REFUSED = "refused"  # business refusal (unknown, mismatch, duplicate, the portal said no)
    NOT_CONFIRMED = "not_confirmed"  # a person answered no: Annuler, nothing changed
    SKIPPED = "not_attempted"  # not attempted: the run stopped, or the plan was refused as a whole
    FAILED = "failed"  # not listed any more, or listed with another number than planned
    UNKNOWN = "unknown"  # Valider was clicked and its answer never read: a rerun settles it
    # The portal accepted « Valider » (its status message) but still lists the number:
    # its back end is working. Never submitted again; a rerun confirms it (done) by reading.
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True)
class Target:
    """One licence asked for, by ref or by number (normalized), optionally both.

    `keep` overrides the request's « Conserver le numéro » for this licence (a batch row);
    `submitted` says how many times « Valider » was already clicked for it by earlier
    runs (from a batch journal): they never fail it (only this run's clicks are limited).
    `accepted` is the number an earlier run's « Valider » for it was accepted with (the
    portal's status message, read), and which the portal did not show done yet: while
    the portal lists that number, the licence is in progress and never submitted again.
    """

    licence_ref: str | None = None
    number: str | None = None
    keep: bool | None = None
    submitted: int = 0
    accepted: str | None = None
    ticket: str = ""  # the ticket it is done for (--ticket, a batch row's own): the ledger's
    # The licence's user's name as the listing's « Utilisateur » shows it (--user): the one
    # licence of the service whose user it is (matched without case nor accents).
    user: str | None = None

    def label(self) -> str:
        if self.user is not None:
            return f"user « {self.user} »"
        if self.licence_ref and self.number:
            return f"{self.licence_ref} ({format_number(self.number)})"
        if self.licence_ref:
            return self.licence_ref
        assert self.number is not None
        return format_number(self.number)


@dataclass(frozen=True)
class DissociationRequest:
    """`myopenip dissociate`'s arguments, already validated.

    With `skip_refused` false (a person's request: all or nothing), one target refused
    when planning means nothing is done; true acts on the others.
    """

    service_ref: str  # "" when the service is to be found from `client`
    targets: tuple[Target, ...]
    keep_number: bool
    dry_run: bool = False
    skip_refused: bool = False
    client: str | None = None  # a client's name or « Compte client », instead of a service


@dataclass(frozen=True)
class ServiceInfo:
    """The service as the list « Paramétrage / Monitoring » shows it."""

    ref: str
    name: str = ""
    client: str = ""
    account: str = ""
    type: str = ""
    state: str = ""
    site: str = ""


@dataclass(frozen=True)
class LicenceTask:
    """One licence asked for, from the request to its outcome: the record every part of a
    run reads and returns (the planner fills in what the portal lists, the submitter
    counts « Valider », the verifier settles). Immutable: a part returns a new record
    (`dataclasses.replace`); nothing changes one behind another's back.

    `outcome` None means planned and not settled yet; `reason` says why it settled so.
    """

    index: int  # its place in the request
    target: Target
    keep: bool  # « Conserver le numéro » = Oui when true
    licence_ref: str | None = None  # as the portal lists it, once found
    number: str | None = None  # ten digits, the number it had when planned
    tab: Tab | None = None
    type: str = ""  # "Licence full conferencing", as the listing says
    user: str = ""  # « Utilisateur »
    site: str = ""
    outcome: Outcome | None = None
    reason: str | None = None
    submissions: int = 0  # « Valider » clicks with it in the dialog, earlier runs included
    accepted: bool = False  # this run's « Valider » for it was accepted (the status read)
    evidence: Path | None = None  # the screenshot that shows its outcome (a dry run's dialog)
    # Its options as the licence's own page shows them (a hint, read for a one-shot before
    # the confirmation); None: not shown by the portal, or not read (a batch).
    options: tuple[str, ...] | None = None

    @property
    def planned(self) -> bool:
        """Found with a number and not settled: it goes on to the dialog."""
        return self.outcome is None and self.licence_ref is not None and self.tab is not None

    def settle(
        self, outcome: Outcome, reason: str | None = None, evidence: Path | None = None
    ) -> LicenceTask:
        """This task with its outcome, and the screenshot that shows it if one does (every
        field named: `replace` costs five times as much, and a stopped batch settles its
        200,000 rows at once)."""
        return LicenceTask(
            self.index,
            self.target,
            self.keep,
            self.licence_ref,
            self.number,
            self.tab,
            self.type,
            self.user,
            self.site,
            outcome,
            reason,
            self.submissions,
            self.accepted,
            evidence,
            self.options,
        )

    def label(self) -> str:
        """How messages name it: the licence when known, else what was asked."""
        if self.licence_ref and self.target.user is not None:
            return f"{self.licence_ref} ({self.target.user})"
        if self.licence_ref and self.target.licence_ref is None and self.target.number:
            return f"{self.licence_ref} ({format_number(self.target.number)})"
        return self.licence_ref or self.target.label()


@dataclass(frozen=True)
class Confirmation:
    """Everything the run will do, shown once before the first « Valider »."""

    service: ServiceInfo
    licences: tuple[LicenceTask, ...]
    warnings: tuple[str, ...]  # the dialog's own paragraphs, word for word
    ended_options: tuple[str, ...] = ()  # the options a dissociation ends (selectors' texts)


class ErrorKind(StrEnum):
    """What kind of run-level failure stopped a run; it decides the exit code."""

    USAGE = "usage"
    AUTHENTICATION = "authentication"
    BUSINESS = "business"
    DRIFT = "drift"  # the portal differs from selectors/: run `myopenip smoke`
    TECHNICAL = "technical"


@dataclass
class RunResult:
    service_ref: str
    keep_number: bool
    dry_run: bool
    service: ServiceInfo | None = None  # as the services list showed it, once found
    results: list[LicenceTask] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the dialog's own warning paragraphs
    status_messages: list[str] = field(default_factory=list)  # e.g. "Numéro(s) dissocié(s) : 2"
    trace_dir: Path | None = None
    error: str | None = None  # a run-level failure, when the run stopped early
    error_kind: ErrorKind | None = None
    error_type: str | None = None  # the exception's class name, for jobs that log it
    interrupted: int | None = None  # the signal that stopped the run (2 SIGINT, 15 SIGTERM)
    ended_options: tuple[str, ...] = ()  # the options a dissociation ends (selectors' texts)

    @property
    def counts(self) -> dict[str, int]:
        return {o.value: sum(r.outcome is o for r in self.results) for o in Outcome}
