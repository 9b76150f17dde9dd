"""The selectors file: the packaged default is valid, and a broken file fails naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from myopenip_bot.config.selectors import (
    Control,
    default_selectors_path,
    load_selectors,
    locate,
)
from myopenip_bot.errors import SettingsError
from myopenip_bot.models import Tab

REPO_SELECTORS = Path(__file__).resolve().parents[2] / "selectors" / "portal.yaml"


def default_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(REPO_SELECTORS.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "selectors.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_packaged_default_is_the_repository_file_and_loads() -> None:
    assert default_selectors_path().read_text(encoding="utf-8") == REPO_SELECTORS.read_text(
        encoding="utf-8"
    )

    selectors = load_selectors(None)

    assert selectors.dialog.submit == Control(role="button", name="Valider")
    assert set(selectors.service.tabs) == set(Tab)
    assert len(selectors.dialog.warnings) == 3


def test_a_missing_key_fails_naming_it(tmp_path: Path) -> None:
    data = default_data()
    del data["dialog"]["submit"]

    with pytest.raises(SettingsError, match=r"dialog\.submit: Field required"):
        load_selectors(write(tmp_path, data))


def test_an_unknown_key_fails_naming_it(tmp_path: Path) -> None:
    data = default_data()
    data["login"]["css"] = {"role": "button", "name": "x"}

    with pytest.raises(SettingsError, match=r"login\.css"):
        load_selectors(write(tmp_path, data))


def test_a_control_found_two_ways_fails_naming_it(tmp_path: Path) -> None:
    data = default_data()
    data["login"]["username"] = {"role": "textbox", "name": "Identifiant", "label": "Identifiant"}

    with pytest.raises(SettingsError, match=r"login\.username: .*exactly one of role, label"):
        load_selectors(write(tmp_path, data))


def test_an_unknown_role_fails_naming_the_key(tmp_path: Path) -> None:
    data = default_data()
    data["licences"]["actions"] = {"role": "bouton", "name": "Actions"}

    with pytest.raises(SettingsError, match=r"licences\.actions\.role"):
        load_selectors(write(tmp_path, data))


def test_an_unknown_placeholder_fails_naming_the_key(tmp_path: Path) -> None:
    data = default_data()
    data["licences"]["row_checkbox"] = {"role": "checkbox", "name": "Sélectionner {licence}"}

    with pytest.raises(SettingsError, match=r"licences\.row_checkbox: .*unknown placeholder"):
        load_selectors(write(tmp_path, data))


def test_a_pattern_without_its_named_groups_fails_naming_the_key(tmp_path: Path) -> None:
    data = default_data()
    data["texts"]["dialog_row"] = r"(FPC\d{6}) (\d{10})"

    with pytest.raises(SettingsError, match=r"texts\.dialog_row: .*\['ref', 'number'\]"):
        load_selectors(write(tmp_path, data))


def test_an_invalid_pattern_fails_naming_the_key(tmp_path: Path) -> None:
    data = default_data()
    data["texts"]["licence_ref"] = "FPC[0-9"

    with pytest.raises(SettingsError, match=r"texts\.licence_ref"):
        load_selectors(write(tmp_path, data))


@pytest.mark.parametrize("content", ["[not: closed", "- a list", ""])
def test_a_file_that_is_not_a_yaml_mapping_fails(tmp_path: Path, content: str) -> None:
    path = tmp_path / "selectors.yaml"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(SettingsError, match=str(path)):
        load_selectors(path)


def test_a_missing_file_fails_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read the selectors file"):
        load_selectors(tmp_path / "absent.yaml")


class RecordingScope:
    """Stands for a Page or Locator: records which get_by_* was called, and how."""

    def get_by_role(self, role: str, **kwargs: Any) -> tuple[str, str, dict[str, Any]]:
        return ("role", role, kwargs)

    def get_by_label(self, text: str, **kwargs: Any) -> tuple[str, str, dict[str, Any]]:
        return ("label", text, kwargs)

    def get_by_text(self, text: str, **kwargs: Any) -> tuple[str, str, dict[str, Any]]:
        return ("text", text, kwargs)


@pytest.mark.parametrize(
    ("control", "expected"),
    [
        (
            Control(role="checkbox", name="Sélectionner {ref}"),
            ("role", "checkbox", {"name": "Sélectionner FPC367128", "exact": True}),
        ),
        (Control(role="dialog"), ("role", "dialog", {})),
        (
            Control(label="Licence {ref}", exact=False),
            ("label", "Licence FPC367128", {"exact": False}),
        ),
        (Control(text="Chargement…"), ("text", "Chargement…", {"exact": True})),
    ],
    ids=["role-and-name", "role-only", "label", "text"],
)
def test_locate_asks_for_the_role_label_or_text_with_placeholders_filled(
    control: Control, expected: tuple[str, str, dict[str, Any]]
) -> None:
    found = locate(RecordingScope(), control, ref="FPC367128", number="02 31 45 67 89")  # type: ignore[arg-type]

    assert found == expected


@pytest.mark.parametrize("exact", [True, False])
def test_a_number_in_a_name_matches_it_in_any_of_the_forms_a_portal_shows(exact: bool) -> None:
    """A {number} is data: "02 31 45 67 89", "0231456789" and "+33 2 31 45 67 89" alike
    (the spec), whichever form it is given in; another number never."""
    control = Control(role="combobox", name="Conserver le numéro {number}", exact=exact)
    for given in ("02 31 45 67 89", "0231456789", "+33 2 31 45 67 89"):
        _, role, options = locate(RecordingScope(), control, number=given)  # type: ignore[arg-type]
        pattern = options["name"]

        assert role == "combobox"
        for shown in (
            "Conserver le numéro 02 31 45 67 89",
            "Conserver le numéro 0231456789",
            "Conserver  le numéro +33 2 31 45 67 89",
            "Conserver le numéro 02.31.45.67.89",
        ):
            assert pattern.search(shown), (given, shown)
        assert not pattern.search("Conserver le numéro 02 31 45 67 80")
        # exact: the whole name, its case; else any part of it, any case
        assert (pattern.search("Conserver le numéro 02 31 45 67 89 (ligne 2)") is None) is exact
        assert (pattern.search("conserver le numéro 0231456789") is None) is exact


def test_the_dialog_row_pattern_pairs_a_ref_with_its_number_on_its_line_only() -> None:
    texts = load_selectors(None).texts
    dialog = (
        "Numéros à dissocier\nFPC367128 02 31 45 67 89\nConserver le numéro\nOui\n"
        "Licences sans numéro\nFPC367124 Licence SVI\nAppelez le 01 84 78 78 80"
    )

    pairs = [(m["ref"], m["number"]) for m in texts.dialog_row.finditer(dialog)]

    assert pairs == [("FPC367128", "02 31 45 67 89")]
    assert texts.licence_ref.findall(dialog) == ["FPC367128", "FPC367124"]


def test_the_status_pattern_reads_the_count() -> None:
    match = load_selectors(None).texts.status_dissociated.search("Numéro(s) dissocié(s) : 2")

    assert match is not None
    assert match["count"] == "2"


def test_a_file_with_the_service_ref_pattern_among_the_texts_still_loads_as_a_hint(
    tmp_path: Path,
) -> None:
    """Written before the shape of a service ref became a hint (the guide shows none)."""
    data = default_data()
    del data["hints"]["service_ref"]
    data["texts"]["service_ref"] = r"\bMC-\d{6}\b"

    selectors = load_selectors(write(tmp_path, data))

    assert selectors.hints.service_ref is not None
    assert selectors.hints.service_ref.pattern == r"\bMC-\d{6}\b"


def test_hints_added_since_may_be_left_out_of_a_file() -> None:
    data = default_data()
    del data["hints"]["service_ref"]
    del data["hints"]["in_progress"]

    assert load_selectors_data(data).hints.in_progress is None


def load_selectors_data(data: dict[str, Any]) -> Any:
    from myopenip_bot.config.selectors import Selectors

    return Selectors.model_validate(data)
