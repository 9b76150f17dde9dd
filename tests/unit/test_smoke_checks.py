"""The smoke checks' own guarantees, without a browser: every selectors entry is checked,
and no code path of the smoke can click « Valider »."""

from __future__ import annotations

import ast
from pathlib import Path

from pydantic import BaseModel

import myopenip_bot.smoke
from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.pages import ReadOnlyDialog
from myopenip_bot.smoke.checks import CHECKS

SMOKE_SOURCES = sorted(Path(myopenip_bot.smoke.__file__).parent.glob("*.py")) + sorted(
    (Path(myopenip_bot.smoke.__file__).parent.parent / "smoke_suite").glob("*.py")
)


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
    ids = [spec.id for spec in CHECKS]

    assert len(ids) == len(set(ids))
    assert all(spec.id == f"{spec.screen}: {spec.key}" for spec in CHECKS)


def test_the_read_only_dialog_has_no_method_that_could_submit() -> None:
    members = [name.lower() for name in dir(ReadOnlyDialog) if not name.startswith("__")]

    assert [name for name in members if "valid" in name or "submit" in name] == []


def test_no_smoke_code_clicks_the_submit_control_or_uses_the_dialog_that_can() -> None:
    clicks: list[str] = []
    for source in SMOKE_SOURCES:
        text = source.read_text(encoding="utf-8")
        assert "DissociationDialog" not in text, source
        assert ".validate(" not in text, source
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"click", "press", "dispatch_event", "tap"}
            ):
                clicks.append(f"{source.name}: {ast.unparse(node)}")
    assert clicks  # the smoke does click (menus, ticks, Annuler)…
    assert [click for click in clicks if "submit" in click.lower()] == []  # …never the submit
