"""The replica in a real Chromium: every screen's texts, roles and names, and the guide's
procedure done by hand-style clicks. Web-first assertions only, no fixed waits."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from myopenip.replica import Replica

from .spec_texts import LICENCE_FILTERS, SERVICE_COLUMNS

pytestmark = pytest.mark.browser


def log_in(page: Page, replica: Replica, path: str = "/") -> None:
    page.goto(replica.url + path)
    page.get_by_label("Identifiant").fill(replica.username)
    page.get_by_label("Mot de passe").fill(replica.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def licences_table(page: Page) -> Locator:
    return page.get_by_role("table", name="Licences")


def open_tab(page: Page, replica: Replica, tab: str = "groupements") -> Locator:
    log_in(page, replica, f"/services/SRV-10021?tab={tab}")
    table = licences_table(page)
    expect(table).to_have_attribute("aria-busy", "false")
    return table


def search_licences(page: Page, licence: str) -> None:
    page.get_by_label("Licence", exact=True).fill(licence)
    page.get_by_role("button", name="Rechercher").click()
    expect(licences_table(page)).to_have_attribute("aria-busy", "false")


def open_dialog(page: Page, *refs: str) -> Locator:
    for ref in refs:
        page.get_by_role("checkbox", name=f"Sélectionner {ref}").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    expect(dialog).to_be_visible()
    return dialog


# ------------------------------------------------------------------------------ screens


def test_login_screen_has_its_heading_fields_and_button(page: Page, replica: Replica) -> None:
    page.goto(replica.url)
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()
    expect(page.get_by_role("textbox", name="Identifiant")).to_be_visible()
    expect(page.get_by_label("Mot de passe")).to_have_attribute("type", "password")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)


def test_wrong_credentials_show_an_alert_on_the_login_page(page: Page, replica: Replica) -> None:
    page.goto(replica.url)
    page.get_by_label("Identifiant").fill("demo")
    page.get_by_label("Mot de passe").fill("wrong")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect.")
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()


def test_mes_services_menu_holds_the_parametrage_link(page: Page, replica: Replica) -> None:
    log_in(page, replica)
    nav = page.get_by_role("navigation", name="Navigation principale")
    link = nav.get_by_role("link", name="Paramétrage / Monitoring")
    expect(link).to_be_hidden()
    nav.get_by_role("button", name="Mes Services").click()
    expect(nav.get_by_role("button", name="Mes Services")).to_have_attribute(
        "aria-expanded", "true"
    )
    link.click()
    expect(page.get_by_role("heading", name="Paramétrage / Monitoring")).to_be_visible()


def test_service_list_has_filters_columns_links_and_pagination(
    page: Page, replica: Replica
) -> None:
    log_in(page, replica, "/services")
    for label in SERVICE_COLUMNS:
        expect(page.get_by_role("textbox", name=label, exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Services")
    headers = table.get_by_role("columnheader")
    expect(headers).to_have_text([*SERVICE_COLUMNS, "Action"])
    expect(table.get_by_role("row")).to_have_count(21)  # header + 20
    expect(page.get_by_role("link", name="Paramétrer > SRV-10021")).to_have_text("Paramétrer >")
    expect(page.get_by_role("link", name="Précédent")).to_have_count(0)
    page.get_by_role("link", name="Suivant").click()
    expect(page.get_by_role("link", name="Précédent")).to_be_visible()
    page.get_by_role("link", name="Précédent").click()
    expect(page.get_by_role("link", name="Paramétrer > SRV-10021")).to_be_visible()


def test_service_filters_narrow_the_list(page: Page, replica: Replica) -> None:
    log_in(page, replica, "/services")
    page.get_by_label("Réf. du service").fill("10021")
    page.get_by_role("button", name="Rechercher").click()
    rows = page.get_by_role("table", name="Services").get_by_role("row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("MetaCentrex Siège Caen")


def test_service_page_has_its_heading_tabs_and_the_eleven_filters(
    page: Page, replica: Replica
) -> None:
    open_tab(page, replica, "utilisateurs")
    expect(page.get_by_role("heading", name="MetaCentrex Siège Caen")).to_be_visible()
    tablist = page.get_by_role("tablist")
    expect(tablist.get_by_role("tab")).to_have_text(["Utilisateurs", "Groupements"])
    expect(page.get_by_role("tab", name="Utilisateurs")).to_have_attribute("aria-selected", "true")
    for label in LICENCE_FILTERS:
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Rechercher")).to_be_visible()


def test_results_table_has_its_columns_checkboxes_and_paginates(
    page: Page, replica: Replica
) -> None:
    table = open_tab(page, replica, "utilisateurs")
    headers = table.get_by_role("columnheader")
    expect(headers).to_have_text(["", "Licence", "SDA", "Utilisateur", "Site", "État"])
    expect(table.get_by_role("checkbox", name="Tout sélectionner")).to_be_visible()
    expect(table.get_by_role("checkbox", name=re.compile(r"^Sélectionner FPC"))).to_have_count(20)
    page.get_by_role("link", name="Suivant").click()
    expect(table.get_by_role("checkbox", name="Sélectionner FPC367158")).to_be_visible()
    expect(table.get_by_role("checkbox", name=re.compile(r"^Sélectionner FPC"))).to_have_count(8)
    page.get_by_role("link", name="Précédent").click()
    expect(table.get_by_role("checkbox", name="Sélectionner FPC367131")).to_be_visible()


def test_groupements_show_the_guides_licences(page: Page, replica: Replica) -> None:
    table = open_tab(page, replica)
    row = table.get_by_role("row").filter(has_text="FPC367128")
    expect(row).to_contain_text("FPC367128 Licence full conferencing")
    expect(row).to_contain_text("02 31 45 67 89")
    for text in (
        "FPC367123 Licence SVI",
        "FPC367127 Licence fax entreprise",
        "FPC367129 Licence full meeting avancée",
    ):
        expect(table).to_contain_text(text)


def test_switching_tab_loads_the_other_tabs_licences(page: Page, replica: Replica) -> None:
    table = open_tab(page, replica, "utilisateurs")
    page.get_by_role("tab", name="Groupements").click()
    expect(page.get_by_role("tab", name="Groupements")).to_have_attribute("aria-selected", "true")
    expect(table.get_by_role("checkbox", name="Sélectionner FPC367128")).to_be_visible()
    expect(page).to_have_url(re.compile(r"tab=groupements"))


def test_a_filter_without_match_says_so(page: Page, replica: Replica) -> None:
    table = open_tab(page, replica)
    search_licences(page, "FPC999")
    expect(table).to_contain_text("Aucune licence ne correspond à votre recherche.")
    expect(page.get_by_role("button", name="Actions")).to_be_disabled()


def test_actions_is_disabled_until_a_row_is_ticked_and_opens_its_menu(
    page: Page, replica: Replica
) -> None:
    open_tab(page, replica)
    actions = page.get_by_role("button", name="Actions")
    expect(actions).to_be_disabled()
    page.get_by_role("checkbox", name="Sélectionner FPC367128").check()
    expect(actions).to_be_enabled()
    actions.click()
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitem", name="Dissocier vos numéros")).to_be_visible()
    page.get_by_role("checkbox", name="Sélectionner FPC367128").uncheck()
    expect(actions).to_be_disabled()


def test_tout_selectionner_ticks_every_row_of_the_page(page: Page, replica: Replica) -> None:
    table = open_tab(page, replica, "utilisateurs")
    table.get_by_role("checkbox", name="Tout sélectionner").check()
    boxes = table.get_by_role("checkbox", name=re.compile(r"^Sélectionner FPC"))
    expect(boxes).to_have_count(20)
    for index in range(20):
        expect(boxes.nth(index)).to_be_checked()
    expect(page.get_by_text("20 licences sélectionnées")).to_be_visible()


def test_a_new_search_clears_the_ticks(page: Page, replica: Replica) -> None:
    open_tab(page, replica)
    page.get_by_role("checkbox", name="Sélectionner FPC367128").check()
    search_licences(page, "FPC36712")
    expect(page.get_by_role("checkbox", name="Sélectionner FPC367128")).not_to_be_checked()
    expect(page.get_by_role("button", name="Actions")).to_be_disabled()


def test_the_dialog_lists_numbers_choices_warnings_and_buttons(
    page: Page, replica: Replica, guide_warnings: list[str]
) -> None:
    open_tab(page, replica)
    dialog = open_dialog(page, "FPC367128", "FPC367129", "FPC367124")
    expect(dialog.get_by_role("heading", name="Numéros à dissocier")).to_be_visible()
    expect(
        dialog.get_by_role("listitem").filter(has_text="FPC367128 02 31 45 67 89")
    ).to_have_count(1)
    keep = dialog.get_by_role("combobox", name="Conserver le numéro 02 31 45 67 89")
    expect(keep).to_have_value("oui")
    expect(keep.get_by_role("option")).to_have_text(["Oui", "Non"])
    expect(dialog.get_by_label("Conserver le numéro 02 31 45 67 90")).to_be_visible()
    expect(dialog.get_by_role("heading", name="Licences sans numéro")).to_be_visible()
    expect(dialog).to_contain_text("FPC367124 Licence SVI")
    for warning in guide_warnings:
        expect(dialog.get_by_text(warning, exact=True)).to_be_visible()
    expect(dialog.get_by_role("button", name="Annuler")).to_be_enabled()
    expect(dialog.get_by_role("button", name="Valider")).to_be_enabled()


def test_annuler_closes_the_dialog_and_changes_nothing(page: Page, replica: Replica) -> None:
    open_tab(page, replica)
    before = replica.state()
    dialog = open_dialog(page, "FPC367128")
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("checkbox", name="Sélectionner FPC367128")).to_be_checked()
    assert replica.state() == before


def test_only_licences_without_number_leave_nothing_to_validate(
    page: Page, replica: Replica
) -> None:
    open_tab(page, replica)
    dialog = open_dialog(page, "FPC367124")
    expect(dialog).to_contain_text("Aucune des licences sélectionnées n'a de numéro à dissocier.")
    expect(dialog.get_by_role("button", name="Valider")).to_be_disabled()


def test_the_guides_procedure_by_hand(page: Page, replica: Replica) -> None:
    """Every step of the guide, clicked like a person would, then checked in the data."""
    page.goto(replica.url)
    page.get_by_label("Identifiant").fill("demo")
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Mes Services").click()
    page.get_by_role("link", name="Paramétrage / Monitoring").click()
    page.get_by_label("Client", exact=True).fill("Normandie Logistique")
    page.get_by_label("Type de service").fill("MetaCentrex")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Paramétrer > SRV-10021").click()
    page.get_by_role("tab", name="Groupements").click()
    search_licences(page, "FPC36712")
    table = licences_table(page)
    for ref in ("FPC367123", "FPC367127", "FPC367128", "FPC367129"):
        expect(table.get_by_role("checkbox", name=f"Sélectionner {ref}")).to_be_visible()
    dialog = open_dialog(page, "FPC367128", "FPC367129")
    dialog.get_by_label("Conserver le numéro 02 31 45 67 90").select_option("Non")
    dialog.get_by_role("button", name="Valider").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text("Numéro(s) dissocié(s) : 2")
    expect(table.get_by_role("row").filter(has_text="FPC367128")).to_contain_text("Non affectée")
    expect(table).not_to_contain_text("02 31 45 67 89")
    numbers = {n["number"]: n["state"] for n in replica.state()["numbers"]}
    assert numbers["0231456789"] == "available"
    assert numbers["0231456790"] == "quarantine"


def test_a_submission_that_lost_a_race_shows_an_alert_and_keeps_the_dialog_open(
    page: Page, replica: Replica, browser
) -> None:
    open_tab(page, replica)
    dialog = open_dialog(page, "FPC367128")
    rival = browser.new_page()
    try:  # someone else dissociates the same number first
        open_tab(rival, replica)
        open_dialog(rival, "FPC367128").get_by_role("button", name="Valider").click()
        expect(rival.get_by_role("status")).to_have_text("Numéro(s) dissocié(s) : 1")
    finally:
        rival.close()
    dialog.get_by_role("button", name="Valider").click()
    expect(dialog.get_by_role("alert")).to_contain_text("FPC367128")
    expect(dialog).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("")
    assert len(replica.state()["audit"]) == 1


def test_misreported_preview_shows_the_wrong_number(page: Page, replica: Replica) -> None:
    replica.test_api("misreport", {"licence_ref": "FPC367128", "number": "0299999999"})
    open_tab(page, replica)
    dialog = open_dialog(page, "FPC367128")
    expect(dialog.get_by_text("FPC367128 02 99 99 99 99")).to_be_visible()
    expect(dialog.get_by_label("Conserver le numéro 02 99 99 99 99")).to_be_visible()


def test_an_expired_session_sends_to_login_and_back(page: Page, replica: Replica) -> None:
    open_tab(page, replica)
    replica.test_api("expire-sessions")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()
    expect(page.get_by_text("Votre session a expiré. Veuillez vous reconnecter.")).to_be_visible()
    page.get_by_label("Identifiant").fill("demo")
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("tab", name="Groupements")).to_have_attribute("aria-selected", "true")
    expect(licences_table(page)).to_have_attribute("aria-busy", "false")


def test_a_search_error_shows_an_alert(page: Page, replica: Replica) -> None:
    open_tab(page, replica)
    page.route(
        "**/api/services/*/licences*",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"error": "technical_error", "message": "Erreur technique : réessayez."}',
        ),
    )
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("alert")).to_have_text("Erreur technique : réessayez.")
    expect(licences_table(page)).to_have_attribute("aria-busy", "false")


def test_a_service_without_licences_has_no_tabs(page: Page, replica: Replica) -> None:
    log_in(page, replica, "/services/SRV-10026")
    expect(page.get_by_role("heading", name="Trunk SIP Rouen")).to_be_visible()
    expect(page.get_by_role("tablist")).to_have_count(0)
    expect(page.get_by_text("n'a pas de licences")).to_be_visible()


def test_se_deconnecter_logs_out(page: Page, replica: Replica) -> None:
    log_in(page, replica)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    page.goto(replica.url + "/services")
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()


# ------------------------------------------------------------------------------ faults


@pytest.fixture(scope="module")
def slow_replica() -> object:
    """A replica whose every request takes 0.2–0.6 s, to watch the loading states."""
    from myopenip.replica import run_replica

    with run_replica("--latency-ms", "400") as replica:
        yield replica


def test_results_show_a_loading_state_then_the_rows(page: Page, slow_replica: Replica) -> None:
    slow_replica.test_api("reset")
    log_in(page, slow_replica, "/services/SRV-10021?tab=groupements")
    table = licences_table(page)
    expect(table).to_have_attribute("aria-busy", "true")
    expect(table.get_by_text("Chargement…")).to_be_visible()
    expect(table).to_have_attribute("aria-busy", "false")
    expect(table.get_by_text("Chargement…")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("")


def test_the_dialog_appears_after_a_moment(page: Page, slow_replica: Replica) -> None:
    slow_replica.test_api("reset")
    log_in(page, slow_replica, "/services/SRV-10021?tab=groupements")
    expect(licences_table(page)).to_have_attribute("aria-busy", "false")
    page.get_by_role("checkbox", name="Sélectionner FPC367128").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    expect(page.get_by_text("Préparation de la dissociation…")).to_be_visible()
    expect(dialog).to_be_hidden()
    expect(dialog).to_be_visible()


@pytest.mark.slow
def test_a_dropped_response_shows_an_alert_although_the_data_changed(
    page: Page, replica_factory: Callable[..., Replica]
) -> None:
    replica = replica_factory("--drop-after-commit-rate", "1")
    open_tab(page, replica)
    dialog = open_dialog(page, "FPC367128")
    dialog.get_by_role("button", name="Valider").click()
    expect(dialog.get_by_role("alert")).to_contain_text("La connexion au serveur a été interrompue")
    expect(dialog).to_be_visible()
    licence = next(x for x in replica.state()["licences"] if x["ref"] == "FPC367128")
    assert licence["sda"] is None


def test_the_menu_link_is_the_only_parametrage_link_on_a_service_page(
    page: Page, replica: Replica
) -> None:
    open_tab(page, replica)
    page.get_by_role("button", name="Mes Services").click()
    page.get_by_role("link", name="Paramétrage / Monitoring").click()  # strict: exactly one
    expect(page.get_by_role("heading", name="Paramétrage / Monitoring")).to_be_visible()


def _technical_error(route) -> None:
    route.fulfill(
        status=503,
        content_type="application/json",
        body='{"error": "technical_error", "message": "Erreur technique : réessayez."}',
    )


def test_a_preview_error_opens_the_dialog_with_an_alert_and_nothing_to_validate(
    page: Page, replica: Replica
) -> None:
    open_tab(page, replica)
    page.route("**/dissociation-preview", _technical_error)
    dialog = open_dialog(page, "FPC367128")
    expect(dialog.get_by_role("alert")).to_have_text("Erreur technique : réessayez.")
    expect(dialog.get_by_role("button", name="Valider")).to_be_disabled()
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()


def test_a_server_error_on_valider_keeps_the_dialog_open_and_lets_the_person_retry(
    page: Page, replica: Replica
) -> None:
    open_tab(page, replica)
    dialog = open_dialog(page, "FPC367128")
    page.route("**/dissociations", _technical_error)
    dialog.get_by_role("button", name="Valider").click()
    expect(dialog.get_by_role("alert")).to_have_text("Erreur technique : réessayez.")
    expect(dialog.get_by_role("button", name="Valider")).to_be_enabled()
    page.unroute("**/dissociations")
    dialog.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_have_text("Numéro(s) dissocié(s) : 1")
    expect(dialog).to_be_hidden()


def test_menu_buttons_have_exactly_the_specs_names_without_their_arrows(
    page: Page, replica: Replica
) -> None:
    open_tab(page, replica)
    # A visible "▾" is decoration: the accessible names are the spec's, to the letter.
    expect(page.get_by_role("button", name="Mes Services", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Actions", exact=True)).to_be_visible()
