"""A licence chosen by its user's name, and its user and options shown before « Valider »,
on both markups: « Application standardiste » said to end with the number; a portal that
shows no licence page leaves the options unknown and the run goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import RecordingHooks, licence, replica_settings
from playwright.sync_api import Page
from rich.console import Console

from myopenip.commands.dissociate import plan_table
from myopenip.replica import Replica
from myopenip_bot.config.selectors import Control, Selectors
from myopenip_bot.dissociation.runner import Runner
from myopenip_bot.models import DissociationRequest, Outcome, RunResult, Target
from myopenip_bot.portal.portal import Portal

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def run(
    page: Page,
    replica: Replica,
    selectors: Selectors,
    hooks: RecordingHooks,
    tmp_path: Path,
    *targets: Target,
    service: str = "SRV-10021",
    client: str | None = None,
) -> RunResult:
    settings = replica_settings(replica, timeout_ms=10_000, work_dir=tmp_path / "work")
    portal = Portal(page, selectors, settings, login_page=hooks.logging_in)
    runner = Runner(portal, observer=hooks, confirm=hooks.confirm, read_options=True)
    request = DissociationRequest(
        service_ref="" if client else service, client=client, targets=targets, keep_number=True
    )
    return runner.run(request)


def shown(table: object) -> str:
    console = Console(record=True, width=80)
    console.print(table)
    return " ".join(console.export_text().replace("│", " ").split())


def test_the_confirmation_says_the_standardiste_option_ends_with_the_number(
    page: Page, replica: Replica, selectors: Selectors, tmp_path: Path
) -> None:
    hooks = RecordingHooks(answer=False)  # the confirmation read, then « Annuler »
    before = replica.state()

    result = run(
        page, replica, selectors, hooks, tmp_path, Target(user="hugo LAURENT"),
        Target(licence_ref="FPC367132"),
    )  # fmt: skip

    (confirmation,) = hooks.confirmations
    by_ref = {task.licence_ref: task for task in confirmation.licences}
    assert by_ref["FPC367131"].user == "Hugo Laurent"
    assert by_ref["FPC367131"].options == ("Application standardiste", "Enregistrement des appels")
    assert by_ref["FPC367132"].options == ()
    text = shown(plan_table(confirmation))
    assert "User: Hugo Laurent" in text
    assert "Application standardiste — ended with the number" in text
    assert "Enregistrement des appels — stays with the licence" in text
    assert [task.outcome for task in result.results] == [Outcome.NOT_CONFIRMED] * 2
    assert replica.state() == before


def test_a_portal_without_licence_pages_says_the_options_are_not_shown_and_goes_on(
    page: Page, replica: Replica, selectors: Selectors, tmp_path: Path
) -> None:
    # A portal whose rows link to no page of their own: the hint finds nothing.
    hints = selectors.hints.model_copy(
        update={"licence_page": Control(role="link", name="Fiche {ref}")}
    )
    without = selectors.model_copy(update={"hints": hints})
    hooks = RecordingHooks()

    result = run(page, replica, without, hooks, tmp_path, Target(user="Anna Moreau"))

    (row,) = result.results
    assert (row.licence_ref, row.outcome, row.options) == ("FPC367135", Outcome.DONE, None)
    assert "Options: not shown by the portal" in shown(plan_table(hooks.confirmations[0]))
    assert licence(replica.state(), "FPC367135")["sda"] is None


def test_a_user_is_found_by_name_with_the_client_and_refused_when_none_or_several(
    page: Page, replica: Replica, selectors: Selectors, tmp_path: Path
) -> None:
    hooks = RecordingHooks()

    done = run(
        page, replica, selectors, hooks, tmp_path, Target(user="Lina André"),
        client="Cabinet Durand Avocats",
    )  # fmt: skip
    before = replica.state()
    refused = run(
        page, replica, selectors, hooks, tmp_path, Target(user="clara michel"),
        Target(user="Personne Inconnue"), service="SRV-10022",
    )  # fmt: skip

    (row,) = done.results
    assert (done.service_ref, row.licence_ref, row.outcome) == (
        "SRV-10022",
        "FPC305633",
        Outcome.DONE,
    )
    several, none = refused.results
    assert several.outcome is none.outcome is Outcome.REFUSED
    assert several.reason is not None
    assert none.reason is not None
    assert "2 licences of SRV-10022 have the user « clara michel »" in several.reason
    assert "FPC359080 · 02 31 62 02 78 · Clara Michel" in several.reason
    assert "FPC484555 · 02 31 63 51 39 · Clara Michel" in several.reason
    assert "no licence of SRV-10022 has the user « Personne Inconnue »" in none.reason
    assert replica.state() == before
