"""The two markups side by side, for tests that run the same checks on both: where each
screen lives, an in-process replica of either (`Site`), and browser helpers that work on
both by role and name."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Locator, Page, expect

from myopenip.replica import Replica

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient


@dataclass(frozen=True)
class Front:
    """What differs between the markups for these tests."""

    markup: str
    login: str
    fields: tuple[str, str, str]  # username, password, token
    home: str
    services: str
    service: str  # a MetaCentrex service's page, Groupements tab
    licence: str
    other: str  # a service without licences
    script: str
    api_prefix: str
    preview: str  # the dialog's preview, under the API's service path
    rows_a_page: int  # services and licences alike, without the page-size quirk

    def pages(self) -> list[str]:
        return [self.home, self.services, self.service, self.licence, self.other]


CLASSIC = Front(
    markup="classic",
    login="/login",
    fields=("username", "password", "csrf_token"),
    home="/",
    services="/services",
    service="/services/SRV-10021?tab=groupements",
    licence="/services/SRV-10021/licences/FPC367128",
    other="/services/SRV-10026",
    script="licences.js",
    api_prefix="/api",
    preview="/dissociation-preview",
    rows_a_page=20,
)
ARIA = Front(
    markup="aria",
    login="/connexion",
    fields=("identifiant", "secret", "jeton"),
    home="/espace/accueil",
    services="/espace/services",
    service="/espace/services/SRV-10021/parametrage?onglet=groupements",
    licence="/espace/services/SRV-10021/licences/FPC367128",
    other="/espace/services/SRV-10026/parametrage",
    script="aria.js",
    api_prefix="/espace/api/v2",
    preview="/dissociations/apercu",
    rows_a_page=7,
)
FRONTS = {"classic": CLASSIC, "aria": ARIA}


@dataclass
class Site:
    """An in-process replica of one markup."""

    front: Front
    client: TestClient

    def login(self) -> None:
        page = self.client.get(self.front.login).text
        user, password, token_field = self.front.fields
        token = re.search(rf'name="{token_field}" value="([^"]+)"', page)
        assert token is not None
        response = self.client.post(
            self.front.login, data={user: "demo", password: "demo", token_field: token[1]}
        )
        assert response.status_code == 200

    def get(self, path: str) -> str:
        response = self.client.get(path, follow_redirects=False)
        assert response.status_code in (200, 404), path
        return response.text

    def drift(self, **body: Any) -> Any:
        return self.client.post("/_test/drift", json=body)

    def api(self, path: str = "") -> str:
        return f"{self.front.api_prefix}/services/SRV-10021{path}"

    def post(self, path: str, body: Any) -> Any:
        page = self.get(self.front.service)
        token = re.search(r'(?:name="csrf-token" content=|"jeton": )"([^"]+)"', page)
        assert token is not None
        return self.client.post(path, json=body, headers={"X-CSRF-Token": token[1]})


# ------------------------------------------------------------------------------ browser


def log_in(page: Page, replica: Replica, path: str = "/") -> None:
    """Log in through the login page (same labels in both markups), landing on `path` with
    its scripts run: a form submitted before they run is submitted by the browser itself
    (a GET of the page, which drops the tab and any search-first state)."""
    page.goto(replica.url + path)
    page.get_by_label("Identifiant").fill(replica.username)
    page.get_by_label("Mot de passe").fill(replica.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    page.wait_for_load_state()


def results(page: Page) -> Locator:
    """The licence results, once loaded."""
    table = page.get_by_role("table", name="Licences")
    expect(table).to_have_attribute("aria-busy", "false")
    return table


def settle(page: Page, front: Front, box: str = "Sélectionner") -> Locator:
    """The results are in (and, in the aria markup, re-rendered in their final order, which
    is never the server's sorted one): ticks made now stay. `box` names the row checkboxes."""
    table = results(page)
    if front is ARIA:
        page.wait_for_function(
            """prefix => { const refs = Array.from(document.querySelectorAll(
                 '[role=table][aria-label=Licences] [role=checkbox][aria-label^="' + prefix + '"]'))
                 .map(b => b.getAttribute('aria-label'));
               const sorted = refs.slice().sort();
               return refs.length < 2 || refs.some((r, i) => r !== sorted[i]); }""",
            arg=box + " ",
        )
    return table
