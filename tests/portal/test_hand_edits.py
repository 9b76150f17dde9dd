"""Hostile data (`POST /_test/data`) and refused submissions (`POST /_test/refuse`).

Data edited by hand may hold anything — markup, scripts, spreadsheet formulas, control
characters, bidi overrides, non-characters, 10,000 characters: the pages of both markups
show it as text, the JSON API carries it unchanged and a drift never renames it. In process
for the pages and the API; in a real Chromium for what the scripts render."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from myopenip.replica import Replica

from .fronts import Front, Site, log_in, settle

HOSTILE = {
    "markup": "<b>gras</b> & <i>\"cité\"</i> 'apostrophe' </td></tr></table>",
    "script": '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">',
    "formula": '=HYPERLINK("http://evil.example/","Cliquez ici")',
    "controls": "bip\x07 échap\x1b[31m rouge",
    "bidi": "fichier\u202egnp.exe",
    "nonchars": "fin\uffff\ufffe",
    "long": "L" * 10_000,
    "sentinels": "\ue000balisé\ue001",  # the replica's own private-use markers (drift.py)
}
EDITS = {
    "clients": {"CC-100245": {"name": HOSTILE["script"]}},
    "services": {"SRV-10021": {"name": HOSTILE["markup"], "site": HOSTILE["formula"]}},
    "licences": {
        "FPC367128": {
            "type": HOSTILE["controls"],
            "user_name": HOSTILE["script"],
            "site": HOSTILE["bidi"],
            "state": HOSTILE["nonchars"],
        },
        "FPC367129": {"user_name": HOSTILE["long"], "site": HOSTILE["sentinels"]},
    },
}


def edit(site: Site, body: Any) -> Any:
    return site.client.post("/_test/data", json=body)


def rows(site: Site) -> dict[str, dict[str, Any]]:
    answer = site.client.get(site.api("/licences"), params={"tab": "groupements"})
    return {row["ref"]: row for row in answer.json()["rows"]}


def shows_as_text(page: str, value: str) -> bool:
    """The page holds `value` escaped (as text), never as markup."""
    return value in html.unescape(page) and (value == html.escape(value) or value not in page)


# ---------------------------------------------------------------------- in process


def test_edits_reach_the_state_and_the_json_api_unchanged(site: Site) -> None:
    assert edit(site, EDITS).json() == {
        "ok": True,
        "edited": {"clients": 1, "services": 1, "licences": 2},
    }
    service = next(
        s for s in site.client.get("/_test/state").json()["services"] if s["ref"] == "SRV-10021"
    )
    assert (service["name"], service["client"], service["site"]) == (
        HOSTILE["markup"], HOSTILE["script"], HOSTILE["formula"],
    )  # fmt: skip
    found = rows(site)
    assert found["FPC367128"]["type"] == HOSTILE["controls"]
    assert found["FPC367128"]["licence"] == "FPC367128 " + HOSTILE["controls"]
    assert found["FPC367128"]["user"] == HOSTILE["script"]
    assert found["FPC367128"]["site"] == HOSTILE["bidi"]
    assert found["FPC367128"]["state"] == HOSTILE["nonchars"]
    assert found["FPC367128"]["sda"] == "0231456789"  # numbers are not editable
    assert found["FPC367129"]["user"] == HOSTILE["long"]
    assert found["FPC367129"]["site"] == HOSTILE["sentinels"]


def test_only_that_services_site_changes(site: Site) -> None:
    before = site.client.get("/_test/state").json()["services"]
    sharing = [s["ref"] for s in before if s["site"] == "Caen – Siège" and s["ref"] != "SRV-10021"]
    edit(site, {"services": {"SRV-10021": {"site": "Ailleurs"}}})
    after = {s["ref"]: s for s in site.client.get("/_test/state").json()["services"]}
    assert after["SRV-10021"]["site"] == "Ailleurs"
    assert all(after[ref]["site"] == "Caen – Siège" for ref in sharing)


def test_every_page_shows_the_edited_data_as_text(site: Site) -> None:
    edit(site, EDITS)
    front = site.front
    services = site.get(front.services + "?ref=10021")
    for value in (HOSTILE["markup"], HOSTILE["script"], HOSTILE["formula"]):
        assert shows_as_text(services, value), value
    service = site.get(front.service)
    assert shows_as_text(service, HOSTILE["markup"])  # the heading and the title
    title = re.search(r"<title>(.*?)</title>", service, re.S)
    assert title is not None
    assert html.unescape(title[1]).startswith(HOSTILE["markup"])
    licence = site.get(front.licence)
    for value in (HOSTILE["controls"], HOSTILE["script"], HOSTILE["bidi"], HOSTILE["nonchars"]):
        assert shows_as_text(licence, value), repr(value)
    other = site.get(front.licence.replace("FPC367128", "FPC367129"))
    assert shows_as_text(other, HOSTILE["long"])
    assert HOSTILE["sentinels"] in html.unescape(other)  # written as &#xe000; … &#xe001;
    for page in (services, service, licence):
        assert "<script>window.__pwned" not in page
        assert "<img src=x" not in page


def test_a_drift_never_renames_edited_data(site: Site) -> None:
    edit(site, {"services": {"SRV-10021": {"name": "Valider Rechercher"}},
                "licences": {"FPC367128": {"user_name": "Valider"}}})  # fmt: skip
    site.drift(rename={"Valider": "Confirmer", "Rechercher": "Chercher"})
    service = site.get(site.front.service)
    assert "Valider Rechercher" in service
    assert "Chercher</button>" in service  # the portal's own text did drift
    assert rows(site)["FPC367128"]["user"] == "Valider"


def test_bad_edits_are_refused_and_change_nothing(site: Site) -> None:
    before = site.client.get("/_test/state").json()
    cases = {
        400: [
            {"partners": {"demo": {"name": "x"}}},
            {"licences": {"FPC367128": {"ref": "FPC000001"}}},
            {"licences": {"FPC367128": {"sda": "0299999999"}}},
            {"services": {"SRV-10021": {"type": "Trunk SIP"}}},
            {"clients": {"CC-100245": {"account": "CC-1"}}},
            {"licences": {"FPC367128": {"site": 12}}},
            {"licences": {"FPC367128": {"site": None}}},
            {"licences": ["FPC367128"]},
            {"licences": {"FPC367128": "x"}},
        ],
        404: [
            {"licences": {"FPC999999": {"site": "x"}}},
            {"services": {"SRV-99999": {"name": "x"}}},
            {"clients": {"CC-999999": {"name": "x"}}},
            # all or nothing: the first edit is valid, the second names no licence
            {"services": {"SRV-10021": {"name": "x"}}, "licences": {"FPC999999": {"site": "y"}}},
        ],
    }
    for status, bodies in cases.items():
        for body in bodies:
            answer = edit(site, body)
            assert answer.status_code == status, body
            assert answer.json()["message"], body
    assert "FPC999999" in edit(site, {"licences": {"FPC999999": {"site": "x"}}}).json()["message"]
    unknown = edit(site, {"licences": {"FPC367128": {"sda": "1"}}}).json()["message"]
    assert "sda" in unknown
    assert "user_name" in unknown
    lone_surrogate = b'{"licences": {"FPC367128": {"site": "\\ud800"}}}'
    assert site.client.post("/_test/data", content=lone_surrogate).status_code == 400
    assert site.client.post("/_test/data", content=b"not json").status_code == 400
    assert site.client.get("/_test/state").json() == before


def test_reset_undoes_the_edits(site: Site) -> None:
    before = site.client.get("/_test/state").json()
    edit(site, EDITS)
    site.client.post("/_test/reset", json={})
    assert site.client.get("/_test/state").json() == before


def test_refused_submissions_change_nothing_then_the_next_one_passes(site: Site) -> None:
    message = "Refus <b>métier</b> : réessayez demain."
    assert site.client.post("/_test/refuse", json={"message": message, "count": 2}).json() == {
        "message": message,
        "count": 2,
    }
    site.drift(rename={"réessayez": "revenez", "Numéro(s)": "Lignes"})
    before = site.client.get("/_test/state").json()
    submission = {"licences": [{"ref": "FPC367128", "keep": True}]}
    for left in (1, 0):
        preview = site.post(site.api(site.front.preview), {"licences": ["FPC367128"]})
        assert preview.status_code == 200  # only « Valider » is refused
        refused = site.post(site.api("/dissociations"), submission)
        assert refused.status_code == 409
        assert refused.json() == {"error": "refused", "message": message}  # verbatim
        assert site.client.get("/_test/refuse").json()["count"] == left
    assert site.client.get("/_test/state").json() == before
    assert site.post(site.api("/dissociations"), submission).json()["dissociated"] == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"count": 1}, {"message": ""}, {"message": "  "}, {"message": 3},
     {"message": "x", "count": -1}, {"message": "x", "count": "2"},
     {"message": "x", "count": True}, {"message": "a\ue000b"}],
)  # fmt: skip
def test_bad_refusals_are_refused(site: Site, body: dict[str, Any]) -> None:
    assert site.client.post("/_test/refuse", json=body).status_code == 400
    assert site.client.get("/_test/refuse").json() == {"message": "", "count": 0}


def test_reset_and_count_zero_end_the_refusals(site: Site) -> None:
    site.client.post("/_test/refuse", json={"message": "Non."})
    assert site.client.get("/_test/refuse").json() == {"message": "Non.", "count": 1}
    site.client.post("/_test/reset", json={})
    assert site.client.get("/_test/refuse").json() == {"message": "", "count": 0}
    site.login()
    site.client.post("/_test/refuse", json={"message": "Non.", "count": 0})
    submission = {"licences": [{"ref": "FPC367128", "keep": True}]}
    assert site.post(site.api("/dissociations"), submission).status_code == 200


# ---------------------------------------------------------------------- browser

# Every text the page shows in a cell or a heading, as the DOM holds it.
TEXTS = """() => Array.from(document.querySelectorAll('td, [role=cell], [role=rowheader], h1'))
  .map(element => element.textContent)"""


@pytest.mark.browser
def test_the_browser_shows_hostile_data_as_text_and_runs_none_of_it(
    page: Page, served: tuple[Replica, Front]
) -> None:
    replica, front = served
    replica.test_api("data", EDITS)
    log_in(page, replica, front.services + "?ref=10021")
    texts = page.evaluate(TEXTS)
    for value in (HOSTILE["markup"], HOSTILE["script"], HOSTILE["formula"]):
        assert value in texts, value
    page.goto(replica.url + front.service)
    table = settle(page, front)
    expect(table.get_by_role("checkbox", name="Sélectionner FPC367128")).to_have_count(1)
    texts = page.evaluate(TEXTS)
    assert HOSTILE["markup"] in texts  # the heading
    assert "FPC367128 " + HOSTILE["controls"] in texts
    for value in ("script", "bidi", "nonchars", "long", "sentinels"):
        assert HOSTILE[value] in texts, value
    page.goto(replica.url + front.licence)  # server-rendered, control characters and all
    facts = page.evaluate(
        "() => Array.from(document.querySelectorAll('h1, dd, .x-fact__v')).map(e => e.textContent)"
    )
    assert "FPC367128 " + HOSTILE["controls"] in facts
    for value in ("script", "bidi", "nonchars"):
        assert HOSTILE[value] in facts, value
    assert page.evaluate("window.__pwned") is None


@pytest.mark.browser
def test_a_refused_valider_shows_its_message_in_the_dialog(
    page: Page, served: tuple[Replica, Front]
) -> None:
    replica, front = served
    log_in(page, replica, front.service)
    settle(page, front)
    replica.test_api("refuse", {"message": "Opération refusée par le back-office (<42>)."})
    page.get_by_role("checkbox", name="Sélectionner FPC367128").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    dialog.get_by_role("button", name="Valider").click()
    expect(dialog.get_by_role("alert")).to_have_text("Opération refusée par le back-office (<42>).")
    expect(dialog.get_by_role("button", name="Valider")).to_be_enabled()
    assert replica.state()["audit"] == []
    dialog.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_have_text("Numéro(s) dissocié(s) : 1")
    expect(dialog).to_be_hidden()
