"""Drift on purpose (`POST /_test/drift`): the portal's own texts under other names, in
both markups, so that QA smoke checks can be shown failing on the control that drifted.

In process: the API, the renaming rules, every page and script of both markups, code and
data left untouched, JSON messages, reset. In a real Chromium, for both markups: the
renamed controls are found by their new role + name and no longer by the spec's, the
portal still works (a dissociation by « Confirmer »), hidden controls disappear, and a
reset brings the spec's texts back."""

from __future__ import annotations

import html
import json
import re
import warnings
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from myopenip.replica import Replica
from myopenip_portal.app import create_app
from myopenip_portal.drift import NAME_ATTRIBUTES, Drift, finalize, ui

from .conftest import FAST
from .fronts import CLASSIC, FRONTS, Front, Site, results, settle

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

STATIC = Path(__file__).resolve().parents[2] / "src" / "myopenip_portal" / "static"
UI_LITERAL = re.compile(r'\bui\(\s*"((?:[^"\\\n]|\\.)*)"\s*\)')

# The spec's texts a QA smoke check relies on, each under another name.
RENAMES = {
    "Valider": "Confirmer",
    "SDA": "Numéro SDA",
    "Mes Services": "Mes Prestations",
    "Rechercher": "Chercher",
    "Dissocier vos numéros": "Détacher les numéros",
    "Conserver le numéro": "Garder le numéro",
    "Tout sélectionner": "Tout cocher",
    "Sélectionner": "Cocher",
    "Paramétrer >": "Configurer >",
    "Annuler": "Fermer",
    "Suivant": "Page suivante",
    "Utilisateurs": "Comptes",
    "Groupements": "Groupes",
    "Actions": "Opérations",
    "Numéros à dissocier": "Numéros à détacher",
    "Licences sans numéro": "Licences non numérotées",
    "Se connecter": "Entrer",
    "Identifiant": "Login",
    "Mot de passe": "Secret",
    "Connectez-vous à MyOpenIP": "Identifiez-vous sur MyOpenIP",
    "Paramétrage / Monitoring": "Réglages / Supervision",
    "Se déconnecter": "Quitter",
    "Réf. du service": "Référence du service",
    "Licence": "Réf. licence",
    "Pensez à résilier le numéro": "N'oubliez pas de résilier le numéro",
}
# Words that are (also) code in the pages or scripts: ids, classes, field names, option
# values, URLs, JSON keys, attribute names, JS identifiers. A drift must leave them be.
CODE_WORDS = {
    word: f"ZZ{index}"
    for index, word in enumerate(
        (
            "licences", "licence", "tab", "button", "select", "services", "csrf_token",
            "csrf-token", "role", "primary", "hidden", "utilisateurs", "groupements",
            "x-config", "function", "const", "document", "oui", "non", "jeton", "aria-label",
            "dialog", "fetch", "Content-Type", "X-CSRF-Token", "status", "menuitem", "api",
            "espace", "retour", "identifiant", "secret", "sda", "ref", "keep", "error",
            "message", "checkbox", "row", "cell", "table", "static", "ui", "1", "0",
        )
    )
}  # fmt: skip
NO_DRIFT = {"rename": {}, "hide": [], "roles": {}, "numbers": "grouped"}
# Data, shown by the pages: a drift never renames them.
DATA = {
    "MetaCentrex Siège Caen": "A",
    "Normandie Logistique": "B",
    "CC-100245": "C",
    "SRV-10021": "D",
    "FPC367128": "E",
    "Licence full conferencing": "F",
    "Licence SVI": "G",
    "02 31 45 67 89": "H",
    "Partenaire Démo": "I",
    "MetaCentrex": "J",
    "Actif": "K",
    "Affectée": "L",
}


# ------------------------------------------------------------------------------ in process


class Parsed(HTMLParser):
    """A page cut in two: what a person reads (texts and names) and everything else."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.names: list[str] = []  # text nodes and name attributes, whitespace collapsed
        self.skeleton: list[Any] = []  # tags, other attributes, scripts and styles
        self.scripts: list[str] = []  # the addresses of the page's scripts, as given
        self._raw: str | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = [(key, value) for key, value in attrs if key not in NAME_ATTRIBUTES]
        if tag == "script" and (src := dict(attrs).get("src")):
            self.scripts.append(src)
            # A drift adds its version to a script's address (?drift=…), nothing else.
            kept = [(k, re.sub(r"\?drift=[0-9a-f]+$", "", v or "")) for k, v in kept]
        self.skeleton.append((tag, kept))
        self.names += [" ".join((v or "").split()) for k, v in attrs if k in NAME_ATTRIBUTES]
        if tag in ("script", "style"):
            self._raw = tag

    def handle_endtag(self, tag: str) -> None:
        self.skeleton.append(("/", tag))
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw:
            self.skeleton.append(("raw", data))
        elif text := " ".join(data.split()):
            self.names.append(text)


def shows(names: list[str], text: str) -> bool:
    """Some text or name on the page is `text`, or starts with it then a space."""
    return any(name == text or name.startswith(text + " ") for name in names)


def code_of(script: str) -> str:
    """A script without the texts of its ui("…") calls."""
    return UI_LITERAL.sub('ui("")', script)


# ---------------------------------------------------------------------- the API itself


def test_the_drift_api_is_absent_without_the_flag() -> None:
    with TestClient(create_app(replace(FAST, test_api=False))) as client:
        assert client.get("/_test/drift").status_code == 404
        assert client.post("/_test/drift", json={"rename": {"A": "B"}}).status_code == 404


def test_the_drift_api_adds_reads_back_clears_and_rejects_bad_bodies(site: Site) -> None:
    assert site.client.get("/_test/drift").json() == NO_DRIFT
    first = site.drift(rename={"Valider": "Confirmer", "  Mes   Services ": "Mes Prestations"})
    assert first.json() == {
        "ok": True,
        "rename": {"Valider": "Confirmer", "Mes Services": "Mes Prestations"},
        "hide": [],
        "roles": {},
        "numbers": "grouped",
    }
    site.drift(
        rename={"Valider": "OK"},
        hide=["Suivant", "Suivant"],
        numbers="digits",
        roles={" Mes  Services": "link"},
    )
    assert site.client.get("/_test/drift").json() == {
        "rename": {"Valider": "OK", "Mes Services": "Mes Prestations"},
        "hide": ["Suivant"],
        "roles": {"Mes Services": "link"},
        "numbers": "digits",
    }
    cleared = site.drift(clear=True, rename={"Annuler": "Fermer"}).json()
    assert (cleared["rename"], cleared["hide"], cleared["numbers"]) == (
        {"Annuler": "Fermer"},
        [],
        "grouped",
    )
    for bad in (
        {"renames": {"A": "B"}},
        {"rename": ["A"]},
        {"rename": {"": "B"}},
        {"rename": {"   ": "B"}},
        {"rename": {"A": 1}},
        {"hide": "Suivant"},
        {"hide": [""]},
        {"numbers": "dotted"},
        {"roles": ["link"]},
        {"roles": {"Actions": "Link"}},
        {"roles": {"": "link"}},
        {"roles": {"Actions": 1}},
        {"numbers": ["digits"]},
        {"clear": "yes"},
    ):
        assert site.drift(**bad).status_code == 400, bad
    assert site.client.post("/_test/drift", content=b"not json").status_code == 400
    assert site.client.post("/_test/drift", json=["A"]).status_code == 400
    assert site.client.get("/_test/drift").json() == {**NO_DRIFT, "rename": {"Annuler": "Fermer"}}
    state = site.client.get("/_test/state").json()
    assert set(state) == {"services", "licences", "numbers", "audit"}  # unchanged


# ---------------------------------------------------------------------- the rules


def test_a_rename_matches_whole_words_case_and_all_at_once_longest_first() -> None:
    drift = Drift()
    drift.update(
        {
            "Licence": "Réf. licence",
            "Sélectionner": "Cocher",
            "Conserver le numéro": "Garder le numéro",
            "numéro": "NUMÉRO",
            "Oui": "Non",
            "Non": "Oui",
            "Paramétrer >": "Configurer >",
        }
    )
    assert drift.rename("Licence") == "Réf. licence"
    assert drift.rename("Licences sans numéro") == "Licences sans NUMÉRO"
    assert drift.rename("Sélectionner FPC367128") == "Cocher FPC367128"
    assert drift.rename("Tout sélectionner") == "Tout sélectionner"  # case matters
    assert drift.rename("Conserver le  \n numéro 02") == "Garder le numéro 02"  # longest wins
    assert drift.rename("Oui / Non") == "Non / Oui"  # never chained
    assert drift.rename("Paramétrer > SRV-10021") == "Configurer > SRV-10021"
    assert drift.rename("SDA:Licence;Licence") == "SDA:Réf. licence;Réf. licence"
    assert drift.rename("LicenceX XLicence Licence_1") == "LicenceX XLicence Licence_1"


def test_printed_values_are_data_unless_marked_as_the_portals_own_texts() -> None:
    drift = Drift()
    drift.update({"Licence": "Réf. licence"})
    page = (
        f"<h1>{finalize('FPC367128 Licence SVI')}</h1><h2>{ui('Licence')}</h2>"
        f'<p title="Licence {finalize("Licence")}">Licence</p>'
        f'<input type="text" name="Licence" value="Licence" aria-label="Licence">'
        f'<input type="submit" value="Licence"><option value="Licence">Licence</option>'
        '<script>const Licence = "Licence";</script><style>.Licence{}</style>'
        '<a href="/Licence" class="Licence" id="Licence" data-x="Licence">Licence</a>'
    )
    assert drift.page(page) == (
        "<h1>FPC367128 Licence SVI</h1><h2>Réf. licence</h2>"
        '<p title="Réf. licence Licence">Réf. licence</p>'
        '<input type="text" name="Licence" value="Licence" aria-label="Réf. licence">'
        '<input type="submit" value="Réf. licence"><option value="Licence">Réf. licence</option>'
        '<script>const Licence = "Licence";</script><style>.Licence{}</style>'
        '<a href="/Licence" class="Licence" id="Licence" data-x="Licence">Réf. licence</a>'
    )
    assert Drift().page(page) == page.replace("\ue000", "").replace("\ue001", "")


def test_a_script_is_renamed_inside_its_ui_calls_only() -> None:
    drift = Drift()
    drift.update({"Suivant": 'Page "suivante"', "link": "LIEN"})
    script = 'const Suivant = "Suivant"; link(ui("Suivant"), ui( "link" )); xui("Suivant");'
    assert drift.script(script) == (
        'const Suivant = "Suivant"; link(ui("Page \\"suivante\\""), ui("LIEN")); xui("Suivant");'
    )


# ---------------------------------------------------------------------- pages and scripts


def test_every_renamed_text_shows_under_its_new_name_on_the_pages(site: Site) -> None:
    site.drift(rename=RENAMES)
    logged_out = Site(site.front, TestClient(site.client.app))
    pages = {path: Parsed(site.get(path)).names for path in site.front.pages()}
    pages["login"] = Parsed(logged_out.get(site.front.login)).names
    # The licence page also shows data (its settings: "Présentation numéro" is "SDA").
    everything = [
        name for path, names in pages.items() if path != site.front.licence for name in names
    ]
    for old in RENAMES:
        assert not shows(everything, old), old
    assert [name for name in pages[site.front.licence] if shows([name], "SDA")] == ["SDA"]
    expected = {
        "login": ["Identifiez-vous sur MyOpenIP", "Login", "Secret", "Entrer"],
        site.front.home: ["Mes Prestations", "Quitter"],
        site.front.services: [
            "Réglages / Supervision",  # the heading
            "Référence du service",  # the filter and the column
            "Chercher",
            "Configurer >",
            "Page suivante",
        ],
        site.front.service: [
            "Comptes",
            "Groupes",
            "Numéro SDA",
            "Réf. licence",
            "Tout cocher",
            "Chercher",
            "Opérations",
            "Détacher les numéros",
            "Numéros à détacher",
            "Licences non numérotées",
            "N'oubliez pas de résilier le numéro",
            "Fermer",
            "Confirmer",
        ],
        site.front.licence: ["Numéro SDA", "Réf. licence"],
    }
    for path, texts in expected.items():
        for text in texts:
            assert shows(pages[path], text), (path, text)
    services = pages[site.front.services]
    assert services.count("Référence du service") >= 2 + (site.front.markup == "aria")
    if site.front.markup == "classic":
        assert "Configurer > SRV-10021" in services  # the link's aria-label
        assert "Mes Prestations › Réglages / Supervision" in services  # the breadcrumb
    # The data between the renamed texts are untouched.
    assert "FPC367128 Licence full conferencing" in pages[site.front.licence]
    logged_out.client.close()


def test_the_scripts_show_the_new_names_and_keep_their_code(site: Site) -> None:
    name = site.front.script
    original = (STATIC / name).read_text(encoding="utf-8")
    site.drift(rename={**RENAMES, **CODE_WORDS})
    served = site.client.get(f"/static/{name}")
    assert served.headers["cache-control"] == "no-store"
    assert served.headers["content-type"].startswith("text/javascript")
    # The pages load it at an address of this drift's own, which browsers may cache.
    address = next(src for src in Parsed(site.get(site.front.service)).scripts if name in src)
    versioned = site.client.get(address)
    assert versioned.headers["cache-control"] == "private, max-age=3600"
    assert versioned.text == served.text
    site.drift(rename={"Oui": "Si"})
    moved = next(src for src in Parsed(site.get(site.front.service)).scripts if name in src)
    assert moved != address
    assert site.client.get(address).headers["cache-control"] == "no-store"
    assert code_of(served.text) == code_of(original)
    texts = [json.loads(f'"{text}"') for text in UI_LITERAL.findall(served.text)]
    for old, new in {
        "Sélectionner ": "Cocher ",
        "Conserver le numéro ": "Garder le numéro ",
        "Suivant": "Page suivante",
    }.items():
        assert old not in texts
        assert new in texts
    if name == "aria.js":
        for text in ("Mes Prestations", "Réglages / Supervision", "Opérations"):
            assert text in texts
        assert "Détacher les numéros" in texts
    for other in ("portal.js", "drift.js", "portal.css"):
        assert site.client.get(f"/static/{other}").text == (STATIC / other).read_text("utf-8")


def test_renaming_code_words_leaves_every_tag_attribute_url_and_script_alone(
    site: Site,
) -> None:
    paths = [*site.front.pages(), "/nowhere"]
    before = {path: Parsed(site.get(path)) for path in paths}
    site.drift(rename={**RENAMES, **CODE_WORDS})
    for path in paths:
        after = Parsed(site.get(path))
        assert after.skeleton == before[path].skeleton, path
        assert after.names != before[path].names, path
        assert before[path].scripts
        assert all(re.fullmatch(r"/static/\w+\.js", src) for src in before[path].scripts)
        assert all(
            re.fullmatch(r"/static/\w+\.js\?drift=[0-9a-f]{12}", src) for src in after.scripts
        )


def test_renaming_data_changes_no_page_no_answer_and_no_state(site: Site) -> None:
    paths = [*site.front.pages(), "/nowhere"]
    api = {
        "classic": "/api/services/SRV-10021/licences?tab=groupements",
        "aria": "/espace/api/v2/services/SRV-10021/licences?tab=groupements",
    }[site.front.markup]
    before = {path: site.get(path) for path in paths}
    rows = site.client.get(api).json()
    state = site.client.get("/_test/state").json()
    site.drift(rename=DATA)
    for path in paths:
        page = site.get(path)
        assert re.sub(r'(\.js)\?drift=[0-9a-f]+"', r'\1"', page) == before[path], path
    assert site.client.get(api).json() == rows
    assert site.client.get("/_test/state").json() == state


def test_json_messages_follow_the_drift_but_not_the_refs_they_quote(site: Site) -> None:
    unknown = site.api("/licences").replace("SRV-10021", "SRV-99999")
    preview = site.api(
        "/dissociation-preview" if site.front is CLASSIC else "/dissociations/apercu"
    )
    before = site.client.get(unknown)
    refused = site.post(preview, {"licences": ["FPC999999"]})
    assert before.json()["message"] == "Le service SRV-99999 n'existe pas."
    assert refused.json()["message"] == "Licence FPC999999 introuvable."
    site.drift(rename={"Le service": "La prestation", "Licence": "Réf.", **DATA})
    site.drift(rename={"SRV-99999": "nope", "FPC999999": "nope", "introuvable": "inconnue"})
    after = site.client.get(unknown)
    assert after.status_code == before.status_code == 404
    assert after.json() == {**before.json(), "message": "La prestation SRV-99999 n'existe pas."}
    again = site.post(preview, {"licences": ["FPC999999"]})
    assert again.json() == {**refused.json(), "message": "Réf. FPC999999 inconnue."}
    page = site.client.get(site.front.service.replace("SRV-10021", "SRV-99999")).text
    assert "La prestation SRV-99999 n&#39;existe pas." in page  # the page says the same
    rows = site.client.get(site.api("/licences"), params={"tab": "groupements"}).json()
    assert rows["rows"][0]["licence"] == "FPC367123 Licence SVI"  # data are never renamed


def test_a_technical_error_page_and_message_follow_the_drift() -> None:
    for front in FRONTS.values():
        config = replace(FAST, markup=front.markup, error_rate=1.0)
        with TestClient(create_app(config)) as client:
            client.post("/_test/drift", json={"rename": {"momentanément": "provisoirement"}})
            page = client.get(front.login)
            assert page.status_code == 503
            assert "provisoirement indisponible" in html.unescape(page.text)
            assert "momentanément" not in html.unescape(page.text)
            api = client.get(front.services.replace("/services", "/api/services") + "/S/x")
            if api.headers["content-type"].startswith("application/json"):
                assert "provisoirement" in api.json()["message"]


def test_a_drift_changes_no_data_rule_fault_or_session(site: Site) -> None:
    state = site.client.get("/_test/state").json()
    site.drift(rename=RENAMES, hide=["Suivant"])
    assert site.client.get("/_test/state").json() == state
    assert site.client.get(site.front.services, follow_redirects=False).status_code == 200
    done = site.post(site.api("/dissociations"), {"licences": [{"ref": "FPC367128", "keep": True}]})
    assert done.json()["message"] == "Numéro(s) dissocié(s) : 1"
    after = site.client.get("/_test/state").json()
    licence = next(x for x in after["licences"] if x["ref"] == "FPC367128")
    assert licence["sda"] is None
    again = site.post(
        site.api("/dissociations"), {"licences": [{"ref": "FPC367128", "keep": True}]}
    )
    assert (again.status_code, again.json()["error"]) == (409, "no_number")
    assert site.client.get("/_test/drift").json()["hide"] == ["Suivant"]


@pytest.mark.parametrize(
    ("numbers", "shown"),
    [
        ("grouped", "02 31 45 67 89"),
        ("digits", "0231456789"),
        ("international", "+33 2 31 45 67 89"),
    ],
)
def test_numbers_show_in_the_drifts_format_everywhere_and_stay_data(
    site: Site, numbers: str, shown: str
) -> None:
    state = site.client.get("/_test/state").json()
    site.drift(numbers=numbers)

    listed = site.client.get(site.api("/licences"), params={"tab": "groupements"}).json()
    row = next(r for r in listed["rows"] if r["ref"] == "FPC367128")
    preview = site.post(site.api(site.front.preview), {"licences": ["FPC367128"]}).json()
    licence_page = site.get(site.front.licence)
    by_number = site.client.get(
        site.api("/licences"), params={"tab": "groupements", "sda": shown}
    ).json()

    assert (row["sda"], row["sda_display"]) == ("0231456789", shown)
    (item,) = preview["with_number"]
    assert (item["number"], item["number_display"]) == ("0231456789", shown)
    assert html.escape(shown) in licence_page
    assert [r["ref"] for r in by_number["rows"]] == ["FPC367128"]  # typed as shown: found
    assert site.client.get("/_test/state").json() == state  # data: unchanged
    site.drift(clear=True)
    assert "02 31 45 67 89" in site.get(site.front.licence)


def test_reset_clears_the_drift_and_gives_back_the_specs_pages(site: Site) -> None:
    paths = site.front.pages()
    script = f"/static/{site.front.script}"
    site.drift(rename={**RENAMES, **CODE_WORDS}, hide=["Suivant"])
    site.client.post("/_test/reset", json={})
    assert site.client.get("/_test/drift").json() == NO_DRIFT
    site.login()
    fresh = {path: site.get(path) for path in paths}
    assert site.client.get(script).text == (STATIC / site.front.script).read_text("utf-8")
    for path in paths:
        assert "\ue000" not in fresh[path], path
        assert "drift" not in fresh[path], path
        names = Parsed(fresh[path]).names
        assert not any(text in names for text in RENAMES.values()), path
    service = Parsed(fresh[site.front.service]).names
    for text in ("Valider", "SDA", "Rechercher", "Actions", "Tout sélectionner"):
        assert text in service


def test_hiding_adds_the_hiding_script_to_every_page_and_only_then(site: Site) -> None:
    for path in site.front.pages():
        assert "/static/drift.js" not in site.get(path)
    site.drift(hide=["Suivant", "Rechercher"])
    for path in site.front.pages():
        page = site.get(path)
        assert '<script id="drift-hide" type="application/json">["Suivant", "Rechercher"]' in page
        assert page.index('src="/static/drift.js?drift=') < page.index("</head>")


# ------------------------------------------------------------------------------ browser

browser = pytest.mark.browser


def log_in_as(page: Page, replica: Replica, path: str, user: str, password: str, go: str) -> None:
    """Log in with the login page's fields and button named as given."""
    page.goto(replica.url + path)
    page.get_by_label(user, exact=True).fill(replica.username)
    page.get_by_label(password, exact=True).fill(replica.password)
    page.get_by_role("button", name=go, exact=True).click()


def none(locator: Locator) -> None:
    expect(locator).to_have_count(0)


@browser
def test_renamed_login_navigation_and_service_list(
    page: Page, served: tuple[Replica, Front]
) -> None:
    replica, _front = served
    replica.test_api("drift", {"rename": RENAMES})
    page.goto(replica.url + "/")
    expect(page.get_by_role("heading", name="Identifiez-vous sur MyOpenIP")).to_be_visible()
    none(page.get_by_role("heading", name="Connectez-vous à MyOpenIP"))
    none(page.get_by_label("Identifiant"))
    none(page.get_by_label("Mot de passe"))
    none(page.get_by_role("button", name="Se connecter"))
    log_in_as(page, replica, "/", "Login", "Secret", "Entrer")
    expect(page.get_by_role("button", name="Quitter", exact=True)).to_be_visible()
    none(page.get_by_role("button", name="Se déconnecter"))
    none(page.get_by_role("button", name="Mes Services"))
    page.get_by_role("navigation").get_by_role("button", name="Mes Prestations").click()
    none(page.get_by_role("link", name="Paramétrage / Monitoring"))
    page.get_by_role("link", name="Réglages / Supervision", exact=True).click()
    expect(page.get_by_role("heading", name="Réglages / Supervision")).to_be_visible()
    filter_ = page.get_by_role("textbox", name="Référence du service", exact=True)
    expect(filter_).to_be_visible()
    none(page.get_by_label("Réf. du service", exact=True))
    services = page.get_by_role("table", name="Services")
    expect(services.get_by_role("columnheader", name="Référence du service")).to_have_count(1)
    none(services.get_by_role("columnheader", name="Réf. du service", exact=True))
    expect(page.get_by_role("link", name="Page suivante")).to_be_visible()
    none(page.get_by_role("link", name="Suivant", exact=True))
    none(page.get_by_role("link", name="Paramétrer > SRV-10021"))
    none(page.get_by_role("button", name="Rechercher"))
    filter_.fill("10021")
    page.get_by_role("button", name="Chercher", exact=True).click()
    page.get_by_role("link", name="Configurer > SRV-10021").click()
    expect(page.get_by_role("heading", name="MetaCentrex Siège Caen")).to_be_visible()
    tabs = page.get_by_role("tablist").get_by_role("tab")
    expect(tabs).to_have_text(["Comptes", "Groupes"])
    none(page.get_by_role("tab", name="Utilisateurs"))
    # The Utilisateurs tab's licences span pages: the script's pagination is renamed too.
    results(page)
    expect(page.get_by_role("link", name="Page suivante")).to_be_visible()
    none(page.get_by_role("link", name="Suivant", exact=True))


@browser
def test_renamed_service_page_and_dialog_still_dissociate(
    page: Page, served: tuple[Replica, Front]
) -> None:
    replica, front = served
    replica.test_api("drift", {"rename": {**RENAMES, **CODE_WORDS}})
    log_in_as(page, replica, front.service, "Login", "Secret", "Entrer")
    settle(page, front, "Cocher")
    expect(page.get_by_role("textbox", name="Numéro SDA", exact=True)).to_be_visible()
    none(page.get_by_label("SDA", exact=True))
    expect(page.get_by_role("textbox", name="Réf. licence", exact=True)).to_be_visible()
    none(page.get_by_label("Licence", exact=True))
    table = results(page)
    headers = table.get_by_role("columnheader")
    expect(headers).to_have_text(["", "Réf. licence", "Numéro SDA", "Utilisateur", "Site", "État"])
    expect(table.get_by_role("checkbox", name="Tout cocher")).to_have_count(1)
    none(page.get_by_role("checkbox", name="Tout sélectionner"))
    none(page.get_by_role("checkbox", name="Sélectionner FPC367128"))
    row = table.get_by_role("row").filter(has=page.get_by_role("checkbox", name="Cocher FPC367128"))
    expect(row).to_contain_text("FPC367128 Licence full conferencing")  # data stay
    # A search by the renamed filter still works.
    page.get_by_role("textbox", name="Numéro SDA", exact=True).fill("45 67 8")
    page.get_by_role("button", name="Chercher", exact=True).click()
    settle(page, front, "Cocher")
    expect(table.get_by_role("checkbox", name="Cocher FPC367128")).to_have_count(1)
    page.get_by_role("textbox", name="Numéro SDA", exact=True).fill("")
    page.get_by_role("button", name="Chercher", exact=True).click()
    settle(page, front, "Cocher")
    for ref in ("FPC367128", "FPC367124"):
        page.get_by_role("checkbox", name=f"Cocher {ref}").check()
    none(page.get_by_role("button", name="Actions"))
    page.get_by_role("button", name="Opérations").click()
    none(page.get_by_role("menuitem", name="Dissocier vos numéros"))
    page.get_by_role("menuitem", name="Détacher les numéros").click()
    dialog = page.get_by_role("dialog", name="Détacher les numéros")
    keep = dialog.get_by_role("combobox", name="Garder le numéro 02 31 45 67 89")
    expect(keep).to_have_value(re.compile(r"^(oui|1)$"))
    none(dialog.get_by_label("Conserver le numéro 02 31 45 67 89"))
    expect(dialog.get_by_role("heading", name="Numéros à détacher")).to_be_visible()
    expect(dialog.get_by_role("heading", name="Licences non numérotées")).to_be_visible()
    none(dialog.get_by_role("heading", name="Numéros à dissocier"))
    expect(dialog.get_by_text("N'oubliez pas de résilier le numéro depuis vos")).to_be_visible()
    none(dialog.get_by_text("Pensez à résilier le numéro"))
    expect(dialog.get_by_role("button", name="Fermer")).to_be_visible()
    none(page.get_by_role("button", name="Valider"))
    none(page.get_by_role("button", name="Annuler"))
    confirm = page.get_by_role("button", name="Confirmer")
    expect(confirm).to_have_count(1)
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.get_by_role("status")).to_have_text("Numéro(s) dissocié(s) : 1")
    state = replica.state()
    licence = next(x for x in state["licences"] if x["ref"] == "FPC367128")
    number = next(x for x in state["numbers"] if x["number"] == "0231456789")
    assert (licence["sda"], number["state"]) == (None, "available")
    assert [entry["licence_ref"] for entry in state["audit"]] == ["FPC367128"]


@browser
def test_after_reset_the_specs_texts_are_back(page: Page, served: tuple[Replica, Front]) -> None:
    replica, front = served
    replica.test_api("drift", {"rename": RENAMES})
    log_in_as(page, replica, front.service, "Login", "Secret", "Entrer")
    results(page)
    replica.test_api("reset")
    log_in_as(page, replica, front.service, "Identifiant", "Mot de passe", "Se connecter")
    settle(page, front, "Sélectionner")
    expect(page.get_by_label("SDA", exact=True)).to_be_visible()
    none(page.get_by_label("Numéro SDA"))
    page.get_by_role("checkbox", name="Sélectionner FPC367128").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    expect(dialog.get_by_label("Conserver le numéro 02 31 45 67 89")).to_be_visible()
    expect(dialog.get_by_role("button", name="Valider")).to_be_enabled()
    none(page.get_by_role("button", name="Confirmer"))
    expect(page.get_by_role("button", name="Mes Services")).to_be_visible()


@browser
def test_hidden_controls_disappear_and_the_rest_still_works(
    page: Page, served: tuple[Replica, Front]
) -> None:
    replica, front = served
    replica.test_api("drift", {"hide": ["Suivant", "Rechercher", "SDA", "Paramétrer >"]})
    log_in_as(page, replica, front.services, "Identifiant", "Mot de passe", "Se connecter")
    expect(page.get_by_role("heading", name="Paramétrage / Monitoring")).to_be_visible()
    none(page.get_by_role("link", name="Suivant"))
    none(page.get_by_role("button", name="Rechercher"))
    none(page.get_by_role("link", name=re.compile(r"^Paramétrer >")))
    expect(page.get_by_role("textbox", name="Réf. du service")).to_be_visible()
    page.goto(replica.url + front.service.replace("groupements", "utilisateurs"))
    settle(page, front, "Sélectionner")
    expect(page.get_by_label("SDA", exact=True)).to_be_hidden()  # still in the document
    none(page.get_by_role("textbox", name="SDA", exact=True))
    none(page.get_by_role("columnheader", name="SDA", exact=True))
    expect(page.get_by_label("Licence", exact=True)).to_be_visible()
    none(page.get_by_role("link", name="Suivant"))  # rendered by the script, hidden too
    expect(page.get_by_role("checkbox", name="Sélectionner FPC367131")).to_be_visible()


@browser
def test_controls_given_another_role_keep_their_name_and_still_work(
    page: Page, served: tuple[Replica, Front]
) -> None:
    replica, front = served
    replica.test_api("drift", {"roles": {"Mes Services": "link", "Paramétrer >": "button"}})
    log_in_as(page, replica, front.services, "Identifiant", "Mot de passe", "Se connecter")
    expect(page.get_by_role("heading", name="Paramétrage / Monitoring")).to_be_visible()
    none(page.get_by_role("button", name="Mes Services"))
    none(page.get_by_role("link", name=re.compile(r"^Paramétrer >")))
    configure = page.get_by_role("button", name=re.compile(r"^Paramétrer > SRV-10021"))
    expect(configure).to_be_visible()
    page.get_by_role("link", name="Mes Services").click()  # still opens its menu
    expect(page.get_by_role("link", name="Paramétrage / Monitoring")).to_be_visible()
