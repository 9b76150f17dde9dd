"""The replica's live state, shared by every route: data, sessions, faults, test overrides."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
        return cls(
            config=config,
            conn=conn,
            sessions=SessionStore(ttl=lambda: faults.settings.session_ttl, clock=clock),
            faults=faults,
            quirks=Quirks.parse(config.quirks),
        )

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
        self.quirks = Quirks.parse(self.config.quirks)
        self.drift.clear()  # in place: the middlewares hold this very object
