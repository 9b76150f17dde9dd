"""Server-rendered screens: the service list, a service's page and the error pages."""

from __future__ import annotations

import html
import re

from .conftest import Portal
from .spec_texts import LICENCE_FILTERS, SERVICE_COLUMNS


def rows(html: str) -> list[str]:
    return re.findall(r"<td>(SRV-\d+)</td>", html)


def test_service_list_has_its_heading_filters_columns_and_links(logged_in: Portal) -> None:
    page = html.unescape(logged_in.client.get("/services").text)
    assert "<h1>Paramétrage / Monitoring</h1>" in page
    for label in SERVICE_COLUMNS:
        assert f'">{label}</label>' in page
        assert f'<th scope="col">{label}</th>' in page
    assert '<th scope="col">Action</th>' in page
    assert ">Rechercher</button>" in page
    assert 'aria-label="Paramétrer > SRV-10021">Paramétrer ></a>' in page


def test_service_list_shows_twenty_rows_a_page_with_next_and_previous(
    logged_in: Portal,
) -> None:
    first = logged_in.client.get("/services").text
    assert len(rows(first)) == 20
    assert ">Suivant</a>" in first
    assert ">Précédent</a>" not in first
    second = logged_in.client.get("/services?page=2").text
    assert 0 < len(rows(second)) <= 20
    assert ">Précédent</a>" in second
    assert not set(rows(first)) & set(rows(second))


def test_service_filters_are_case_and_accent_insensitive_substrings(logged_in: Portal) -> None:
    page = logged_in.client.get("/services", params={"ref": "10021"}).text
    assert rows(page) == ["SRV-10021"]
    page = logged_in.client.get("/services", params={"client": "normandie", "type": "metacentrex"})
    assert "SRV-10021" in rows(page.text)
    assert all("Normandie Logistique" in row for row in page.text.split("<tr>")[2:])
    page = logged_in.client.get("/services", params={"state": "resilie"}).text
    assert "SRV-10025" in rows(page)
    assert "SRV-10021" not in rows(page)


def test_service_filters_keep_their_values_across_pages(logged_in: Portal) -> None:
    page = logged_in.client.get("/services", params={"type": "Meta"}).text
    assert 'value="Meta"' in page


def test_a_search_without_match_says_so(logged_in: Portal) -> None:
    page = logged_in.client.get("/services", params={"ref": "nothing"}).text
    assert "Aucun service ne correspond à votre recherche." in page


def test_the_demo_user_never_sees_another_partners_services(logged_in: Portal) -> None:
    pages = logged_in.client.get("/services").text + logged_in.client.get("/services?page=2").text
    assert "SRV-20001" not in pages


def test_a_metacentrex_service_page_has_its_name_tabs_filters_and_table(
    logged_in: Portal,
) -> None:
    page = html.unescape(logged_in.client.get("/services/SRV-10021").text)
    assert "<h1>MetaCentrex Siège Caen</h1>" in page
    assert 'role="tablist"' in page
    assert re.search(r'role="tab"[^>]*>Utilisateurs</button>', page, re.S)
    assert re.search(r'role="tab"[^>]*>Groupements</button>', page, re.S)
    for label in LICENCE_FILTERS:
        assert f'">{label}</label>' in page
    assert 'aria-label="Tout sélectionner"' in page
    assert 'aria-busy="true"' in page
    assert "Chargement…" in page
    assert re.search(r'id="actions-button"[^>]*disabled>Actions</button>', page, re.S)
    assert 'role="menuitem"' in page
    assert "Dissocier vos numéros</button>" in page
    assert 'role="status"' in page


def test_the_dialog_carries_the_guides_three_warnings_word_for_word(
    logged_in: Portal, guide_warnings: list[str]
) -> None:
    page = html.unescape(logged_in.client.get("/services/SRV-10021").text)
    for warning in guide_warnings:
        assert f"<p>{warning}</p>" in page
    assert '<h2 id="dissociation-title">Dissocier vos numéros</h2>' in page
    assert "Numéros à dissocier</h3>" in page
    assert "Licences sans numéro</h3>" in page
    assert ">Annuler</button>" in page
    assert ">Valider</button>" in page


def test_the_tab_comes_from_the_address(logged_in: Portal) -> None:
    page = logged_in.client.get("/services/SRV-10021?tab=groupements").text
    assert re.search(r'id="tab-groupements"[^>]*aria-selected="true"', page, re.S)
    assert 'aria-labelledby="tab-groupements"' in page


def test_a_service_without_licences_shows_its_settings_without_tabs(logged_in: Portal) -> None:
    for ref, kind in (("SRV-10026", "Trunk SIP"), ("SRV-10027", "Accès Fibre")):
        page = logged_in.client.get(f"/services/{ref}").text
        assert 'role="tablist"' not in page
        assert f"Ce service ({kind}) n'a pas de licences" in page
        assert "Paramètres du service" in page
        assert logged_in.licences(service=ref).status_code == 409


def test_an_unknown_service_gets_a_clear_404_page(logged_in: Portal) -> None:
    response = logged_in.client.get("/services/SRV-99999")
    assert response.status_code == 404
    assert "Service introuvable" in response.text
    assert 'role="alert"' in response.text
    assert "SRV-99999" in response.text


def test_another_partners_service_gets_a_clear_403_page(logged_in: Portal) -> None:
    response = logged_in.client.get("/services/SRV-20001")
    assert response.status_code == 403
    assert "Accès refusé" in response.text


def test_an_unknown_path_gets_a_portal_404_page_and_json_under_api(logged_in: Portal) -> None:
    page = logged_in.client.get("/nowhere")
    assert page.status_code == 404
    assert "Page introuvable" in page.text
    api = logged_in.client.get("/api/nowhere")
    assert api.status_code == 404
    assert api.json()["error"] == "http_error"


def test_pages_look_like_the_operator_portal(logged_in: Portal) -> None:
    page = logged_in.client.get("/").text
    assert "open<strong>IP</strong>" in page
    assert "MyOpenIP" in page
    assert '<nav class="navbar" aria-label="Navigation principale">' in page
    assert logged_in.client.get("/static/portal.css").status_code == 200
    assert logged_in.client.get("/static/licences.js").status_code == 200


def test_a_licence_page_shows_the_licence_and_its_settings(logged_in: Portal) -> None:
    page = html.unescape(logged_in.client.get("/services/SRV-10021/licences/FPC367128").text)
    assert "<h1>FPC367128 Licence full conferencing</h1>" in page
    assert "02 31 45 67 89" in page
    logged_in.dissociate({"FPC367128": True})
    page = html.unescape(logged_in.client.get("/services/SRV-10021/licences/FPC367128").text)
    assert "Aucun numéro" in page
    assert "Aucun paramétrage" in page


def test_an_unknown_licence_in_the_address_gets_a_clear_404_page(logged_in: Portal) -> None:
    for path in (
        "/services/SRV-10021/licences/FPC999999",
        "/services/SRV-10022/licences/FPC367128",  # a licence of another service
    ):
        response = logged_in.client.get(path)
        assert response.status_code == 404
        assert "Licence introuvable" in response.text
    assert logged_in.client.get("/services/SRV-99999/licences/FPC367128").status_code == 404
    assert logged_in.client.get("/services/SRV-20001/licences/FPC367128").status_code == 403
