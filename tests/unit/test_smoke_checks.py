"""The smoke checks' own guarantees: every selectors entry is checked, each check is named
by its screen and its entry, and the walk never clicks « Valider » (watched in the page,
on the replica)."""

from __future__ import annotations

import pytest
from e2e_support import replica_settings
from playwright.sync_api import Browser
from pydantic import BaseModel

from myopenip.replica import Replica
from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.pages import ReadOnlyDialog
from myopenip_bot.portal.portal import Portal
from myopenip_bot.smoke import CHECKS, SmokeWalk, Status, WalkOptions
from myopenip_bot.smoke.guard import NetworkGuard


def selector_keys(model: BaseModel, prefix: str = "") -> set[str]:
    """Every entry of the selectors file as a dotted key; a section's mapping of tabs too."""
    keys: set[str] = set()
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if isinstance(value, Selectors | BaseModel) and prefix == "":
            keys |= selector_keys(value, key + ".")
        elif isinstance(value, dict):
            keys |= {f"{key}.{tab.value if hasattr(tab, 'value') else tab}" for tab in value}
        else:
            keys.add(key)
    return keys


def test_every_entry_of_the_selectors_file_is_exercised_by_a_check() -> None:
    entries = selector_keys(load_selectors(None)) - {"version"}
    checked = {spec.key for spec in CHECKS}

    assert entries - checked == set()


def test_check_ids_are_unique_and_name_their_screen_and_key() -> None:
    # The guard's own check proves no entry of the file: what the walk sent.
    entries = selector_keys(load_selectors(None)) | {"network.read_only"}
    ids = [spec.id for spec in CHECKS]

    assert len(ids) == len(set(ids))
    for spec in CHECKS:
        # One separator: smoke.json's id is the JUnit case's classname and name, joined.
        screen, key = spec.id.split(": ")
        assert (screen, key) == (spec.screen, spec.key)
        assert key in entries, f"{spec.id}: no such entry in selectors/"


def test_the_read_only_dialog_has_no_method_that_could_submit() -> None:
    members = [name.lower() for name in dir(ReadOnlyDialog) if not name.startswith("__")]

    assert [name for name in members if "valid" in name or "submit" in name] == []


# Every click in the page, named as a person reads the control (its text or label),
# sent to the test before the page acts on it: the walk's clicks, whatever the network
# guard then lets through.
RECORD_CLICKS = """
document.addEventListener('click', (event) => {
  const hit = event.target instanceof Element ? event.target : null;
  if (!hit) return;
  const control = hit.closest('button, a, input, select, [role]') || hit;
  const name = control.getAttribute('aria-label') || control.textContent || control.value || '';
  window.__clicked(name.replace(/\\s+/g, ' ').trim());
}, true);
"""


@pytest.mark.browser
def test_the_smoke_walk_never_clicks_valider_and_sends_the_portal_nothing(
    browser: Browser, replica: Replica
) -> None:
    selectors = load_selectors(None)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    clicks: list[str] = []
    context.expose_binding("__clicked", lambda source, name: clicks.append(name))
    context.add_init_script(RECORD_CLICKS)
    page = context.new_page()
    settings = replica_settings(replica, timeout_ms=15_000)
    portal = Portal(page, selectors, settings)
    guard = NetworkGuard(context)
    walk = SmokeWalk(portal, guard, WalkOptions())
    try:
        checks = {check.id: check.status for check in walk.run()}
    finally:
        context.close()

    # The walk went as far as the dialog and beyond, clicking as it went…
    assert checks["Dissociation dialog: dialog.submit"] is Status.PASSED
    assert checks["After Annuler: dialog.cancel"] is Status.PASSED
    assert {"Actions", "Dissocier vos numéros", "Annuler"} <= set(clicks)
    # …and never on « Valider »: nothing reached the back end, nothing for the guard to stop.
    assert "Valider" not in clicks
    assert replica.submitted() == []
    assert guard.violations == []
