"""Proposals (smoke.propose) on plain data: each failed entry takes its best candidate in a
copy of the selectors that keeps the file's comments, the copy is proven by reruns until
it passes, the controls that change the portal are marked, and selectors/ is never
written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from myopenip_bot.config.selectors import (
    Control,
    Selectors,
    default_selectors_path,
    load_selectors,
)
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import UsageError
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import Tab
from myopenip_bot.smoke.checks import CHECKS, CheckResult, Status
from myopenip_bot.smoke.propose import (
    Change,
    Proposal,
    changes_for,
    check_target,
    flow,
    propose,
    proposed_control,
    render,
)
from myopenip_bot.smoke.run import SmokeResult
from myopenip_bot.smoke.walk import renamed_columns

SOURCE = default_selectors_path()


@pytest.fixture(scope="module")
def selectors() -> Selectors:
    return load_selectors(None)


def failed(key: str, control: Control, candidate: tuple[str, str], **values: str) -> CheckResult:
    """A failed check of `key` that did not find `control` and saw `candidate` first."""
    spec = next(spec for spec in CHECKS if spec.key == key)
    return CheckResult(
        spec, Status.FAILED, f"{key}: no …", control=control, values=values, candidates=(candidate,)
    )


def passing(given: Selectors | None = None) -> SmokeResult:
    return SmokeResult([CheckResult(spec, Status.PASSED) for spec in CHECKS])


def written(tmp_path: Path, changes: list[Change]) -> Selectors:
    path = tmp_path / "proposal.yaml"
    path.write_text(render(SOURCE.read_text(encoding="utf-8"), changes), encoding="utf-8")
    return load_selectors(path)


def differences(a: Selectors, b: Selectors) -> dict[str, tuple[Any, Any]]:
    """The sections and fields in which two selectors differ."""
    found = {}
    for section in type(a).model_fields:
        left, right = getattr(a, section), getattr(b, section)
        if left == right:
            continue
        for name in type(left).model_fields:
            if getattr(left, name) != getattr(right, name):
                found[f"{section}.{name}"] = (getattr(left, name), getattr(right, name))
    return found


def test_a_drifted_entry_takes_its_best_candidate_and_nothing_else_changes(
    selectors: Selectors, tmp_path: Path
) -> None:
    checks = [failed("services.search", selectors.services.search, ("button", "Filtrer"))]

    changes = changes_for(checks, selectors)
    proposed = written(tmp_path, changes)

    assert [(c.entry, flow(c.now)) for c in changes] == [
        ("services.search", '{role: button, name: "Filtrer"}')
    ]
    assert differences(selectors, proposed) == {
        "services.search": (selectors.services.search, Control(role="button", name="Filtrer"))
    }
    text = (tmp_path / "proposal.yaml").read_text(encoding="utf-8")
    source = SOURCE.read_text(encoding="utf-8")
    kept = [line for line in source.splitlines() if line.lstrip().startswith("#")]
    assert all(line in text for line in kept)  # every comment of the file is still there
    assert (
        '# proposed by `myopenip smoke --propose`; was {role: button, name: "Rechercher"}' in text
    )


def test_a_list_item_and_a_tab_are_replaced_in_place(selectors: Selectors, tmp_path: Path) -> None:
    utilisateurs = selectors.service.tabs[Tab.UTILISATEURS]
    checks = [
        failed("licences.filters", selectors.licences.filters[0], ("textbox", "Numéro SDA")),
        failed("service.tabs.Utilisateurs", utilisateurs, ("tab", "Usagers")),
    ]

    changes = changes_for(checks, selectors)
    proposed = written(tmp_path, changes)

    assert [c.entry for c in changes] == ["licences.filters[0]", "service.tabs.Utilisateurs"]
    assert proposed.licences.filters == (
        Control(label="Numéro SDA"),
        *selectors.licences.filters[1:],
    )
    assert proposed.service.tabs[Tab.UTILISATEURS] == Control(role="tab", name="Usagers")
    assert proposed.licences.number_filter == selectors.licences.number_filter


@pytest.mark.parametrize(
    ("key", "candidate", "values", "proposed"),
    [
        (
            "licences.row_checkbox",
            ("checkbox", "Cocher FPC367128"),
            {"ref": "FPC367128"},
            Control(role="checkbox", name="Cocher {ref}"),
        ),
        (
            "dialog.keep_select",
            ("combobox", "Garder le numéro 02 31 45 67 89"),
            {"number": "02 31 45 67 89"},
            Control(role="combobox", name="Garder le numéro {number}"),
        ),
        (
            "dialog.any_keep_select",
            ("combobox", "Garder le numéro 02 31 45 67 89"),
            {},
            Control(role="combobox", name="Garder le numéro", exact=False),
        ),
        (
            "services.configure",
            ("link", "Configurer > SRV-10021"),
            {},
            Control(role="link", name="Configurer >", exact=False),
        ),
        (
            "services.configure",
            ("link", "Modifier SRV-10021"),
            {},
            Control(role="link", name="Modifier", exact=False),
        ),
        (
            "dialog.warnings",
            ("paragraph", "N'oubliez pas de résilier le numéro depuis vos offres contractées."),
            {},
            Control(text="N'oubliez pas de résilier le numéro", exact=False),
        ),
        (
            "dialog.submit",
            ("button", "Confirmer {tout}"),
            {},
            Control(role="button", name="Confirmer {{tout}}"),  # braces of the portal: literal
        ),
    ],
    ids=["ref", "number", "partial-number", "partial-ref", "partial-renamed", "text", "braces"],
)
def test_a_candidate_becomes_an_entry_of_the_same_kind_with_its_placeholders(
    selectors: Selectors,
    key: str,
    candidate: tuple[str, str],
    values: dict[str, str],
    proposed: Control,
) -> None:
    entry: Any = selectors
    for part in key.split("."):
        entry = getattr(entry, part)
    was = entry[2] if isinstance(entry, tuple) else entry

    assert proposed_control(was, candidate, values) == proposed


def test_a_portal_name_is_written_escaped_and_read_back_whole(
    selectors: Selectors, tmp_path: Path
) -> None:
    hostile = 'Con"fir\\mer\x1b[31m \u202e\ufffe: # pas un commentaire'
    checks = [failed("dialog.submit", selectors.dialog.submit, ("button", hostile))]

    proposed = written(tmp_path, changes_for(checks, selectors))

    assert proposed.dialog.submit == Control(role="button", name=hostile)
    text = (tmp_path / "proposal.yaml").read_text(encoding="utf-8")
    assert "\x1b" not in text  # escaped in the file, not raw
    assert "\u202e" not in text


def test_the_controls_that_change_the_portal_are_marked_for_a_second_look(
    selectors: Selectors, tmp_path: Path
) -> None:
    checks = [
        failed("dialog.submit", selectors.dialog.submit, ("button", "Confirmer")),
        failed("licences.dissociate", selectors.licences.dissociate, ("menuitem", "Détacher")),
        failed("services.search", selectors.services.search, ("button", "Filtrer")),
    ]

    changes = changes_for(checks, selectors)
    written(tmp_path, changes)

    assert {c.entry: c.second_look for c in changes} == {
        "dialog.submit": True,
        "licences.dissociate": True,
        "services.search": False,
    }
    lines = (tmp_path / "proposal.yaml").read_text(encoding="utf-8").splitlines()
    for name in ("Confirmer", "Détacher"):
        at = next(i for i, line in enumerate(lines) if f'name: "{name}"' in line)
        assert "SECOND LOOK" in lines[at - 1]
    at = next(i for i, line in enumerate(lines) if 'name: "Filtrer"' in line)
    assert "SECOND LOOK" not in lines[at - 1]
    assert "proposed by" in lines[at - 1]


def test_an_entry_is_proposed_once_from_its_first_failed_check(selectors: Selectors) -> None:
    actions = selectors.licences.actions
    spec = next(spec for spec in CHECKS if spec.key == "texts.licence_columns")
    checks = [
        failed("licences.actions", actions, ("button", "Opérations")),
        failed("licences.actions", actions, ("button", "Autre chose")),
        CheckResult(spec, Status.FAILED, "no column header 'SDA'"),  # not a control
        replace(failed("dialog.submit", selectors.dialog.submit, ("button", "Ok")), candidates=()),
        CheckResult(spec, Status.ERROR, "not run"),
    ]

    changes = changes_for(checks, selectors)

    assert [(c.entry, c.now.name) for c in changes] == [("licences.actions", "Opérations")]


def test_a_drifted_text_entry_takes_the_text_shown_instead_in_place(
    selectors: Selectors, tmp_path: Path
) -> None:
    """A column header or an option is a text of `texts:`: its check names the entry
    (`entry`), the header or option shown in its stead is proposed as that text."""
    columns = next(spec for spec in CHECKS if spec.key == "texts.licence_columns")
    keep_no = next(spec for spec in CHECKS if spec.key == "texts.keep_no")
    checks = [
        CheckResult(
            columns,
            Status.FAILED,
            "texts.licence_columns: no column header 'SDA' …",
            control=Control(role="columnheader", name="SDA"),
            candidates=(("columnheader", "Numéro SDA"), ("columnheader", "Utilisateur")),
            entry="texts.licence_columns.number",
        ),
        CheckResult(
            keep_no,
            Status.FAILED,
            "texts.keep_no: no option 'Non' …",
            control=Control(role="option", name="Non"),
            candidates=(("option", "Refuser"),),
            entry="texts.keep_no",
        ),
    ]

    changes = changes_for(checks, selectors)
    proposed = written(tmp_path, changes)

    assert [(c.entry, c.text, c.now.name) for c in changes] == [
        ("texts.licence_columns.number", True, "Numéro SDA"),
        ("texts.keep_no", True, "Refuser"),
    ]
    assert proposed.texts.licence_columns.number == "Numéro SDA"
    assert proposed.texts.keep_no == "Refuser"
    assert differences(selectors, proposed).keys() == {"texts.licence_columns", "texts.keep_no"}
    text = (tmp_path / "proposal.yaml").read_text(encoding="utf-8")
    assert (
        '    # proposed by `myopenip smoke --propose`; was "SDA"\n    number: "Numéro SDA"' in text
    )
    assert Proposal(SOURCE, tmp_path / "p.yaml", changes).diff().splitlines()[:3] == [
        "  texts.licence_columns.number",
        '-   "SDA"',
        '+   "Numéro SDA"',
    ]
    # written anew (a file laid out otherwise), the text stays a text
    folded = SOURCE.read_text(encoding="utf-8").replace(
        '    number: "SDA"\n', "    number: >-\n      SDA\n", 1
    )
    dumped = yaml.safe_load(render(folded, changes))
    assert dumped["texts"]["licence_columns"]["number"] == "Numéro SDA"
    assert dumped["texts"]["keep_no"] == "Refuser"


def test_a_drifted_column_is_paired_with_the_closest_header_no_other_column_holds() -> None:
    columns = {"licence": "Licence", "number": "SDA", "user": "Utilisateur", "state": "État"}
    shown = ["", "Licence", "Statut", "Numéro SDA", "Utilisateur"]

    assert renamed_columns(shown, columns) == {"number": "Numéro SDA", "state": "Statut"}
    assert renamed_columns(["", *columns.values()], columns) == {}
    assert renamed_columns(["Licence", "Utilisateur"], columns) == {}  # nothing in their stead


def test_a_file_laid_out_otherwise_is_written_anew_and_says_so(
    selectors: Selectors, tmp_path: Path
) -> None:
    source = SOURCE.read_text(encoding="utf-8").replace(
        '  search: {role: button, name: "Rechercher"}\n',
        "  search:\n    role: button\n    name: Rechercher\n",
        1,  # the services' one, written as a block
    )
    assert source != SOURCE.read_text(encoding="utf-8")
    checks = [failed("services.search", selectors.services.search, ("button", "Filtrer"))]

    text = render(source, changes_for(checks, selectors), "portal.yaml")

    assert text.startswith(
        "# Proposed by `myopenip smoke --propose` from portal.yaml, written anew"
    )
    assert yaml.safe_load(text)["services"]["search"] == {"role": "button", "name": "Filtrer"}


def test_a_proposal_is_never_written_over_or_beside_the_selectors_in_use(tmp_path: Path) -> None:
    mine = tmp_path / "selectors" / "portal.yaml"
    mine.parent.mkdir()
    mine.write_text("", encoding="utf-8")

    for target in (mine, mine.with_name("proposal.yaml"), SOURCE, SOURCE.resolve()):
        with pytest.raises(UsageError, match="never writes selectors/"):
            check_target(target, mine)
    for target in (SOURCE.resolve().with_name("new.yaml"), tmp_path):
        with pytest.raises(UsageError):
            check_target(target, mine)
    check_target(tmp_path / "proposal.yaml", mine)  # anywhere else: fine


class Reruns:
    """Stands in for run_smoke: each rerun's result, made from the selectors it is given
    (a check names the control of the selectors it ran with), and what it was given."""

    def __init__(self, *results: Callable[[Selectors], SmokeResult]) -> None:
        self.results = list(results)
        self.given: list[Selectors] = []

    def __call__(self, settings: Settings, selectors: Selectors, **options: Any) -> SmokeResult:
        assert options["label"] == "smoke-proposal"
        self.given.append(selectors)
        return self.results.pop(0)(selectors)


def test_a_proposal_is_rerun_until_it_passes_and_the_selectors_in_use_are_untouched(
    selectors: Selectors, tmp_path: Path
) -> None:
    first = SmokeResult(
        [failed("services.search", selectors.services.search, ("button", "Filtrer"))]
    )

    def second(given: Selectors) -> SmokeResult:
        # Once the services search works, the tab's « Rechercher » shows it drifted too.
        return SmokeResult(
            [failed("licences.search", given.licences.search, ("button", "Filtrer"))]
        )

    reruns = Reruns(second, passing)
    before = SOURCE.read_bytes()

    proposal = propose(Settings(), selectors, SOURCE, first, tmp_path / "p.yaml", run=reruns)

    assert [c.entry for c in proposal.changes] == ["services.search", "licences.search"]
    assert len(proposal.reruns) == 2
    assert proposal.passes
    assert reruns.given[0].licences.search == selectors.licences.search  # one fix at a time
    assert reruns.given[1].licences.search == Control(role="button", name="Filtrer")
    assert load_selectors(tmp_path / "p.yaml").model_dump() == reruns.given[1].model_dump()
    assert SOURCE.read_bytes() == before
    assert '  services.search\n-   {role: button, name: "Rechercher"}' in proposal.diff()


def test_a_proposal_stops_when_a_rerun_brings_nothing_new_to_propose(
    selectors: Selectors, tmp_path: Path
) -> None:
    columns = next(spec for spec in CHECKS if spec.key == "texts.licence_columns")
    first = SmokeResult(
        [failed("services.search", selectors.services.search, ("button", "Filtrer"))]
    )
    still = SmokeResult([CheckResult(columns, Status.FAILED, "no column header 'SDA'")])

    reruns = Reruns(lambda given: still)

    proposal = propose(Settings(), selectors, SOURCE, first, tmp_path / "p.yaml", run=reruns)

    assert len(proposal.reruns) == 1
    assert not proposal.passes
    assert proposal.verdict is still


def test_nothing_is_written_when_nothing_can_be_proposed(
    selectors: Selectors, tmp_path: Path
) -> None:
    columns = next(spec for spec in CHECKS if spec.key == "texts.licence_columns")
    first = SmokeResult([CheckResult(columns, Status.FAILED, "no column header 'SDA'")])

    proposal = propose(Settings(), selectors, SOURCE, first, tmp_path / "p.yaml", run=Reruns())

    assert proposal.changes == []
    assert proposal.verdict is None
    assert not (tmp_path / "p.yaml").exists()


def test_a_signal_during_a_rerun_ends_the_proposal(selectors: Selectors, tmp_path: Path) -> None:
    first = SmokeResult(
        [failed("services.search", selectors.services.search, ("button", "Filtrer"))]
    )

    def stopped(given: Selectors) -> SmokeResult:
        failing = failed("licences.search", given.licences.search, ("button", "Filtrer"))
        return SmokeResult([failing], interrupted=2)

    proposal = propose(
        Settings(),
        selectors,
        SOURCE,
        first,
        tmp_path / "p.yaml",
        run=Reruns(stopped),
        stop=StopSignal(),
    )

    assert len(proposal.reruns) == 1
    assert proposal.verdict is not None
    assert proposal.verdict.interrupted == 2
