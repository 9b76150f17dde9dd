"""Quirks (`--quirks`, `/_test/quirks`): behaviours of other real portals, one at a time and
combined, in both markups. In process: the flag, the test API, the server-rendered service
list and the API. In a real Chromium: what each quirk changes in the licence results, the
requests it sends (or not), and a whole dissociation under combinations of them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Request, Route, expect

from myopenip.replica import Replica
from myopenip_portal.cli import config_from
from myopenip_portal.quirks import KNOWN, Quirks, UnknownQuirk

from .conftest import Portal
from .fronts import ARIA, CLASSIC, Front, Site, log_in, settle

ALL_SEVEN = [
    "client-paging", "client-filtering", "search-first", "disabled-next", "page-size=5",
    "replace-table", "no-page-indicator",
]  # fmt: skip
USERS = [f"FPC{n}" for n in range(367131, 367159)]  # SRV-10021's Utilisateurs, by ref
GROUPS = [f"FPC{n}" for n in range(367123, 367131)]  # its Groupements
PAGE_INDICATOR = re.compile(r"Page \d+ sur \d+|page \d+ sur \d+|\d+–\d+ / \d+")


# ---------------------------------------------------------------------- the switches


def test_the_flag_reads_checks_and_names_quirks(capsys: pytest.CaptureFixture[str]) -> None:
    assert config_from([]).quirks == ()
    config = config_from(["--quirks", " search-first,page-size=5,,client-paging "])
    assert config.quirks == ("client-paging", "search-first", "page-size=5")
    for bad in ("fast-paging", "page-size=0", "page-size=101", "page-size=x", "page-size"):
        with pytest.raises(SystemExit) as exit_info:
            config_from(["--quirks", f"client-paging,{bad}"])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert bad in error
    assert all(name.split("=")[0] in error for name in KNOWN)  # and lists the known ones


def test_parse_gives_back_what_it_reads() -> None:
    quirks = Quirks.parse(ALL_SEVEN)
    assert sorted(quirks.names()) == sorted(ALL_SEVEN)
    assert quirks.rows_a_page(20) == 5
    assert Quirks.parse([]).rows_a_page(20) == 20
    assert Quirks.parse(["page-size=100"]).page_size == 100
    with pytest.raises(UnknownQuirk):
        Quirks.parse(["page-size=²"])


def test_the_test_api_switches_them_and_reset_restores_the_start_up_ones(
    make_portal: Callable[..., Portal],
) -> None:
    portal = make_portal(quirks=("search-first",))
    quirks = "/_test/quirks"
    assert portal.client.get(quirks).json() == {"quirks": ["search-first"]}
    answer = portal.client.post(quirks, json={"quirks": ["disabled-next", "page-size=3"]})
    assert answer.json() == {"ok": True, "quirks": ["disabled-next", "page-size=3"]}
    unknown = portal.client.post(quirks, json={"quirks": ["disabled-next", "lazy-rows"]})
    assert unknown.status_code == 400
    assert "lazy-rows" in unknown.json()["message"]
    assert "client-paging" in unknown.json()["message"]
    for bad in ({}, {"quirks": "search-first"}, {"quirks": [1]}, {"quirks": [], "x": 1}):
        assert portal.client.post(quirks, json=bad).status_code == 400, bad
    assert portal.client.get(quirks).json() == {"quirks": ["disabled-next", "page-size=3"]}
    portal.client.post("/_test/reset", json={})
    assert portal.client.get(quirks).json() == {"quirks": ["search-first"]}
    assert portal.client.post(quirks, json={"quirks": []}).json()["quirks"] == []


def quirk(site: Site, *names: str) -> None:
    assert site.client.post("/_test/quirks", json={"quirks": list(names)}).status_code == 200


def service_refs(page: str) -> list[str]:
    return re.findall(r'(?:role="rowheader" class="x-table__cell">|<td>)(SRV-\d+)<', page)


def test_page_size_pages_the_service_list_and_the_api(site: Site) -> None:
    quirk(site, "page-size=4")
    assert len(service_refs(site.get(site.front.services))) == 4
    answer = site.client.get(site.api("/licences"), params={"tab": "utilisateurs", "page": "2"})
    body = answer.json()
    assert (body["per_page"], body["pages"], len(body["rows"])) == (4, 7, 4)
    assert [row["ref"] for row in body["rows"]] == USERS[4:8]


def test_all_gives_every_row_with_what_each_filter_field_matches(site: Site) -> None:
    answer = site.client.get(site.api("/licences"), params={"tab": "utilisateurs", "all": "1"})
    body = answer.json()
    assert (body["page"], body["pages"], body["total"]) == (1, 1, 28)
    assert [row["ref"] for row in body["rows"]] == USERS
    fields = body["rows"][0]["fields"]
    assert fields["licence"] == body["rows"][0]["licence"]
    assert fields["sda"] == "0231456701"
    assert set(fields) == {
        "sda", "licence", "accountcode", "fiche", "etat", "urgence", "site", "fax2mail",
        "restrictions", "restrictions_hf", "superviseur",
    }  # fmt: skip


def test_search_first_shows_no_service_table_until_the_form_is_submitted(site: Site) -> None:
    quirk(site, "search-first")
    before = site.get(site.front.services)
    assert 'aria-label="Services"' not in before
    assert ">Rechercher</button>" in before
    assert "Suivant" not in before
    submitted = site.get(site.front.services + "?ref=&name=&client=")
    assert len(service_refs(submitted)) == site.front.rows_a_page
    page = "p" if site.front is ARIA else "page"
    assert len(service_refs(site.get(f"{site.front.services}?{page}=2"))) > 0


def test_search_first_keeps_the_licence_table_in_a_template(site: Site) -> None:
    quirk(site, "search-first")
    page = site.get(site.front.service)
    assert re.search(r"<template id=\"[\w-]+\">\s*<(table|div role=\"table\")", page)
    assert page.count('aria-label="Licences"') == 1
    assert 'data-searched="false"' in page
    tab = "onglet" if site.front is ARIA else "tab"
    assert f'<input type="hidden" name="{tab}" value="groupements">' in page
    submitted = site.get(site.front.service + "&licence=FPC36712&sda=")  # the form's own GET
    assert 'data-searched="true"' in submitted
    quirk(site)
    assert '-table-template"' not in site.get(site.front.service)


def test_disabled_next_keeps_both_links_disabled_on_the_service_list(site: Site) -> None:
    quirk(site, "disabled-next")
    page = "p" if site.front is ARIA else "page"
    first, last = site.get(site.front.services), site.get(f"{site.front.services}?{page}=9")
    disabled = r'role="link" aria-disabled="true">{}<'
    assert re.search(disabled.format("Précédent"), first)
    assert not re.search(disabled.format("Suivant"), first)
    assert re.search(disabled.format("Suivant"), last)
    assert not re.search(r"<[^>]*href[^>]*aria-disabled|aria-disabled[^>]*href", first + last)
    only = site.get(site.front.services + "?ref=10021")
    assert re.search(disabled.format("Précédent"), only)
    assert re.search(disabled.format("Suivant"), only)


def test_no_page_indicator_on_the_service_list(site: Site) -> None:
    assert PAGE_INDICATOR.search(site.get(site.front.services))
    quirk(site, "no-page-indicator")
    page = site.get(site.front.services)
    assert not PAGE_INDICATOR.search(page)
    assert ">Suivant</a>" in page


def test_a_quirk_holds_from_the_next_page_load(site: Site) -> None:
    before = site.get(site.front.service)
    assert '"pageSize": ' + str(site.front.rows_a_page) in before.replace("&#34;", '"')
    quirk(site, "page-size=9", "client-paging")
    after = site.get(site.front.service).replace("&#34;", '"')
    assert '"pageSize": 9' in after
    assert '"clientPaging": true' in after


# ---------------------------------------------------------------------- browser

browser = pytest.mark.browser


def licence_requests(page: Page) -> list[str]:
    """Every request for licence results the page sends from now on (URL)."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if "/licences?" in request.url:
            seen.append(request.url)

    page.on("request", record)
    return seen


def boxes(page: Page) -> Locator:
    return page.get_by_role("checkbox", name=re.compile(r"^Sélectionner FPC"))


def shown(page: Page) -> list[str]:
    """The licences of the rows shown, by ref (whatever order the page shows them in)."""
    labels: list[str] = boxes(page).evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    return sorted(label.removeprefix("Sélectionner ") for label in labels)


def shows(page: Page, front: Front, refs: list[str]) -> None:
    """Wait until exactly these licences are shown (settled, in the aria markup)."""
    expect(boxes(page)).to_have_count(len(refs))
    for ref in refs:
        expect(page.get_by_role("checkbox", name=f"Sélectionner {ref}")).to_have_count(1)
    settle(page, front)
    assert shown(page) == refs


def users_tab(front: Front) -> str:
    return front.service.replace("groupements", "utilisateurs")


def link(page: Page, name: str) -> Locator:
    return page.get_by_role("link", name=name, exact=True)


def search(page: Page, **fields: str) -> None:
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Rechercher").click()


@pytest.fixture
def quirky(served: tuple[Replica, Front]) -> Callable[..., tuple[Replica, Front]]:
    """The session's replica of each markup with these quirks (reset afterwards)."""

    def switch(*names: str) -> tuple[Replica, Front]:
        replica, front = served
        assert replica.quirks(*names) == Quirks.parse(names).names()
        return replica, front

    return switch


@browser
def test_client_paging_turns_pages_without_a_request(page: Page, quirky: Any) -> None:
    replica, front = quirky("client-paging")
    size = front.rows_a_page
    requests = licence_requests(page)
    log_in(page, replica, users_tab(front))
    shows(page, front, USERS[:size])
    assert len(requests) == 1
    assert "all=1" in requests[0]
    link(page, "Suivant").click()
    shows(page, front, USERS[size : 2 * size])
    link(page, "Précédent").click()
    shows(page, front, USERS[:size])
    assert len(requests) == 1
    search(page, Licence="FPC36715")  # a search asks the server again (no client-filtering)
    shows(page, front, USERS[19 : 19 + min(9, size)])
    assert len(requests) == 2
    assert "licence=FPC36715" in requests[1]


@browser
def test_client_filtering_searches_the_rows_already_in_the_page(page: Page, quirky: Any) -> None:
    replica, front = quirky("client-filtering")
    size = front.rows_a_page
    requests = licence_requests(page)
    log_in(page, replica, users_tab(front))
    shows(page, front, USERS[:size])
    assert len(requests) == 1
    search(page, Licence="fpc36715")
    shows(page, front, USERS[19 : 19 + min(9, size)])
    search(page, Licence="", SDA="+33 2 31 45 67 21")  # digits only, like the server
    shows(page, front, ["FPC367151"])
    search(page, SDA="", État="non affectee")  # case and accents aside
    shows(page, front, ["FPC367136", "FPC367143", "FPC367150", "FPC367157"])
    search(page, État="", Licence="nothing")
    expect(boxes(page)).to_have_count(0)
    assert len(requests) == 1  # no « Rechercher » sent a request
    search(page, Licence="FPC3671")
    shows(page, front, USERS[:size])
    link(page, "Suivant").click()  # page turns still ask the server (no client-paging)
    shows(page, front, USERS[size : 2 * size])
    assert len(requests) == 2
    assert "licence=FPC3671" in requests[1]


@browser
def test_search_first_shows_no_table_before_rechercher(page: Page, quirky: Any) -> None:
    replica, front = quirky("search-first")
    log_in(page, replica, front.services)
    expect(page.get_by_role("heading", name="Paramétrage / Monitoring")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    expect(link(page, "Suivant")).to_have_count(0)
    search(page, **{"Réf. du service": "10021"})
    expect(page.get_by_role("table", name="Services").get_by_role("row")).to_have_count(2)
    requests = licence_requests(page)
    page.get_by_role("link", name="Paramétrer > SRV-10021").click()
    expect(page.get_by_role("tab", name="Utilisateurs")).to_be_visible()
    page.wait_for_load_state()  # its script is in charge of « Rechercher »
    expect(page.get_by_role("table")).to_have_count(0)
    expect(page.get_by_role("button", name="Actions")).to_be_disabled()
    assert requests == []
    search(page)
    shows(page, front, USERS[: front.rows_a_page])
    page.get_by_role("tab", name="Groupements").click()
    expect(page.get_by_role("table")).to_have_count(0)
    assert len(requests) == 1
    search(page)
    shows(page, front, GROUPS[: front.rows_a_page])


@browser
def test_disabled_next_keeps_the_links_disabled_at_both_ends(page: Page, quirky: Any) -> None:
    replica, front = quirky("disabled-next")
    log_in(page, replica, users_tab(front))
    settle(page, front)
    for name in ("Précédent", "Suivant"):  # on the services list too
        expect(link(page, name)).to_have_count(1)
    assert link(page, "Précédent").is_disabled()
    assert link(page, "Précédent").get_attribute("href") is None
    assert link(page, "Suivant").is_enabled()
    pages = -(-len(USERS) // front.rows_a_page)
    for _ in range(pages - 1):
        link(page, "Suivant").click()
        settle(page, front)
    shows(page, front, USERS[(pages - 1) * front.rows_a_page :])
    expect(link(page, "Suivant")).to_be_disabled()
    assert link(page, "Suivant").get_attribute("href") is None
    assert link(page, "Précédent").is_enabled()
    link(page, "Suivant").click(force=True)  # a click on it goes nowhere
    expect(link(page, "Suivant")).to_be_disabled()
    page.goto(replica.url + front.services)
    assert link(page, "Précédent").is_disabled()
    page_param = "p" if front is ARIA else "page"
    for number in range(2, -(-27 // front.rows_a_page) + 1):  # the demo user's 27 services
        link(page, "Suivant").click()
        expect(page).to_have_url(re.compile(rf"[?&]{page_param}={number}$"))
    expect(link(page, "Suivant")).to_be_disabled()
    expect(link(page, "Précédent")).to_be_enabled()


@browser
def test_page_size_sets_the_rows_a_page(page: Page, quirky: Any) -> None:
    replica, front = quirky("page-size=5")
    log_in(page, replica, front.services)
    expect(page.get_by_role("table", name="Services").get_by_role("row")).to_have_count(6)
    page.goto(replica.url + users_tab(front))
    shows(page, front, USERS[:5])
    link(page, "Suivant").click()
    shows(page, front, USERS[5:10])


# The results table's element now, to tell later whether the page kept it.
MARK_TABLE = "() => { window.__table = document.querySelector('[aria-label=Licences]'); }"
SAME_TABLE = "() => window.__table.isConnected"


@browser
def test_replace_table_renders_a_new_table_element_every_time(page: Page, quirky: Any) -> None:
    replica, front = quirky("replace-table")
    log_in(page, replica, users_tab(front))
    shows(page, front, USERS[: front.rows_a_page])
    for action in (lambda: search(page), lambda: link(page, "Suivant").click()):
        page.evaluate(MARK_TABLE)
        action()
        page.wait_for_function(f"() => !({SAME_TABLE})()")
        settle(page, front)
        expect(page.get_by_role("table", name="Licences")).to_have_count(1)
    shows(page, front, USERS[front.rows_a_page : 2 * front.rows_a_page])
    page.get_by_role("checkbox", name=f"Sélectionner {USERS[front.rows_a_page]}").check()
    expect(page.get_by_role("button", name="Actions")).to_be_enabled()


@browser
def test_no_page_indicator_shows_only_the_links(page: Page, quirky: Any) -> None:
    replica, front = quirky("no-page-indicator")
    log_in(page, replica, users_tab(front))
    shows(page, front, USERS[: front.rows_a_page])
    expect(link(page, "Suivant")).to_be_visible()
    assert not PAGE_INDICATOR.search(page.locator("body").inner_text())
    page.goto(replica.url + front.services)
    expect(link(page, "Suivant")).to_be_visible()
    assert not PAGE_INDICATOR.search(page.locator("body").inner_text())


def dissociate(page: Page, front: Front, ref: str) -> None:
    """Tick one licence and dissociate it, keeping its number, as the guide says."""
    settle(page, front)
    page.get_by_role("checkbox", name=f"Sélectionner {ref}").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    expect(dialog.get_by_role("combobox", name=re.compile("^Conserver le numéro"))).to_have_count(1)
    dialog.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_have_text("Numéro(s) dissocié(s) : 1")
    expect(dialog).to_be_hidden()


@browser
@pytest.mark.parametrize("stays", [False, True], ids=["default", "status-stays"])
def test_status_stays_keeps_the_last_status_as_the_other_tab_opens(
    page: Page, quirky: Any, stays: bool
) -> None:
    replica, front = quirky(*(["status-stays"] if stays else []))
    log_in(page, replica, front.service)
    dissociate(page, front, "FPC367128")

    page.get_by_role("tab", name="Utilisateurs").click()

    shows(page, front, USERS[: front.rows_a_page])
    status = page.get_by_role("status").filter(has_text="Numéro(s) dissocié(s) : 1")
    expect(status).to_have_count(1 if stays else 0)


def licence_row(page: Page, ref: str) -> Locator:
    box = page.get_by_role("checkbox", name=f"Sélectionner {ref}")
    return page.get_by_role("table", name="Licences").get_by_role("row").filter(has=box)


@browser
def test_every_quirk_at_once_through_a_whole_dissociation(page: Page, quirky: Any) -> None:
    replica, front = quirky(*ALL_SEVEN)
    requests = licence_requests(page)
    log_in(page, replica, front.service)
    expect(page.get_by_role("table")).to_have_count(0)
    search(page)
    shows(page, front, GROUPS[:5])
    assert len(requests) == 1
    assert link(page, "Précédent").is_disabled()
    page.evaluate(MARK_TABLE)
    link(page, "Suivant").click()
    shows(page, front, GROUPS[5:])
    assert not page.evaluate(SAME_TABLE)
    expect(link(page, "Suivant")).to_be_disabled()
    search(page, Licence="FPC36712")
    shows(page, front, GROUPS[:5])
    link(page, "Suivant").click()
    shows(page, front, ["FPC367128", "FPC367129"])
    assert not PAGE_INDICATOR.search(page.locator("body").inner_text())
    assert len(requests) == 1  # searches and page turns all in the page
    dissociate(page, front, "FPC367128")
    expect(licence_row(page, "FPC367128")).to_contain_text("Non affectée")
    shows(page, front, ["FPC367128", "FPC367129"])  # the same page, the same filter
    assert len(requests) == 2  # the refresh after « Valider »
    licence = next(x for x in replica.state()["licences"] if x["ref"] == "FPC367128")
    assert licence["sda"] is None


@browser
def test_server_pages_with_local_searches_through_a_whole_dissociation(
    page: Page, quirky: Any
) -> None:
    replica, front = quirky("client-filtering", "disabled-next", "page-size=3", "search-first")
    requests = licence_requests(page)
    log_in(page, replica, front.service)
    search(page, Licence="FPC36712")
    shows(page, front, GROUPS[:3])
    assert len(requests) == 1
    link(page, "Suivant").click()  # the server pages: a request
    shows(page, front, GROUPS[3:6])
    assert len(requests) == 2
    dissociate(page, front, "FPC367127")
    expect(licence_row(page, "FPC367127")).to_contain_text("Non affectée")
    shows(page, front, GROUPS[3:6])
    link(page, "Suivant").click()
    shows(page, front, ["FPC367129"])
    expect(link(page, "Suivant")).to_be_disabled()
    numbers = {n["number"]: n["state"] for n in replica.state()["numbers"]}
    assert numbers["0231456781"] == "available"


@browser
def test_post_reads_sends_every_search_page_and_tab_as_a_post(page: Page, quirky: Any) -> None:
    replica, front = quirky("post-reads", "page-size=3")
    reads: list[tuple[str, str]] = []  # (method, path) of each read after the login

    def record(request: Request) -> None:
        if request.resource_type in {"document", "fetch", "xhr"}:
            reads.append((request.method, request.url.split("?")[0].removeprefix(replica.url)))

    log_in(page, replica, front.services)
    page.on("request", record)
    search(page, Client="Normandie")
    services = page.get_by_role("table", name="Services")
    expect(services.get_by_role("link", name=re.compile("^Paramétrer"))).to_have_count(3)
    first_page = services.inner_text()
    link(page, "Suivant").click()
    expect(services).not_to_have_text(first_page)
    assert reads[:2] == [("POST", front.services), ("POST", front.services)]
    reads.clear()
    page.goto(replica.url + front.service)
    shows(page, front, GROUPS[:3])
    search(page, Licence="FPC36712")
    shows(page, front, GROUPS[:3])
    link(page, "Suivant").click()
    shows(page, front, GROUPS[3:6])
    page.get_by_role("tab", name="Utilisateurs").click()
    shows(page, front, USERS[:3])
    api = [method for method, path in reads if path.endswith("/licences")]
    assert api == ["POST"] * 4  # the load, a search, a page, a tab: all POSTs


# Every render of the licence checkboxes, as the list of refs it showed (from now on).
RECORD_RENDERS = """() => {
  window.__renders = [];
  const read = () => Array.from(document.querySelectorAll('[aria-label^="Sélectionner FPC"]'))
    .map((b) => b.getAttribute('aria-label').slice(13)).sort().join(' ');
  new MutationObserver(() => {
    const now = read();
    const renders = window.__renders;
    if (renders[renders.length - 1] !== now) renders.push(now);
  }).observe(document.body, { subtree: true, childList: true });
}"""


@browser
def test_render_twice_shows_the_previous_results_once_more_before_the_new(
    page: Page, quirky: Any
) -> None:
    replica, front = quirky("render-twice")
    log_in(page, replica, front.service)
    search(page, Licence="FPC36712")
    shows(page, front, GROUPS[:7])
    page.evaluate(RECORD_RENDERS)

    search(page, Licence="FPC367128")

    shows(page, front, ["FPC367128"])
    renders: list[str] = []
    for render in page.evaluate("() => window.__renders"):
        if render and render not in renders[-1:]:  # not the loading state in between
            renders.append(render)
    assert renders == [" ".join(GROUPS[:7]), "FPC367128"]


@browser
@pytest.mark.slow
def test_a_replica_started_with_quirks_comes_back_to_them(
    page: Page, replica_factory: Callable[..., Replica]
) -> None:
    replica = replica_factory(quirks=["search-first", "page-size=2"], delays=False)
    replica.quirks()
    replica.test_api("reset")
    log_in(page, replica, CLASSIC.service)
    expect(page.get_by_role("table")).to_have_count(0)
    search(page)
    shows(page, CLASSIC, GROUPS[:2])


@browser
def test_a_search_submitted_before_the_script_runs_keeps_its_tab_and_shows_results(
    page: Page, quirky: Any
) -> None:
    replica, front = quirky("search-first")
    log_in(page, replica, front.services)
    blocked: list[str] = []

    def once(route: Route) -> None:  # the service page's script is late the first time
        if blocked:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route(f"**/static/{front.script}*", once)
    page.goto(replica.url + front.service)
    search(page, Licence="FPC36712")  # the browser submits the form itself: a GET
    expect(page).to_have_url(re.compile(r"licence=FPC36712"))
    expect(page.get_by_role("tab", name="Groupements")).to_have_attribute("aria-selected", "true")
    shows(page, front, GROUPS[: min(7, front.rows_a_page)])
    assert blocked
