"""The page objects read and drive markup other than the replica's, given the same roles.

A portal written independently keeps the spec's roles and names, not the replica's HTML:
here the results are an ARIA grid of divs (no tab panel, labels by aria-label) and the
dialog lists its numbers in a table.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.models import Tab
from myopenip_bot.pages import DissociationDialog, LicenceResultsPage, ServicesPage

pytestmark = pytest.mark.browser

RESULTS = """
<h1>Connecté</h1>
<input aria-label="Licence"><input aria-label="SDA"><button>Rechercher</button>
<button aria-disabled="true">Actions</button>
<div role="table" aria-label="Résultats">
  <div role="row">
    <span role="columnheader"><input type="checkbox" aria-label="Tout sélectionner"></span>
    <span role="columnheader">Licence</span><span role="columnheader">SDA</span>
    <span role="columnheader">État</span>
  </div>
  <div role="row">
    <span role="cell"><input type="checkbox" aria-label="Sélectionner FPC367128"></span>
    <span role="cell">FPC367128 Licence full conferencing</span>
    <span role="cell">+33 2 31 45 67 89</span><span role="cell">Affectée</span>
  </div>
  <div role="row">
    <span role="cell"><input type="checkbox" aria-label="Sélectionner FPC367124"></span>
    <span role="cell">FPC367124 Licence SVI</span><span role="cell">—</span>
    <span role="cell">Non affectée</span>
  </div>
</div>
"""

DIALOG = """
<div role="dialog" aria-label="Dissocier vos numéros">
  <h2>Numéros à dissocier</h2>
  <table>
    <tr><td>FPC367128</td><td>02 31 45 67 89</td>
        <td><label>Conserver le numéro 02 31 45 67 89
            <select><option>Oui</option><option>Non</option></select></label></td></tr>
  </table>
  <h2>Licences sans numéro</h2>
  <ul><li>FPC367124 Licence SVI</li></ul>
  <p>Si vous dissociez le numéro de votre licence, votre service sera interrompu.</p>
  <div>Si vous ne conservez pas le numéro, la quarantaine débute.</div>
  <button>Annuler</button><button>Valider</button>
</div>
"""


@pytest.fixture(scope="module")
def selectors() -> Selectors:
    return load_selectors(None)


def test_results_in_an_aria_grid_of_divs_are_read_by_column_header(
    page: Page, selectors: Selectors
) -> None:
    page.set_content(RESULTS)
    results = LicenceResultsPage(page, selectors, Tab.GROUPEMENTS, timeout_ms=2_000)

    rows = results.rows()

    assert [(row.ref, row.type, row.number) for row in rows] == [
        ("FPC367128", "Licence full conferencing", "0231456789"),
        ("FPC367124", "Licence SVI", None),
    ]


def test_ticking_finds_the_row_checkbox_by_its_accessible_name(
    page: Page, selectors: Selectors
) -> None:
    page.set_content(RESULTS)
    results = LicenceResultsPage(page, selectors, Tab.GROUPEMENTS, timeout_ms=2_000)

    results.tick("FPC367128")

    assert page.get_by_role("checkbox", name="Sélectionner FPC367128").is_checked()
    assert not page.get_by_role("checkbox", name="Sélectionner FPC367124").is_checked()


def test_a_dialog_in_table_markup_is_read_back_and_its_choice_set(
    page: Page, selectors: Selectors
) -> None:
    page.set_content(DIALOG)
    dialog = DissociationDialog(page, selectors, timeout_ms=2_000)

    dialog.set_keep("0231456789", keep=False)

    assert [(row.ref, row.number) for row in dialog.listed_numbers()] == [
        ("FPC367128", "0231456789")
    ]
    assert dialog.licences_without_number() == ["FPC367124"]
    assert dialog.kept("0231456789") == "Non"
    assert dialog.keep_select_count() == 1
    assert dialog.warnings() == [
        "Si vous dissociez le numéro de votre licence, votre service sera interrompu.",
        "Si vous ne conservez pas le numéro, la quarantaine débute.",
    ]


SERVICES = """
<h1>Paramétrage / Monitoring</h1>
<table>
  <thead><tr><th>Réf. du service</th><th>Nom du service</th><th>Type de service</th>
             <th>État du service</th><th>Action</th></tr></thead>
  <tbody>
    <tr><th scope="row">SRV-10021</th><td>Siège</td><td>MetaCentrex</td><td>Actif</td>
        <td><a href="#">Paramétrer ></a></td></tr>
    <tr><th scope="row">SRV-100210</th><td>Annexe</td><td>Trunk SIP</td><td>Actif</td>
        <td><a href="#">Paramétrer ></a></td></tr>
  </tbody>
</table>
"""


def test_a_services_table_whose_rows_are_headed_by_the_ref_is_read_by_column(
    page: Page, selectors: Selectors
) -> None:
    page.set_content(SERVICES)

    rows = ServicesPage(page, selectors, timeout_ms=2_000).rows()

    assert [(row.ref, row.type) for row in rows] == [
        ("SRV-10021", "MetaCentrex"),
        ("SRV-100210", "Trunk SIP"),
    ]
