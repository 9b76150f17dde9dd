"""What a screen shows instead of a drifted control (pages.explain, pages.rank), on ARIA
snapshots as Playwright writes them: the same role, the region of its neighbours first,
then the closest names; neighbours are never candidates; any name is read whole."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from myopenip_bot.config.selectors import Control, Selectors, load_selectors
from myopenip_bot.pages import explain, parse_snapshot, rank

# « Paramétrage / Monitoring » after a drift « Rechercher » → « Filtrer » (classic markup).
SERVICES = """\
- document:
  - banner:
    - link "MyOpenIP – accueil":
      - /url: /
      - text: MyOpenIP
    - text: Partenaire Démo (demo)
  - navigation "Navigation principale":
    - list:
      - listitem:
        - link "Accueil":
          - /url: /
      - listitem:
        - button "Mes Services"
    - button "Se déconnecter"
  - main:
    - paragraph: Mes Services › Paramétrage / Monitoring
    - heading "Paramétrage / Monitoring" [level=1]
    - search "Filtres des services":
      - text: Réf. du service
      - textbox "Réf. du service"
      - text: Nom du service
      - textbox "Nom du service"
      - button "Filtrer"
    - table "Services":
      - rowgroup:
        - row "Réf. du service Action":
          - columnheader "Réf. du service"
          - columnheader "Action"
"""


@pytest.fixture(scope="module")
def selectors() -> Selectors:
    return load_selectors(None)


def neighbours(selectors: Selectors, section: str, control: Control) -> list[Control]:
    """The other controls of `control`'s section, as the smoke gives them."""
    model = getattr(selectors, section)
    found: list[Control] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value.values() if isinstance(value, dict) else value
        for item in items if isinstance(value, dict | tuple) else (value,):
            if isinstance(item, Control) and item is not control:
                found.append(item)
    return found


def test_a_renamed_button_is_offered_from_its_region_before_closer_names_elsewhere(
    selectors: Selectors,
) -> None:
    search = selectors.services.search
    near = neighbours(selectors, "services", search)

    found = rank(parse_snapshot(SERVICES), search, near=near)

    # "Mes Services" is a closer name to "Rechercher", but in the navigation bar.
    assert found == [
        ("button", "Filtrer"),
        ("button", "Mes Services"),
        ("button", "Se déconnecter"),
    ]


def test_the_neighbours_of_a_control_are_never_its_candidates(selectors: Selectors) -> None:
    snapshot = SERVICES.replace('button "Mes Services"', 'button "Mes Offres"')
    menu = selectors.navigation.services_menu

    found = rank(parse_snapshot(snapshot), menu, near=neighbours(selectors, "navigation", menu))

    assert found[0] == ("button", "Mes Offres")
    assert ("button", "Se déconnecter") not in found  # navigation.logout: known, not a rename


def test_candidates_are_ranked_from_the_innermost_region_outwards() -> None:
    snapshot = """\
- document:
  - navigation:
    - button "Rechercher partout"
  - main:
    - button "Exporter"
    - form "Filtres":
      - textbox "Licence"
      - button "Lancer"
"""
    wanted = Control(role="button", name="Rechercher")

    found = rank(parse_snapshot(snapshot), wanted, near=[Control(label="Licence")])

    assert found == [
        ("button", "Lancer"),  # in the form, beside the filter
        ("button", "Exporter"),  # in main, around the form
        ("button", "Rechercher partout"),  # elsewhere, however close its name
    ]


def test_without_neighbours_the_closest_name_comes_first() -> None:
    found = rank(parse_snapshot(SERVICES), Control(role="button", name="Mes Service"))

    assert found[0] == ("button", "Mes Services")


def test_a_renamed_label_is_found_among_the_form_fields(selectors: Selectors) -> None:
    snapshot = """\
- document:
  - tabpanel "Utilisateurs":
    - textbox "Numéro SDA"
    - textbox "Licence"
    - combobox "État"
    - button "Rechercher"
"""
    number = selectors.licences.number_filter
    near = neighbours(selectors, "licences", number)

    found = rank(parse_snapshot(snapshot), number, near=near)

    assert found == [("textbox", "Numéro SDA")]  # "Licence", "État": its neighbours


def test_a_placeholder_is_filled_before_names_are_compared(selectors: Selectors) -> None:
    snapshot = """\
- table:
  - row "FPC367128":
    - checkbox "Cocher FPC367127"
  - row "FPC367128":
    - checkbox "Cocher FPC367128"
"""
    found = rank(
        parse_snapshot(snapshot), selectors.licences.row_checkbox, values={"ref": "FPC367128"}
    )

    assert found[0] == ("checkbox", "Cocher FPC367128")


def test_a_text_is_found_among_the_leaves_by_how_it_begins(
    selectors: Selectors,
) -> None:
    warnings = selectors.dialog.warnings
    snapshot = f"""\
- dialog "Dissocier vos numéros":
  - heading "Dissocier vos numéros" [level=2]
  - region "Numéros à dissocier":
    - heading "Numéros à dissocier" [level=3]
  - region "Licences sans numéro":
    - heading "Licences sans numéro" [level=3]
    - list:
      - listitem: FPC367124 Licence SVI
  - paragraph: {selectors.dialog.warning_texts[0]}
  - paragraph: {selectors.dialog.warning_texts[1]}
  - paragraph: N'oubliez pas de résilier le numéro depuis vos offres contractées pour \
arrêter sa facturation. Vous pouvez conserver ce numéro pour d'autres utilisateurs.
  - button "Annuler"
"""
    found = rank(
        parse_snapshot(snapshot), warnings[2], near=neighbours(selectors, "dialog", warnings[2])
    )

    # A long paragraph, compared by how it begins; the region holding the heading is no text.
    assert found[0][0] == "paragraph"
    assert found[0][1].startswith("N'oubliez pas de résilier le numéro")
    assert ("region", "Licences sans numéro") not in found


def test_a_snapshot_is_read_whole_whatever_its_names_hold() -> None:
    snapshot = """\
- document:
  - 'button "Valider: tout"'
  - button "Dire \\"oui\\"" [disabled]
  - button "Évil\\u202e\\u001b[31m"
  - heading "Titre" [level=1] [expanded]
  - paragraph: "Texte: entre guillemets"
  - /url: /ailleurs
  - row "a": texte
"""
    nodes = parse_snapshot(snapshot)

    assert [(n.role, n.label) for n in nodes] == [
        ("document", ""),
        ("button", "Valider: tout"),
        ("button", 'Dire "oui"'),
        ("button", "Évil\u202e\x1b[31m"),
        ("heading", "Titre"),
        ("paragraph", "Texte: entre guillemets"),
        ("row", "a"),
    ]
    assert nodes[2].attributes == {"disabled"}
    assert nodes[4].attributes == {"level=1", "expanded"}
    assert {n.parent for n in nodes[1:]} == {0}


@pytest.mark.browser
def test_a_control_there_but_hidden_or_disabled_is_said_so_and_offers_no_candidate(
    page: Page,
) -> None:
    page.set_content(
        """
        <nav><button>Mes Services</button></nav>
        <main><form role="search" aria-label="Filtres">
          <label>Licence <input></label>
          <button style="display: none">Rechercher</button>
          <button disabled>Actions</button>
          <button>Filtrer</button>
        </form></main>
        """
    )
    where = "in the tab"

    hidden = explain(page, Control(role="button", name="Rechercher"), where, 1_000)
    disabled = explain(page, Control(role="button", name="Actions"), where, 1_000)
    gone = explain(
        page, Control(role="button", name="Valider"), where, 1_000, near=[Control(label="Licence")]
    )

    assert hidden.message == 'button named "Rechercher" present but hidden in the tab'
    assert (hidden.hidden, hidden.candidates) == (True, ())
    assert disabled.message == 'button named "Actions" present but disabled in the tab'
    assert (disabled.disabled, disabled.candidates) == (True, ())
    assert gone.message.startswith('no button named "Valider" in the tab; found button ')
    assert set(gone.candidates[:2]) == {("button", "Filtrer"), ("button", "Actions")}
    assert gone.candidates[-1] == ("button", "Mes Services")  # outside the search form: last
