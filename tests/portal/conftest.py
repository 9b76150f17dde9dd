"""Fixtures for the replica's own tests: an in-process app (HTTP level) and helpers."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette 1.x nudges towards httpx2; httpx is what the project has and works fine.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from myopenip.replica import Replica, run_replica
from myopenip_portal.app import create_app
from myopenip_portal.config import PortalConfig

from .fronts import CLASSIC, FRONTS, Front, Site

# No built-in delays: HTTP-level tests need no loading state to observe.
FAST = PortalConfig(test_api=True, dialog_delay_ms=0, search_delay_ms=0)
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
FORM_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    """A clock the test moves by hand, for session lifetimes."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Portal:
    """A TestClient on a fresh app, plus the CSRF token of its logged-in session."""

    client: TestClient
    clock: FakeClock
    csrf: str = ""

    def login(self, user: str = "demo", password: str = "demo") -> Any:
        page = self.client.get("/login")
        token = FORM_CSRF.search(page.text)
        assert token is not None
        response = self.client.post(
            "/login",
            data={"username": user, "password": password, "csrf_token": token[1], "next": "/"},
        )
        if response.status_code == 200 and (found := META_CSRF.search(response.text)):
            self.csrf = found[1]
        return response

    def state(self) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get("/_test/state").json()
        return body

    def licence(self, ref: str) -> dict[str, Any]:
        return next(item for item in self.state()["licences"] if item["ref"] == ref)

    def number(self, number: str) -> dict[str, Any]:
        return next(item for item in self.state()["numbers"] if item["number"] == number)

    def licences(self, service: str = "SRV-10021", **params: Any) -> Any:
        return self.client.get(f"/api/services/{service}/licences", params=params)

    def preview(self, refs: list[str], service: str = "SRV-10021") -> Any:
        return self.client.post(
            f"/api/services/{service}/dissociation-preview",
            json={"licences": refs},
            headers={"X-CSRF-Token": self.csrf},
        )

    def dissociate(
        self, choices: dict[str, bool], service: str = "SRV-10021", csrf: str | None = None
    ) -> Any:
        return self.client.post(
            f"/api/services/{service}/dissociations",
            json={"licences": [{"ref": r, "keep": k} for r, k in choices.items()]},
            headers={"X-CSRF-Token": self.csrf if csrf is None else csrf},
        )


@pytest.fixture
def make_portal() -> Iterator[Callable[..., Portal]]:
    """Build an in-process replica with some options changed, e.g. make_portal(error_rate=1)."""
    clients: list[TestClient] = []

    def make(**options: Any) -> Portal:
        clock = FakeClock()
        client = TestClient(create_app(replace(FAST, **options), clock=clock))
        clients.append(client)
        return Portal(client=client, clock=clock)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def portal(make_portal: Callable[..., Portal]) -> Portal:
    """A fresh default replica, not logged in."""
    return make_portal()


@pytest.fixture
def logged_in(portal: Portal) -> Portal:
    """A fresh default replica with the demo user logged in."""
    assert portal.login().status_code == 200
    return portal


@pytest.fixture(scope="session")
def aria_replica_server() -> Iterator[Replica]:
    """One replica with the "aria" markup for the whole session, its test API on."""
    with run_replica(markup="aria") as replica:
        yield replica


@pytest.fixture
def aria_replica(aria_replica_server: Replica) -> Replica:
    """The session's aria replica, its data reset to the default seed before the test."""
    aria_replica_server.test_api("reset")
    return aria_replica_server


@pytest.fixture(params=["classic", "aria"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """A fresh in-process replica of each markup, logged in as the demo user."""
    front = FRONTS[request.param]
    with TestClient(create_app(replace(FAST, markup=front.markup))) as client:
        made = Site(front=front, client=client)
        made.login()
        yield made


@pytest.fixture(params=["classic", "aria"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Replica, Front]]:
    """The session's replica of each markup, reset before and after (no drift left)."""
    front = FRONTS[request.param]
    replica: Replica = request.getfixturevalue("replica" if front is CLASSIC else "aria_replica")
    yield replica, front
    replica.test_api("reset")


@pytest.fixture(scope="session")
def guide_warnings() -> list[str]:
    """The guide's three warning paragraphs, read from the guide itself."""
    # ../shared beside the checkout, as on the developers' machines and in CI
    guide = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_d2706ead151b6766.txt"
    text = guide.read_text(encoding="utf-8") if guide.exists() else ""
    starts = ("Si vous dissociez le numéro", "Si vous ne conservez pas", "Pensez à résilier")
    found = [line.strip() for line in text.splitlines() if line.strip().startswith(starts)]
    return found if len(found) == 3 else list(WARNINGS)


# The same paragraphs, for machines without the guide at hand.
WARNINGS = (
    "Si vous dissociez le numéro de votre licence, votre service sera interrompu, les "
    "informations de paramétrage et l'historique de l'utilisateur seront supprimés. Cette "
    "action n'est pas réversible et n'entraîne pas la résiliation commerciale de votre licence "
    "et de ses options (hors application standardiste). Celles-ci pourront être réutilisées "
    "pour un nouvel utilisateur.",
    "Si vous ne conservez pas le numéro, votre validation débutera la période de quarantaine "
    "et il ne sera plus utilisable.",
    "Pensez à résilier le numéro depuis vos offres contractées pour arrêter sa facturation. "
    "Vous pouvez conserver ce numéro pour d'autres utilisateurs si vous le souhaitez.",
)
