"""The "aria" markup (`myopenip portal --markup aria`): the same portal with other URLs,
ARIA-only markup, 7 rows a page, rows re-rendered after load, menus and the dialog at the
end of <body>, and no loading / empty-results / "Erreur technique" sentence, while every
role, accessible name and text of the spec stays. HTTP checks run in process; browser
checks drive a real Chromium against a served aria replica, by role and name only."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Locator, Page, expect

from myopenip.replica import Replica
from myopenip_portal.app import create_app
from myopenip_portal.cli import config_from
from myopenip_portal.faults import ResponseDropped

from .conftest import FAST, FakeClock, TestClient
from .spec_texts import LICENCE_FILTERS, SERVICE_COLUMNS

FORBIDDEN = ("Aucun", "Chargement", "Erreur technique")
CONFIG = re.compile(r'<script id="x-config" type="application/json">(.*?)</script>', re.S)
LOGIN_TOKEN = re.compile(r'name="jeton" value="([^"]+)"')
API = "/espace/api/v2/services/{ref}"
SERVICE = "/espace/services/{ref}/parametrage"


# ------------------------------------------------------------------------------ in process


@dataclass
class Aria:
    """A TestClient on a fresh aria app, and its session's CSRF token once logged in."""

    client: TestClient
    clock: FakeClock
    jeton: str = ""

    def login(self, user: str = "demo", password: str = "demo", retour: str = "/") -> Any:
        token = LOGIN_TOKEN.search(self.client.get("/connexion").text)
        assert token is not None
        response = self.client.post(
            "/connexion",
            data={"identifiant": user, "secret": password, "jeton": token[1], "retour": retour},
        )
        if response.status_code == 200 and (found := CONFIG.search(response.text)):
            self.jeton = json.loads(found[1])["jeton"]
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params or None, follow_redirects=False)

    def licences(self, ref: str = "SRV-10021", **params: Any) -> Any:
        return self.client.get(API.format(ref=ref) + "/licences", params=params)

    def post(self, path: str, body: Any, ref: str = "SRV-10021") -> Any:
        return self.client.post(
            API.format(ref=ref) + path, json=body, headers={"X-CSRF-Token": self.jeton}
        )

    def state(self) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get("/_test/state").json()
        return body


@pytest.fixture
def make_aria() -> Iterator[Callable[..., Aria]]:
    clients: list[TestClient] = []

    def make(**options: Any) -> Aria:
        clock = FakeClock()
        config = replace(FAST, markup="aria", **options)
        client = TestClient(create_app(config, clock=clock))
        clients.append(client)
        return Aria(client=client, clock=clock)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def aria(make_aria: Callable[..., Aria]) -> Aria:
    portal = make_aria()
    assert portal.login().status_code == 200
    return portal


def refs_in(page: str) -> list[str]:
    return re.findall(r'<div role="rowheader" class="x-table__cell">(SRV-\d+)</div>', page)


def test_the_markup_flag_is_read_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert config_from([]).markup == "classic"
    assert config_from(["--markup", "aria"]).markup == "aria"
    with pytest.raises(SystemExit):
        config_from(["--markup", "fancy"])
    assert "invalid choice" in capsys.readouterr().err


def test_aria_has_its_own_urls_and_none_of_classics(make_aria: Callable[..., Aria]) -> None:
    portal = make_aria()
    entry = portal.get("/")
    assert entry.status_code == 303
    assert urlparse(entry.headers["location"]).path == "/connexion"
    for path in ("/login", "/services", "/services/SRV-10021", "/api/services/SRV-10021/licences"):
        assert portal.get(path).status_code == 404, path
    assert portal.login().url.path == "/espace/accueil"
    assert portal.get("/").headers["location"] == "/espace/accueil"
    for path in ("/espace/services", SERVICE.format(ref="SRV-10021")):
        assert portal.get(path).status_code == 200, path
    assert portal.get("/espace/services/SRV-10021/licences/FPC367128").status_code == 200


def test_classic_keeps_its_urls_and_knows_none_of_arias(make_portal: Callable[..., Any]) -> None:
    classic = make_portal()
    assert classic.login().status_code == 200
    assert classic.client.get("/services").status_code == 200
    for path in ("/connexion", "/espace/services", SERVICE.format(ref="SRV-10021")):
        assert classic.client.get(path).status_code == 404, path


def test_login_fields_are_named_by_aria_label_and_wrong_credentials_alert_with_401(
    make_aria: Callable[..., Aria],
) -> None:
    portal = make_aria()
    page = portal.client.get("/connexion").text
    assert "<label" not in page
    assert 'type="text" name="identifiant" aria-label="Identifiant"' in page
    assert 'type="password" name="secret"\n           aria-label="Mot de passe"' in page
    token = LOGIN_TOKEN.search(page)
    assert token is not None
    refused = portal.client.post(
        "/connexion", data={"identifiant": "demo", "secret": "non", "jeton": token[1]}
    )
    assert refused.status_code == 401
    assert 'role="alert">Identifiant ou mot de passe incorrect. Il vous reste 4' in refused.text
    assert "Connectez-vous à MyOpenIP" in refused.text
    for _ in range(4):
        portal.login(password="non")
    locked = portal.login()
    assert locked.status_code == 401
    assert "Votre compte est verrouillé" in locked.text
    portal.client.post("/_test/reset", json={})
    assert portal.login().status_code == 200


def test_no_label_element_and_no_forbidden_sentence_on_any_screen(aria: Aria) -> None:
    screens = {
        "/espace/accueil": 200,
        "/espace/services": 200,
        "/espace/services?ref=nothing": 200,
        SERVICE.format(ref="SRV-10021"): 200,
        SERVICE.format(ref="SRV-10026"): 200,
        "/espace/services/SRV-10021/licences/FPC367128": 200,
        SERVICE.format(ref="SRV-99999"): 404,
        SERVICE.format(ref="SRV-20001"): 403,
        "/espace/services/SRV-10021/licences/FPC999999": 404,
        "/nowhere": 404,
    }
    for path, status in screens.items():
        response = aria.client.get(path)
        assert response.status_code == status, path
        assert "<label" not in response.text, path
        for sentence in FORBIDDEN:
            assert sentence not in response.text, (path, sentence)
        if status != 200:
            assert 'role="alert"' in response.text
    script = aria.client.get("/static/aria.js").text
    for sentence in FORBIDDEN:
        assert sentence not in script
    empty = aria.client.get("/espace/services", params={"ref": "nothing"}).text
    assert empty.count('role="row"') == 1  # the header row only


def test_the_service_list_has_seven_rows_a_page_and_its_links(aria: Aria) -> None:
    first = html.unescape(aria.client.get("/espace/services").text)
    for label in SERVICE_COLUMNS:
        assert f'aria-label="{label}"' in first
        assert f'<div role="columnheader" class="x-table__cell">{label}</div>' in first
    assert len(refs_in(first)) == 7
    assert ">Suivant</a>" in first
    assert ">Précédent</a>" not in first
    assert 'Paramétrer ><span class="x-sr"> SRV-10021</span></a>' in first
    pages = [refs_in(first)]
    for number in range(2, 5):
        page = aria.client.get("/espace/services", params={"p": number}).text
        assert ">Précédent</a>" in page
        pages.append(refs_in(page))
    assert [len(refs) for refs in pages] == [7, 7, 7, 6]
    assert ">Suivant</a>" not in page
    assert len({ref for refs in pages for ref in refs}) == 27
    only = aria.client.get("/espace/services", params={"ref": "10021"}).text
    assert refs_in(only) == ["SRV-10021"]


def test_the_licence_api_pages_by_seven_with_the_same_rows_as_classic(
    aria: Aria, logged_in: Any
) -> None:
    for tab, total in (("utilisateurs", 28), ("groupements", 8)):
        first = aria.licences(tab=tab).json()
        assert (first["per_page"], first["total"], first["pages"]) == (7, total, -(-total // 7))
        rows = [row for p in range(1, first["pages"] + 1)
                for row in aria.licences(tab=tab, page=p).json()["rows"]]  # fmt: skip
        classic = logged_in.licences(tab=tab).json()
        classic_rows = [row for p in range(1, classic["pages"] + 1)
                        for row in logged_in.licences(tab=tab, page=p).json()["rows"]]  # fmt: skip
        assert rows == classic_rows
    found = aria.licences(tab="groupements", sda="02 31 45 67 89").json()["rows"]
    assert [(r["ref"], r["licence"], r["sda_display"]) for r in found] == [
        ("FPC367128", "FPC367128 Licence full conferencing", "02 31 45 67 89")
    ]


def test_the_api_dissociates_with_classics_rules_and_messages(aria: Aria) -> None:
    assert aria.post("/dissociations/apercu", {"licences": ["FPC367128"]}).status_code == 200
    forged = aria.client.post(
        API.format(ref="SRV-10021") + "/dissociations",
        json={"licences": [{"ref": "FPC367128", "keep": True}]},
        headers={"X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403
    done = aria.post("/dissociations", {"licences": [{"ref": "FPC367128", "keep": False}]})
    assert done.json()["message"] == "Numéro(s) dissocié(s) : 1"
    again = aria.post("/dissociations", {"licences": [{"ref": "FPC367128", "keep": True}]})
    assert again.status_code == 409
    assert again.json()["message"] == "La licence FPC367128 n'a pas de numéro à dissocier."
    state = aria.state()
    assert next(n for n in state["numbers"] if n["number"] == "0231456789")["state"] == (
        "quarantine"
    )
    assert len(state["audit"]) == 1


def test_error_rate_one_gives_503_pages_and_json_without_erreur_technique(
    make_aria: Callable[..., Aria],
) -> None:
    portal = make_aria(error_rate=1.0)
    before = portal.state()
    page = portal.client.get("/connexion")
    assert page.status_code == 503
    assert 'role="alert"' in page.text
    assert "momentanément indisponible (503)" in page.text
    api = portal.post("/dissociations", {"licences": [{"ref": "FPC367128", "keep": True}]})
    assert api.status_code == 503
    assert api.json()["error"] == "technical_error"
    for response in (page.text, api.json()["message"]):
        assert "Erreur technique" not in response
    assert portal.client.get("/static/aria.css").status_code == 200
    assert portal.state() == before


def test_a_dropped_response_still_commits(make_aria: Callable[..., Aria]) -> None:
    portal = make_aria(drop_after_commit_rate=1.0)
    portal.login()
    with pytest.raises(ResponseDropped):
        portal.post("/dissociations", {"licences": [{"ref": "FPC367128", "keep": True}]})
    licence = next(x for x in portal.state()["licences"] if x["ref"] == "FPC367128")
    assert licence["sda"] is None


def test_expiry_ttl_and_logout_lead_to_the_login_page_with_a_notice(
    make_aria: Callable[..., Aria],
) -> None:
    portal = make_aria(session_ttl=60)
    portal.login()
    address = SERVICE.format(ref="SRV-10021") + "?onglet=groupements"
    assert portal.get(address).status_code == 200
    portal.clock.advance(61)
    gone = portal.get(address)
    assert gone.status_code == 303
    target = urlparse(gone.headers["location"])
    query = parse_qs(target.query)
    assert (target.path, query["retour"], query["motif"]) == (
        "/connexion",
        [address],
        ["expiration"],
    )
    notice = portal.client.get(gone.headers["location"]).text
    assert "Votre session a expiré. Veuillez vous reconnecter." in notice
    assert 'role="alert"' not in notice
    back = portal.login(retour=address)
    assert (back.url.path, back.url.query) == (
        SERVICE.format(ref="SRV-10021"),
        b"onglet=groupements",
    )
    portal.client.post("/_test/expire-sessions", json={})
    expired = portal.licences(tab="groupements")
    assert expired.status_code == 401
    assert expired.json()["login_url"] == "/connexion"
    portal.login()
    out = portal.client.post("/deconnexion", data={"jeton": portal.jeton})
    assert out.url.path == "/connexion"
    assert "Vous êtes déconnecté." in out.text
    assert portal.get("/espace/services").status_code == 303


# ------------------------------------------------------------------------------ browser

browser = pytest.mark.browser


def log_in(page: Page, replica: Replica, path: str = "/") -> None:
    page.goto(replica.url + path)
    page.get_by_label("Identifiant").fill(replica.username)
    page.get_by_label("Mot de passe").fill(replica.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def licences(page: Page) -> Locator:
    return page.get_by_role("table", name="Licences")


def row_boxes(page: Page) -> Locator:
    return licences(page).get_by_role("checkbox", name=re.compile(r"^Sélectionner FPC"))


# The refs of the rows as shown, read the way a screen reader would (role and name).
SHOWN = """() => Array.from(document.querySelectorAll(
  '[role=table][aria-label=Licences] [role=checkbox][aria-label^="Sélectionner "]'))
  .map(box => box.getAttribute('aria-label').slice(13))"""


def settled(page: Page) -> list[str]:
    """Wait until the results are in and re-rendered in their final order; return it.

    The server sends rows sorted by ref; the page re-renders them once in another order.
    """
    expect(licences(page)).to_have_attribute("aria-busy", "false")
    handle = page.wait_for_function(
        f"""() => {{ const refs = ({SHOWN})();
          const sorted = refs.slice().sort();
          return refs.length < 2 || refs.some((r, i) => r !== sorted[i]) ? refs : null; }}"""
    )
    refs: list[str] = handle.json_value()
    return refs


def open_service(page: Page, replica: Replica, tab: str = "groupements") -> Locator:
    log_in(page, replica, SERVICE.format(ref="SRV-10021") + f"?onglet={tab}")
    settled(page)
    return licences(page)


def open_dialog(page: Page, *refs: str) -> Locator:
    for ref in refs:
        page.get_by_role("checkbox", name=f"Sélectionner {ref}").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    expect(dialog).to_have_attribute("aria-busy", "false")
    return dialog


# Where a menu sits in the document, read from the element itself.
PLACE = """m => ({parentIsBody: m.parentElement === document.body,
  last: document.body.lastElementChild === m, inNav: !!m.closest('nav'),
  inMain: !!m.closest('[role=main]'), inTable: !!m.closest('[role=table]')})"""
OUTSIDE = {"parentIsBody": True, "last": True, "inNav": False, "inMain": False, "inTable": False}


@browser
def test_login_screen_and_wrong_credentials(page: Page, aria_replica: Replica) -> None:
    page.goto(aria_replica.url)
    expect(page).to_have_url(re.compile(r"/connexion\?"))
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()
    expect(page.get_by_role("textbox", name="Identifiant")).to_be_visible()
    expect(page.get_by_label("Mot de passe")).to_have_attribute("type", "password")
    expect(page.locator("label")).to_have_count(0)
    expect(page.get_by_role("navigation")).to_have_count(0)
    page.get_by_label("Identifiant").fill("demo")
    page.get_by_label("Mot de passe").fill("faux")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Se connecter").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect.")
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()


@browser
def test_navigation_and_the_mes_services_menu_at_the_end_of_body(
    page: Page, aria_replica: Replica
) -> None:
    log_in(page, aria_replica)
    expect(page).to_have_url(re.compile(r"/espace/accueil$"))
    nav = page.get_by_role("navigation").filter(
        has=page.get_by_role("button", name="Mes Services", exact=True)
    )
    expect(nav.get_by_role("button", name="Se déconnecter")).to_be_visible()
    link = page.get_by_role("link", name="Paramétrage / Monitoring", exact=True)
    expect(link).to_have_count(0)
    button = nav.get_by_role("button", name="Mes Services", exact=True)
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    menu = page.get_by_role("menu").filter(has=link)
    assert menu.evaluate(PLACE) == OUTSIDE
    expect(nav.get_by_role("link", name="Paramétrage / Monitoring")).to_have_count(0)
    below, under = menu.bounding_box(), button.bounding_box()
    assert below is not None
    assert under is not None
    assert abs(below["y"] - (under["y"] + under["height"])) < 12
    link.click()
    expect(page.get_by_role("heading", name="Paramétrage / Monitoring")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/espace/services$"))


@browser
def test_service_list_filters_columns_links_and_seven_rows_a_page(
    page: Page, aria_replica: Replica
) -> None:
    log_in(page, aria_replica, "/espace/services")
    for label in SERVICE_COLUMNS:
        expect(page.get_by_role("textbox", name=label, exact=True)).to_be_visible()
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Services")
    expect(table.get_by_role("columnheader")).to_have_text([*SERVICE_COLUMNS, "Action"])
    expect(table.get_by_role("row")).to_have_count(8)  # header + 7
    expect(page.get_by_role("link", name="Paramétrer > SRV-10021")).to_be_visible()
    expect(page.get_by_role("link", name="Précédent")).to_have_count(0)
    page.get_by_role("link", name="Suivant").click()
    expect(page.get_by_role("link", name="Précédent")).to_be_visible()
    expect(page.get_by_role("link", name="Paramétrer > SRV-10021")).to_have_count(0)
    page.get_by_role("link", name="Précédent").click()
    page.get_by_label("Réf. du service").fill("nothing")
    page.get_by_role("button", name="Rechercher").click()
    expect(table.get_by_role("row")).to_have_count(1)  # an empty table: the header row only
    for sentence in FORBIDDEN:
        expect(page.locator("body")).not_to_contain_text(sentence)
    page.get_by_label("Réf. du service").fill("10021")
    page.get_by_role("button", name="Rechercher").click()
    expect(table.get_by_role("row")).to_have_count(2)
    page.get_by_role("link", name="Paramétrer > SRV-10021").click()
    expect(page.get_by_role("heading", name="MetaCentrex Siège Caen")).to_be_visible()


@browser
def test_service_page_tabs_filters_and_results(page: Page, aria_replica: Replica) -> None:
    table = open_service(page, aria_replica, "utilisateurs")
    expect(page.get_by_role("heading", name="MetaCentrex Siège Caen")).to_be_visible()
    expect(page.get_by_role("tablist").get_by_role("tab")).to_have_text(
        ["Utilisateurs", "Groupements"]
    )
    expect(page.get_by_role("tab", name="Utilisateurs")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Groupements")).to_have_attribute("aria-selected", "false")
    panel = page.get_by_role("tabpanel", name="Utilisateurs")
    for label in LICENCE_FILTERS:
        expect(panel.get_by_role("textbox", name=label, exact=True)).to_be_visible()
    expect(page.locator("label")).to_have_count(0)
    expect(panel.get_by_role("button", name="Rechercher")).to_be_visible()
    expect(table.get_by_role("columnheader")).to_have_text(
        ["", "Licence", "SDA", "Utilisateur", "Site", "État"]
    )
    header = table.get_by_role("columnheader").first
    expect(header.get_by_role("checkbox", name="Tout sélectionner")).to_be_visible()
    expect(row_boxes(page)).to_have_count(7)
    pages = [settled(page)]
    for _ in range(3):
        page.get_by_role("link", name="Suivant").click()
        pages.append(settled(page))
    assert [len(refs) for refs in pages] == [7, 7, 7, 7]
    assert sorted(ref for refs in pages for ref in refs) == [
        f"FPC{n}" for n in range(367131, 367159)
    ]
    expect(page.get_by_role("link", name="Suivant")).to_have_count(0)
    page.get_by_role("link", name="Précédent").click()
    settled(page)
    page.get_by_role("tab", name="Groupements").click()
    expect(page.get_by_role("tab", name="Groupements")).to_have_attribute("aria-selected", "true")
    expect(page).to_have_url(re.compile(r"onglet=groupements"))
    settled(page)
    numbered = table.get_by_role("row").filter(
        has=page.get_by_role("checkbox", name="Sélectionner FPC367128")
    )
    expect(numbered.get_by_role("cell").nth(1)).to_have_text("FPC367128 Licence full conferencing")
    expect(numbered.get_by_role("cell").nth(2)).to_have_text("02 31 45 67 89")
    bare = table.get_by_role("row").filter(
        has=page.get_by_role("checkbox", name="Sélectionner FPC367124")
    )
    expect(bare.get_by_role("cell").nth(1)).to_have_text("FPC367124 Licence SVI")
    expect(bare.get_by_role("cell").nth(2)).to_have_text("")


@browser
def test_loading_shows_only_aria_busy_and_a_progressbar(page: Page, aria_replica: Replica) -> None:
    # Every change of the results' loading state, recorded by the page as it happens.
    page.add_init_script(
        """window.__loading = [];
        new MutationObserver(() => {
          const table = document.querySelector('[role=table][aria-label=Licences]');
          if (!table || !document.body) return;
          const text = document.body.innerText;
          const seen = [table.getAttribute('aria-busy'),
            !!document.querySelector('[role=progressbar]'),
            /Chargement|Aucun|Erreur technique/.test(text)].join('|');
          if (window.__loading[window.__loading.length - 1] !== seen) window.__loading.push(seen);
        }).observe(document, {subtree: true, childList: true, attributes: true,
                              characterData: true});"""
    )
    open_service(page, aria_replica)
    page.get_by_label("Licence", exact=True).fill("FPC999")
    page.get_by_role("button", name="Rechercher").click()
    expect(licences(page)).to_have_attribute("aria-busy", "false")
    expect(licences(page).get_by_role("row")).to_have_count(1)  # header only, no sentence
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_role("button", name="Actions")).to_be_disabled()
    seen: list[str] = page.evaluate("window.__loading")
    assert "true|true|false" in seen
    assert seen[-1] == "false|false|false"
    assert not [state for state in seen if state.endswith("|true")]
    assert all(state.split("|")[0] == "true" for state in seen if "|true|" in state)


# The first rendering of a search's rows (the server's order, by ref): its checkbox nodes
# are remembered, to tell when the page has replaced them.
FIRST_RENDER = f"""() => {{
  const table = document.querySelector('[role=table][aria-label=Licences]');
  const refs = ({SHOWN})();
  if (table.getAttribute('aria-busy') !== 'false' || !refs.length) return null;
  window.__firstNodes = new Set(table.querySelectorAll('[role=checkbox]'));
  return {{refs, first: refs.every((ref, i) => i === 0 || refs[i - 1] < ref)}};
}}"""
STILL_FIRST = """() => window.__firstNodes.has(
  document.querySelector('[role=checkbox][aria-label="Sélectionner FPC367128"]'))"""


@browser
def test_rows_are_re_rendered_in_another_order_and_keep_their_ticks(
    page: Page, aria_replica: Replica
) -> None:
    log_in(page, aria_replica, SERVICE.format(ref="SRV-10021") + "?onglet=groupements")
    box = page.get_by_role("checkbox", name="Sélectionner FPC367128")
    for _ in range(20):  # tick before the re-render (150-300 ms); retry on a busy machine
        seen = page.wait_for_function(FIRST_RENDER, polling="raf").json_value()
        if seen["first"]:
            box.check()
            if page.evaluate(STILL_FIRST):  # the tick landed before the re-render
                break
        page.get_by_role("button", name="Rechercher").click()  # a new search, a new try
    else:
        pytest.fail("could not tick a row before its re-render")
    first = seen["refs"]
    assert first == sorted(first)  # the server's order
    page.wait_for_function(f"() => !({STILL_FIRST})()")  # its node was replaced
    after = settled(page)
    assert after != first
    assert sorted(after) == first
    expect(box).to_be_checked()
    expect(page.get_by_role("checkbox", name="Sélectionner FPC367129")).not_to_be_checked()
    expect(page.get_by_role("button", name="Actions")).to_be_enabled()
    box.uncheck()
    expect(page.get_by_role("button", name="Actions")).to_be_disabled()


@browser
def test_actions_menu_is_attached_at_the_end_of_body(page: Page, aria_replica: Replica) -> None:
    open_service(page, aria_replica)
    actions = page.get_by_role("button", name="Actions", exact=True)
    expect(actions).to_be_disabled()
    licences(page).get_by_role("checkbox", name="Tout sélectionner").check()
    for index in range(7):
        expect(row_boxes(page).nth(index)).to_be_checked()
    licences(page).get_by_role("checkbox", name="Tout sélectionner").uncheck()
    expect(actions).to_be_disabled()
    page.get_by_role("checkbox", name="Sélectionner FPC367128").check()
    expect(actions).to_be_enabled()
    actions.click()
    item = page.get_by_role("menuitem", name="Dissocier vos numéros")
    menu = page.get_by_role("menu").filter(has=item)
    assert menu.evaluate(PLACE) == OUTSIDE
    expect(licences(page).get_by_role("menuitem")).to_have_count(0)
    page.get_by_role("checkbox", name="Sélectionner FPC367128").uncheck()
    expect(actions).to_be_disabled()
    expect(item).to_have_count(0)
    page.get_by_role("button", name="Mes Services").click()  # only the menu's link is named so
    page.get_by_role("link", name="Paramétrage / Monitoring", exact=True).click()
    expect(page.get_by_role("heading", name="Paramétrage / Monitoring")).to_be_visible()


@browser
def test_the_dialog_fades_in_then_lists_rows_choices_and_warnings(
    page: Page, aria_replica: Replica, guide_warnings: list[str]
) -> None:
    # The dialog's state the moment it is attached (before any frame is painted).
    page.add_init_script(
        """window.__dialog = null;
        new MutationObserver(records => { for (const r of records) for (const n of r.addedNodes)
          if (n.nodeType === 1 && n.getAttribute('role') === 'dialog') window.__dialog = {
            opacity: getComputedStyle(n).opacity,
            duration: getComputedStyle(n).transitionDuration,
            busy: n.getAttribute('aria-busy'), modal: n.getAttribute('aria-modal'),
            parentIsBody: n.parentElement === document.body,
            loaded: n.innerText.includes('Numéros à dissocier') };
        }).observe(document, {subtree: true, childList: true});"""
    )
    open_service(page, aria_replica)
    dialog = open_dialog(page, "FPC367128", "FPC367129", "FPC367124")
    attached = page.evaluate("window.__dialog")
    assert attached == {
        "opacity": "0",
        "duration": "0.3s",
        "busy": "true",
        "modal": "true",
        "parentIsBody": True,
        "loaded": False,
    }
    expect(dialog).to_have_css("opacity", "1")
    expect(dialog.get_by_role("progressbar")).to_have_count(0)
    expect(dialog.get_by_role("heading", name="Numéros à dissocier")).to_be_visible()
    expect(dialog.get_by_text("FPC367128 02 31 45 67 89", exact=True)).to_be_visible()
    expect(dialog.get_by_text("FPC367129 02 31 45 67 90", exact=True)).to_be_visible()
    keep = dialog.get_by_role("combobox", name="Conserver le numéro 02 31 45 67 89")
    expect(keep.get_by_role("option")).to_have_text(["Oui", "Non"])
    expect(keep.locator("option:checked")).to_have_text("Oui")
    expect(dialog.get_by_role("combobox")).to_have_count(2)
    expect(dialog.get_by_role("heading", name="Licences sans numéro")).to_be_visible()
    expect(dialog.get_by_role("listitem")).to_have_text(["FPC367124 Licence SVI"])
    for warning in guide_warnings:
        expect(dialog.get_by_text(warning, exact=True)).to_be_visible()
    before = aria_replica.state()
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("checkbox", name="Sélectionner FPC367128")).to_be_checked()
    assert aria_replica.state() == before


@browser
def test_valider_dissociates_then_shows_the_status_and_refreshes(
    page: Page, aria_replica: Replica
) -> None:
    open_service(page, aria_replica)
    dialog = open_dialog(page, "FPC367128", "FPC367129")
    dialog.get_by_label("Conserver le numéro 02 31 45 67 90").select_option("Non")
    dialog.get_by_role("button", name="Valider").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("Numéro(s) dissocié(s) : 2")
    settled(page)
    row = (
        licences(page)
        .get_by_role("row")
        .filter(has=page.get_by_role("checkbox", name="Sélectionner FPC367128"))
    )
    expect(row).to_contain_text("Non affectée")
    expect(licences(page)).not_to_contain_text("02 31 45 67 89")
    expect(page.get_by_role("button", name="Actions")).to_be_disabled()
    numbers = {n["number"]: n["state"] for n in aria_replica.state()["numbers"]}
    assert (numbers["0231456789"], numbers["0231456790"]) == ("available", "quarantine")


@browser
def test_a_refusal_after_valider_is_an_alert_in_the_open_dialog(
    page: Page, aria_replica: Replica
) -> None:
    open_service(page, aria_replica)
    dialog = open_dialog(page, "FPC367128")
    aria_replica.test_api("service-state", {"service_ref": "SRV-10021", "state": "Suspendu"})
    dialog.get_by_role("button", name="Valider").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Le service SRV-10021 n'est pas un service MetaCentrex actif : "
        "aucun numéro ne peut être dissocié."
    )
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Valider")).to_be_enabled()
    expect(page.get_by_role("status")).to_have_text("")
    assert aria_replica.state()["audit"] == []


def _unavailable(route: Any) -> None:
    route.fulfill(status=503, content_type="text/html", body="<h1>503</h1>")


@browser
def test_technical_errors_are_alerts_with_their_own_wording(
    page: Page, aria_replica: Replica
) -> None:
    open_service(page, aria_replica)
    page.route("**/dissociations/apercu", _unavailable)
    dialog = open_dialog(page, "FPC367128")
    expect(dialog.get_by_role("alert")).to_have_text(
        "Le service est momentanément indisponible (503)."
    )
    expect(dialog.get_by_role("button", name="Valider")).to_be_disabled()
    dialog.get_by_role("button", name="Annuler").click()
    page.route("**/licences?*", _unavailable)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Le service est momentanément indisponible (503)."
    )
    expect(licences(page)).to_have_attribute("aria-busy", "false")
    expect(licences(page).get_by_role("row")).to_have_count(1)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Erreur technique")


@browser
def test_an_expired_session_sends_to_login_with_a_notice_and_back(
    page: Page, aria_replica: Replica
) -> None:
    open_service(page, aria_replica)
    aria_replica.test_api("expire-sessions")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()
    expect(page.get_by_text("Votre session a expiré. Veuillez vous reconnecter.")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_label("Identifiant").fill("demo")
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("tab", name="Groupements")).to_have_attribute("aria-selected", "true")
    settled(page)


@browser
def test_a_service_without_licences_and_logging_out(page: Page, aria_replica: Replica) -> None:
    log_in(page, aria_replica, SERVICE.format(ref="SRV-10026"))
    expect(page.get_by_role("heading", name="Trunk SIP Rouen")).to_be_visible()
    expect(page.get_by_role("tablist")).to_have_count(0)
    expect(page.get_by_text("n'a pas de licences")).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    page.goto(aria_replica.url + "/espace/services")
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()
