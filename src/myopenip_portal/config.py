"""The replica's options, as given on the command line (one frozen value, passed everywhere)."""

from __future__ import annotations

from dataclasses import dataclass

# The second partner login: its clients are invisible to the demo user, which lets tests
# submit "a licence of another client". Its password is its login.
OTHER_PARTNER_LOGIN = "partenaire-b"


@dataclass(frozen=True)
class PortalConfig:
    """Every knob of `myopenip portal`; defaults are a quiet, fault-free replica."""

    host: str = "127.0.0.1"
    port: int = 8765
    db: str | None = None  # None: an in-memory database, seeded at start-up
    seed: int = 1
    user: str = "demo"
    password: str = "demo"
    test_api: bool = False
    latency_ms: float = 0.0
    error_rate: float = 0.0
    session_ttl: float = 1800.0  # seconds a session lives after login
    drop_after_commit_rate: float = 0.0
    access_log: bool = False
    # The front end: "classic" (the replica's own pages) or "aria" (the same portal with
    # other URLs and markup, keeping the spec's roles and names; see markup.py).
    markup: str = "classic"
    # The dissociation dialog's content takes this long to arrive (a real portal's
    # preview call is slow); the actual wait is jittered between 0.5x and 1.5x.
    dialog_delay_ms: float = 450.0
    # Licence searches take this long (jittered likewise), so the loading state shows.
    search_delay_ms: float = 150.0
    # `--licences-per-service N`: `--bulk-services K` active MetaCentrex services (SRV-10022,
    # SRV-10023, then added ones) are topped up to N numbered licences each, for benchmarks
    # at scale (seed.EXISTING_BULK); N = 0 keeps the seed's data exactly.
    licences_per_service: int = 0
    bulk_services: int = 2
    # `--quirks a,b`: behaviours of other real portals (quirks.py), none by default.
    quirks: tuple[str, ...] = ()
