"""Tables are read as a person sees them, whatever the markup and whatever their text holds;
ARIA snapshots are read line by line, without a parser a character can break."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from myopenip_bot.pages import aria_names, read_rows

HOSTILE = "a\ufffeb\uffffc \u202eevil \x1b]0;PWNED\x07\x1b[31m [bold red]X[/] <b>y</b>"
LONG = "Normandie " * 1_000  # 10,000 characters: more than an ARIA snapshot names

TABLE = f"""
<table>
  <thead><tr><th><input type="checkbox" aria-label="Tout sélectionner"></th>
    <th>Licence</th><th>SDA</th><th>Client</th></tr></thead>
  <tbody>
    <tr><td><input type="checkbox" aria-label="Sélectionner FPC367128"></td>
      <td><a href="#">FPC367128</a> Licence full conferencing</td>
      <td>02 31 45 67 89</td><td id="hostile"></td></tr>
    <tr><td><input type="checkbox" aria-label="Sélectionner FPC367124"></td>
      <td>FPC367124 Licence SVI</td><td></td><td id="long"></td></tr>
  </tbody>
</table>
<script>
  document.getElementById("hostile").textContent = {HOSTILE!r};
  document.getElementById("long").textContent = {LONG!r};
</script>
"""

GRID = """
<div role="grid" aria-label="Résultats">
  <div role="row"><span role="columnheader">Licence</span><span role="columnheader">SDA</span></div>
  <div role="rowgroup">
    <div role="row"><span role="rowheader">FPC367128 Licence SVI</span>
      <span role="gridcell">+33 2 31 45 67 89</span></div>
    <div role="row" style="display: none">
      <span role="cell">FPC000000</span><span role="cell">x</span></div>
  </div>
</div>
"""


@pytest.mark.browser
def test_cells_hold_any_character_and_any_length(page: Page) -> None:
    page.set_content(TABLE)

    header, first, second = read_rows(page.get_by_role("table"))

    assert header.header is True
    assert header.cells[1:] == ["Licence", "SDA", "Client"]
    assert first.header is False
    assert [" ".join(cell.split()) for cell in first.cells[1:3]] == [
        "FPC367128 Licence full conferencing",
        "02 31 45 67 89",
    ]
    assert first.cells[3] == HOSTILE
    assert second.cells[2] == ""
    assert second.cells[3].strip() == LONG.strip()


@pytest.mark.browser
def test_an_aria_grid_of_divs_is_read_by_its_roles_and_hidden_rows_are_not(page: Page) -> None:
    page.set_content(GRID)

    rows = read_rows(page.get_by_role("grid"))

    assert [row.header for row in rows] == [True, False]
    assert [" ".join(c.split()) for c in rows[1].cells] == [
        "FPC367128 Licence SVI",
        "+33 2 31 45 67 89",
    ]


def test_snapshot_names_are_read_whatever_they_hold() -> None:
    snapshot = "\n".join(
        [
            "- table:",
            '  - row "Licence Client":',
            '    - columnheader "Licence"',
            '    - cell "a\ufffeb\uffffc \u202eevil \\u001b[31m"',
            "    - 'cell \"Statut : \\\"à voir\\\" l''été\"'",
            "    - cell",
            '    - button "Filtrer" [disabled]',
            "    - text: Rechercher",
            "    - not a node",
        ]
    )

    assert aria_names(snapshot) == [
        ("row", "Licence Client"),
        ("columnheader", "Licence"),
        ("cell", "aU+FFFEbU+FFFFc U+202Eevil \\x1b[31m"),
        ("cell", 'Statut : "à voir" l\'été'),
        ("button", "Filtrer"),
    ]
