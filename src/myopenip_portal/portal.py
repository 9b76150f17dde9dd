"""The replica's live state, shared by every route: data, sessions, faults, test overrides."""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from myopenip_portal import db, seed
from myopenip_portal.auth import SessionStore
from myopenip_portal.config import PortalConfig
from myopenip_portal.drift import Drift
from myopenip_portal.faults import Faults
from myopenip_portal.quirks import Quirks


@dataclass
class Refusal:
    """POST /_test/refuse: the next `count` dissociation submissions are refused with
    `message`, as a back end refuses for a reason of its own (none by default)."""

    message: str = ""
    count: int = 0

    def take(self) -> str | None:
        """The message if this submission is to be refused (one refusal used), else None."""
        if self.count <= 0:
            return None
        self.count -= 1
        return self.message

    def clear(self) -> None:
        self.message, self.count = "", 0


@dataclass(frozen=True)
class Pending:
    """A dissociation the back end accepted and completes at `due` (late-completion)."""

    licence_ref: str
    service_ref: str
    keep: bool
    user: str
    due: float


def mc_ref(ref: str) -> str:
    """The ref another portal gives the replica's service (the mc-refs quirk):
    "SRV-10021" -> "MC-004217"."""
    match = re.fullmatch(r"SRV-(\d{5})", ref)
    return f"MC-{int(match[1]) - 5804:06d}" if match else ref


def srv_ref(ref: str) -> str:
    """The replica's own ref of a service mc-refs renamed: "MC-004217" -> "SRV-10021"."""
    match = re.fullmatch(r"MC-(\d{6})", ref)
    return f"SRV-{int(match[1]) + 5804}" if match else ref


@dataclass
class Portal:
    """Everything a request may read or change."""

    config: PortalConfig
    conn: sqlite3.Connection
    sessions: SessionStore
    faults: Faults
    # POST /_test/misreport: licence ref -> the number the dialog's preview shows instead.
    misreports: dict[str, str] = field(default_factory=dict)
    # POST /_test/drift: the portal's own texts under other names (never data nor rules).
    drift: Drift = field(default_factory=Drift)
    refusal: Refusal = field(default_factory=Refusal)
    # --quirks / POST /_test/quirks: behaviours of other portals, read at every page load.
    quirks: Quirks = field(default_factory=Quirks)
    clock: Callable[[], float] = time.time
    # late-completion: what the back end accepted and has not done yet, by licence ref.
    pending: dict[str, Pending] = field(default_factory=dict)
    # Every « Valider » that reached the back end (GET /_test/state: "submissions").
    submissions: list[dict[str, object]] = field(default_factory=list)
    completion_rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def open(cls, config: PortalConfig, clock: Callable[[], float] = time.time) -> Portal:
        conn = db.connect(config.db)
        # A database file keeps its data across restarts; a new or empty one is seeded.
        if db.is_empty(conn):
            seed.seed_database(
                conn,
                config.seed,
                config.user,
                config.password,
                licences_per_service=config.licences_per_service,
                bulk_services=config.bulk_services,
            )
        faults = Faults(config)
        portal = cls(
            config=config,
            conn=conn,
            sessions=SessionStore(ttl=lambda: faults.settings.session_ttl, clock=clock),
            faults=faults,
            quirks=Quirks.parse(config.quirks),
            clock=clock,
            completion_rng=random.Random(config.seed),
        )
        portal.shape_refs()
        return portal

    def set_quirks(self, quirks: Quirks) -> None:
        """The quirks in force from now on (service refs renamed at once)."""
        self.quirks = quirks
        self.shape_refs()

    def shape_refs(self) -> None:
        """Service refs as the quirks say: the replica's own ("SRV-10021"), or another
        portal's ("MC-004217", mc-refs)."""
        refs = db.service_refs(self.conn)
        if self.quirks.mc_refs:
            mapping = {ref: mc_ref(ref) for ref in refs if mc_ref(ref) != ref}
        else:
            mapping = {ref: srv_ref(ref) for ref in refs if srv_ref(ref) != ref}
        if mapping:
            db.rename_service_refs(self.conn, mapping)

    # -- the back end after « Valider » (late-completion) ----------------------------------

    def accept_later(self, service_ref: str, choices: list[tuple[str, bool]], user: str) -> None:
        """Accept a dissociation the back end completes a few seconds from now: the
        numbers stay listed, « État » reads « Dissociation en cours » meanwhile."""
        assert self.quirks.late_completion is not None
        low, high = self.quirks.late_completion
        for ref, keep in choices:
            due = self.clock() + self.completion_rng.uniform(low, high)
            self.pending[ref] = Pending(ref, service_ref, keep, user, due)
        db.set_licence_state(self.conn, [ref for ref, _ in choices], db.IN_PROGRESS_STATE)

    def complete_due(self, *, everything: bool = False) -> None:
        """Do what the back end accepted and is now due (called before every request);
        `everything`: all it accepted, due or not (POST /_test/complete)."""
        if not self.pending:
            return
        now = self.clock()
        due = [p for p in self.pending.values() if everything or p.due <= now]
        for item in due:
            del self.pending[item.licence_ref]
            try:
                db.dissociate(
                    self.conn,
                    partner=item.user,
                    service_ref=item.service_ref,
                    choices=[(item.licence_ref, item.keep)],
                    user=item.user,
                    at=datetime.now(UTC).isoformat(timespec="seconds"),
                )
            except db.DissociationError:  # the service changed meanwhile: nothing is done
                db.set_licence_state(self.conn, [item.licence_ref], db.ASSIGNED_STATE)

    def reset(self, seed_value: int | None = None) -> None:
        """Back to a fresh data set (hand edits gone): re-seeded, nobody logged in or locked,
        no override, refusal nor drift, the fault knobs and quirks at their start-up
        values."""
        value = self.config.seed if seed_value is None else seed_value
        seed.seed_database(
            self.conn,
            value,
            self.config.user,
            self.config.password,
            licences_per_service=self.config.licences_per_service,
            bulk_services=self.config.bulk_services,
        )
        self.sessions.reset()
        self.faults.reseed(value)
        self.faults.restore()
        self.misreports.clear()
        self.refusal.clear()
        self.pending.clear()
        self.submissions.clear()
        self.completion_rng.seed(value)
        self.set_quirks(Quirks.parse(self.config.quirks))
        self.drift.clear()  # in place: the middlewares hold this very object
