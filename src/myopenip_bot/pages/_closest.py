"""What a screen shows instead of a control the selectors name: for messages that say what
drifted (a page object's DriftError, a smoke check's failure)."""

from __future__ import annotations

import difflib

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from myopenip_bot.config.selectors import Control, locate
from myopenip_bot.pages._table import aria_names

__all__ = ["absent", "candidates", "named"]

# The roles of the fields a label names.
_FIELDS = frozenset({"textbox", "combobox", "searchbox", "spinbutton", "checkbox", "listbox"})


def named(control: Control, **values: str) -> str:
    """'button named "Valider"', 'field labelled "SDA"', 'text "…"'."""
    if control.role is not None:
        if control.name is None:
            return control.role
        return f'{control.role} named "{control.name.format(**values)}"'
    if control.label is not None:
        return f'field labelled "{control.label.format(**values)}"'
    return f'text "{(control.text or "").format(**values)}"'


def candidates(
    scope: Page | Locator, control: Control, timeout_ms: float, **values: str
) -> list[tuple[str, str]]:
    """The controls `scope` shows that could be `control` renamed: the same role (a form
    field for a label), closest names first; (role, name) each."""
    try:
        root = scope.locator(":root") if isinstance(scope, Page) else scope
        names = aria_names(root.aria_snapshot(timeout=timeout_ms))
    except PlaywrightError:
        return []
    if control.role is not None:
        roles = {str(control.role)}
    elif control.label is not None:
        roles = set(_FIELDS)
    else:
        roles = {role for role, _ in names}
    wanted = (control.name or control.label or control.text or "").format(**values)
    found = list(dict.fromkeys((role, name) for role, name in names if role in roles))
    close = difflib.get_close_matches(wanted, [name for _, name in found], n=3, cutoff=0.3)
    ranked = [pair for name in close for pair in found if pair[1] == name]
    return list(dict.fromkeys(ranked + found))


def absent(
    scope: Page | Locator, control: Control, where: str, timeout_ms: float, **values: str
) -> str:
    """Why `control` cannot be used in `scope`: there but hidden, or not there, and what
    shows instead (the first candidates)."""
    located = locate(scope, control, **values)
    try:
        present = located.count()
    except PlaywrightError:
        present = 0
    if present:
        return f"a {named(control, **values)} is there {where} but hidden"
    shown = candidates(scope, control, timeout_ms, **values)[:3]
    instead = "; found " + ", ".join(f'{role} "{name}"' for role, name in shown) if shown else ""
    return f"no {named(control, **values)} {where}{instead}"
