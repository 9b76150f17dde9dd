"""A portal that no longer shows what selectors/ names: the run stops at once, naming the
selectors key and what shows instead, never retried, with nothing changed."""

from __future__ import annotations

import pytest
from e2e_support import RecordingHooks, RunFn
from structlog.testing import capture_logs

from myopenip.replica import Replica
from myopenip_bot.errors import DriftError
from myopenip_bot.models import Outcome, Target

pytestmark = [pytest.mark.browser]


@pytest.mark.cells  # cases of one list: the quick tier runs one, turning
@pytest.mark.parametrize(
    ("markup", "old", "new", "key"),
    [
        ("classic", "Mes Services", "Mes Offres", "navigation.services_menu"),
        ("aria", "Rechercher", "Filtrer", "services.search"),
        ("aria", "Actions", "Opérations", "licences.actions"),
        ("classic", "Valider", "Confirmer", "dialog.submit"),
        ("aria", "Valider", "Confirmer", "dialog.submit"),
    ],
    ids=["classic-menu", "aria-search", "aria-actions", "classic-valider", "aria-valider"],
    indirect=["markup"],
)
def test_a_drifted_control_stops_the_run_naming_its_key_and_nothing_changes(
    run: RunFn, replica: Replica, hooks: RecordingHooks, old: str, new: str, key: str
) -> None:
    before = replica.state()
    replica.test_api("drift", {"rename": {old: new}})

    with capture_logs() as logs, pytest.raises(DriftError) as raised:
        run(Target(licence_ref="FPC367128"))

    assert raised.value.key == key
    assert new in str(raised.value)  # what the screen shows instead
    assert [e for e in logs if e["event"] in {"step_retried", "service_retried"}] == []
    assert hooks.submitting_refs == []  # « Valider » (or what replaced it) never clicked
    assert replica.state() == before


@pytest.mark.cells  # cases of one list: the quick tier runs one, turning
@pytest.mark.parametrize(
    ("markup", "numbers", "target"),
    [
        ("classic", "international", Target(licence_ref="FPC367128")),
        ("aria", "digits", Target(number="0231456789")),
    ],
    ids=["classic-international-by-licence", "aria-digits-by-number"],
    indirect=["markup"],
)
def test_numbers_shown_in_another_form_are_read_alike_and_a_one_shot_is_done(
    run: RunFn, replica: Replica, numbers: str, target: Target
) -> None:
    """A portal showing its numbers "+33 2 31 45 67 89" or "0231456789" (the spec's
    forms, data) is no drift: the dialog's « Conserver le numéro … » is found by its
    number in any form, and the number kept as asked."""
    replica.test_api("drift", {"numbers": numbers})

    result = run(target, keep=False)

    (task,) = result.results
    assert task.outcome is Outcome.DONE, task.reason
    state = replica.state()
    (licence,) = [lic for lic in state["licences"] if lic["ref"] == "FPC367128"]
    assert licence["sda"] is None
    (number,) = [n for n in state["numbers"] if n["number"] == "0231456789"]
    assert number["state"] == "quarantine"  # « Non » chosen in its select, found by number
    assert len(replica.back_end()["submissions"]) == 1  # « Valider » sent once
