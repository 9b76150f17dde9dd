"""pages/presence.py on a real page: `expect_shown`, the wait behind every look of the page
objects (shown is any element of the locator visible, at once or later; nothing shown is
an AssertionError at the timeout, and its failure copies nothing of the page), and the
portal's error hint read with the page's status in one call."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from myopenip_bot.config.selectors import load_selectors
from myopenip_bot.errors import TechnicalError
from myopenip_bot.pages.presence import Presence, expect_shown

pytestmark = pytest.mark.browser

SCREEN = """
<h1>Dissocier vos numéros</h1>
<p>Texte du portail 8d41</p>
<button>Annuler</button>
<button>Valider</button><button>Valider</button>
<button style="display: none">Confirmer</button>
"""


def test_several_shown_is_shown_where_to_be_visible_is_strict(page: Page) -> None:
    page.set_content(SCREEN)
    several = page.get_by_role("button", name="Valider")

    expect_shown(several, 1_000)

    with pytest.raises(AssertionError, match="strict mode violation"):
        expect(several).to_be_visible(timeout=1_000)


def test_an_element_shown_later_is_waited_for(page: Page) -> None:
    page.set_content(SCREEN)
    page.evaluate(
        """() => setTimeout(() => {
             const status = document.createElement("p");
             status.setAttribute("role", "status");
             status.textContent = "Numéro dissocié";
             document.body.append(status);
           }, 300)"""
    )

    expect_shown(page.get_by_role("status"), 5_000)

    expect(page.get_by_role("status")).to_have_text("Numéro dissocié")


def test_nothing_shown_fails_at_the_timeout_without_a_copy_of_the_page(page: Page) -> None:
    """A hidden element is not shown; the failure names the locator, never the page's
    texts: Playwright's `to_be_visible` would have put an ARIA snapshot of the whole page
    in it, built again at each poll (the cost `expect_shown` spares every look)."""
    page.set_content(SCREEN)

    with pytest.raises(AssertionError) as failed:
        expect_shown(page.get_by_role("button", name="Confirmer"), 300)

    assert "Confirmer" in str(failed.value)
    assert "8d41" not in str(failed.value)
    with pytest.raises(AssertionError) as snapshot:
        expect(page.get_by_role("button", name="Confirmer")).to_be_visible(timeout=300)
    assert "8d41" in str(snapshot.value)  # what the check above rules out


def test_the_portals_error_hint_is_an_error_page_where_it_shows_only(page: Page) -> None:
    """The hint (selectors' hints.technical_error) and the document's status are read at
    once; a hint in the page's markup but not shown says nothing."""
    presence = Presence(page, load_selectors(None))
    page.set_content("<h1>Résultats</h1><p hidden>Erreur technique</p><p>0 licence</p>")

    presence.raise_for_error_page("reading the results")

    page.set_content('<h1>Résultats</h1><div role="alert">Erreur technique (réf. 8d41)</div>')
    with pytest.raises(TechnicalError, match=r"reading the results: .*Erreur technique"):
        presence.raise_for_error_page("reading the results")
