"""Tables are read from their ARIA snapshot: rows, cells and controls, whatever the markup."""

from __future__ import annotations

from myopenip_bot.pages._table import aria_rows

SNAPSHOT = """
- table "Licences":
  - rowgroup:
    - row "Tout sélectionner Licence SDA État":
      - columnheader "Tout sélectionner":
        - checkbox "Tout sélectionner"
      - columnheader "Licence"
      - columnheader "SDA"
      - columnheader "État"
  - rowgroup:
    - row "Sélectionner FPC367128 FPC367128 Licence full conferencing 02 31 45 67 89 Affectée":
      - cell "Sélectionner FPC367128":
        - checkbox "Sélectionner FPC367128" [checked]
      - cell "FPC367128 Licence full conferencing":
        - link "FPC367128 Licence full conferencing":
          - /url: /services/SRV-10021/licences/FPC367128
      - cell "02 31 45 67 89"
      - cell "Affectée"
    - row "Sélectionner FPC367124 FPC367124 Licence SVI Non affectée":
      - gridcell "Sélectionner FPC367124":
        - checkbox "Sélectionner FPC367124"
      - gridcell "FPC367124 Licence SVI"
      - gridcell
      - gridcell "Non affectée"
    - 'row "Statut : \\"à voir\\""':
      - 'cell "Statut : \\"à voir\\""'
    - row "Texte":
      - cell: Texte seul
"""


def test_rows_keep_their_cells_in_order_and_know_the_header_row() -> None:
    header, first, second, third, fourth = aria_rows(SNAPSHOT)

    assert header.header is True
    assert header.cells == ["Tout sélectionner", "Licence", "SDA", "État"]
    assert first.header is False
    assert first.cells == [
        "Sélectionner FPC367128",
        "FPC367128 Licence full conferencing",
        "02 31 45 67 89",
        "Affectée",
    ]
    assert second.cells == ["Sélectionner FPC367124", "FPC367124 Licence SVI", "", "Non affectée"]
    assert third.cells == ['Statut : "à voir"']  # Playwright quotes names holding ": "
    assert fourth.cells == ["Texte seul"]


def test_each_row_lists_the_named_controls_it_holds() -> None:
    _, first, second, *_ = aria_rows(SNAPSHOT)

    assert ("checkbox", "Sélectionner FPC367128") in first.controls
    assert ("link", "FPC367128 Licence full conferencing") in first.controls
    assert second.controls == [("checkbox", "Sélectionner FPC367124")]


def test_an_empty_table_has_only_its_header_row() -> None:
    rows = aria_rows('- grid "Résultats":\n  - row "Licence SDA":\n    - columnheader "Licence"\n')

    assert [row.header for row in rows] == [True]
