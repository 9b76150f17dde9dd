"""The dissociation's rules on plain data: what is refused before anything is clicked, what
a listed row means, whether a dialog is the plan, and what « Valider » and a fresh read
mean for each licence. No browser, no portal."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from ledger_samples import entry

from myopenip_bot.config.selectors import load_selectors
from myopenip_bot.dissociation.rules import (
    RESUBMISSIONS_PER_RUN,
    DialogShows,
    all_or_nothing,
    before_again,
    common_prefix,
    completion,
    found,
    no_longer_accepted,
    not_held,
    read_back_problems,
    refuse_repeated,
    refuse_same_licence,
    settle_after_valider,
    settle_unread,
    still_in_progress,
    stopped,
    with_earlier,
)
from myopenip_bot.ledger.entries import dissociated_by
from myopenip_bot.models import LicenceTask, Outcome, Tab, Target
from myopenip_bot.pages import AnswerKind, LicenceRow, SubmitAnswer

TEXTS = load_selectors(None).texts


def tasks(*targets: Target) -> list[LicenceTask]:
    return [LicenceTask(index, target, keep=False) for index, target in enumerate(targets)]


def planned(ref: str, number: str, *, keep: bool = False, submissions: int = 0) -> LicenceTask:
    return LicenceTask(
        0,
        Target(licence_ref=ref),
        keep=keep,
        licence_ref=ref,
        number=number,
        tab=Tab.GROUPEMENTS,
        submissions=submissions,
    )


def row(ref: str, number: str | None) -> LicenceRow:
    return LicenceRow(ref=ref, type="Licence SVI", number=number, text=ref, user="A. Martin")


# -- before anything is clicked ----------------------------------------------------------


def test_a_ref_given_twice_refuses_both_entries_and_leaves_the_others() -> None:
    given = refuse_repeated(
        tasks(
            Target(licence_ref="FPC367128"),
            Target(licence_ref="FPC367129"),
            Target(licence_ref="fpc367128"),
        )
    )

    assert [task.outcome for task in given] == [Outcome.REFUSED, None, Outcome.REFUSED]
    assert "duplicate" in (given[0].reason or "")


def test_a_number_given_twice_refuses_both_entries() -> None:
    given = refuse_repeated(tasks(Target(number="0231456789"), Target(number="0231456789")))

    assert [task.outcome for task in given] == [Outcome.REFUSED, Outcome.REFUSED]


def test_a_ref_and_the_number_of_the_same_licence_are_refused_once_resolved() -> None:
    given = [
        replace(task, licence_ref="FPC367128", number="0231456789")
        for task in tasks(Target(licence_ref="FPC367128"), Target(number="0231456789"))
    ]

    refused = refuse_same_licence(given)

    assert [task.outcome for task in refused] == [Outcome.REFUSED, Outcome.REFUSED]
    assert "same licence FPC367128" in (refused[1].reason or "")


def test_the_common_prefix_is_a_filter_that_matches_every_ref() -> None:
    assert common_prefix(["FPC367131", "FPC367158", "FPC367140"]) == "FPC3671"
    assert common_prefix(["FPC367128"]) == "FPC367128"
    assert common_prefix(["FPC367128", "XYZ000001"]) == ""


def test_one_refusal_skips_every_other_planned_licence_and_names_the_refusal() -> None:
    given = tasks(Target(licence_ref="FPC367128"), Target(licence_ref="FPC999999"))
    given[1] = given[1].settle(Outcome.REFUSED, "no licence FPC999999")

    skipped, message = all_or_nothing(given)

    assert [task.outcome for task in skipped] == [Outcome.SKIPPED, Outcome.REFUSED]
    assert message is not None
    assert "FPC999999" in message
    assert "--skip-refused" in message


def test_without_a_refusal_nothing_is_skipped() -> None:
    given = [tasks(Target(licence_ref="FPC367128"))[0].settle(Outcome.ALREADY_DONE)]

    assert all_or_nothing(given) == (given, None)


# -- what a listed row means -----------------------------------------------------------------


def test_a_listed_licence_with_a_number_is_planned_with_what_the_portal_shows() -> None:
    (task,) = tasks(Target(licence_ref="FPC367128"))

    task = found(task, Tab.GROUPEMENTS, row("FPC367128", "0231456789"))

    assert task.planned
    assert (task.number, task.tab, task.type, task.user) == (
        "0231456789",
        Tab.GROUPEMENTS,
        "Licence SVI",
        "A. Martin",
    )


@pytest.mark.parametrize(
    ("target", "submissions", "number", "outcome"),
    [
        (Target(licence_ref="FPC367128"), 0, None, Outcome.ALREADY_DONE),
        (Target(licence_ref="FPC367128"), 1, None, Outcome.DONE),  # an earlier Valider did it
        # clicked in earlier runs, answers lost, the number still there: planned again
        (Target(licence_ref="FPC367128", submitted=5), 5, "0231456789", None),
        (Target(licence_ref="FPC367128", number="0231456790"), 0, "0231456789", Outcome.REFUSED),
        # accepted earlier and still listed with that number: the portal is at work
        (
            Target(licence_ref="FPC367128", accepted="0231456789"),
            0,
            "0231456789",
            Outcome.IN_PROGRESS,
        ),
        # accepted earlier, and gone since: the earlier « Valider » took effect
        (Target(licence_ref="FPC367128", accepted="0231456789"), 0, None, Outcome.DONE),
        # accepted earlier with another number, which went; a new one came: planned again
        (Target(licence_ref="FPC367128", accepted="0231456700"), 0, "0231456789", None),
    ],
    ids=[
        "no-number",
        "earlier-valider-took-effect",
        "clicked-often-in-earlier-runs",
        "other-number",
        "accepted-still-listed",
        "accepted-then-gone",
        "accepted-then-renumbered",
    ],
)
def test_what_a_listed_row_means_for_a_licence(
    target: Target, submissions: int, number: str | None, outcome: Outcome
) -> None:
    task = LicenceTask(0, target, keep=False, submissions=submissions)

    assert found(task, Tab.UTILISATEURS, row("FPC367128", number)).outcome is outcome


def test_a_row_the_portal_shows_at_work_is_in_progress_and_never_planned() -> None:
    (task,) = tasks(Target(licence_ref="FPC367128"))

    task = found(task, Tab.UTILISATEURS, row("FPC367128", "0231456789"), working=True)

    assert task.outcome is Outcome.IN_PROGRESS
    assert "nothing was sent" in (task.reason or "")


def test_a_done_licence_the_records_knew_shows_the_number_taken_off() -> None:
    (task,) = tasks(Target(licence_ref="FPC367128", accepted="0231456789"))

    task = found(task, Tab.UTILISATEURS, row("FPC367128", None))

    assert (task.outcome, task.number) == (Outcome.DONE, "0231456789")


@pytest.fixture
def paris() -> Iterator[None]:
    """The machine's local time is Paris' (UTC+1 in December)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


# The ledger's record of the bot dissociating 02 33 26 42 19 from FPC302848 of SRV-10022.
FIRST_RUN = entry(
    at="2026-12-07T13:02:41.000000Z",
    os_user="agent1",
    service="SRV-10022",
    licence="FPC302848",
    number="0233264219",
    ticket="INC-1001",
)


def test_a_number_no_licence_holds_without_evidence_is_refused_naming_the_service() -> None:
    (task,) = tasks(Target(number="0233264219"))

    task = not_held(task, "SRV-10021")

    assert task.outcome is Outcome.REFUSED
    assert task.reason == (
        "no licence of SRV-10021 holds 02 33 26 42 19: check the number (it may be another "
        "service's or another client's)"
    )


def test_a_number_the_ledger_saw_the_bot_dissociate_is_already_done_dated_in_local_time(
    paris: None,
) -> None:
    (task,) = tasks(Target(number="0233264219"))

    task = not_held(task, "SRV-10022", FIRST_RUN)

    assert task.outcome is Outcome.ALREADY_DONE
    assert task.reason == (
        "no licence of SRV-10022 holds 02 33 26 42 19 any more: dissociated from FPC302848 "
        "on 2026-12-07 14:02 by agent1 (ticket INC-1001); nothing to do"
    )


def test_a_number_the_portal_accepted_in_an_earlier_run_is_already_done() -> None:
    (task,) = tasks(Target(number="0233264219", accepted="0233264219"))

    task = not_held(task, "SRV-10022")

    assert task.outcome is Outcome.ALREADY_DONE
    assert "the portal accepted its dissociation in an earlier run" in (task.reason or "")


def test_a_licence_without_its_number_says_when_the_bot_dissociated_it(paris: None) -> None:
    (task,) = tasks(Target(licence_ref="FPC302848"))
    accepted = replace(FIRST_RUN, outcome="in_progress", os_user="?", portal_user="demo", ticket="")

    dated = found(task, Tab.UTILISATEURS, row("FPC302848", None), dissociation=FIRST_RUN)
    only_accepted = found(task, Tab.UTILISATEURS, row("FPC302848", None), dissociation=accepted)

    assert (dated.outcome, dated.reason) == (
        Outcome.ALREADY_DONE,
        "FPC302848 has no number: 02 33 26 42 19 dissociated on 2026-12-07 14:02 by agent1 "
        "(ticket INC-1001); nothing to do",
    )
    assert only_accepted.reason == (
        "FPC302848 has no number: 02 33 26 42 19 accepted for dissociation on 2026-12-07 14:02"
        " by demo; nothing to do"
    )


def test_a_licence_still_holding_its_number_is_planned_whatever_the_ledger_says() -> None:
    (task,) = tasks(Target(licence_ref="FPC302848"))

    task = found(task, Tab.UTILISATEURS, row("FPC302848", "0233264219"), dissociation=FIRST_RUN)

    assert task.planned


def test_only_a_done_or_accepted_entry_is_evidence_the_latest_by_number_and_by_licence() -> None:
    newest_first = [
        replace(FIRST_RUN, outcome="already_done", at="2026-12-08T09:00:00.000000Z"),
        replace(FIRST_RUN, outcome="would_do", licence="FPC302849", number="0233264220"),
        replace(FIRST_RUN, outcome="refused", number="0233264221", licence=""),
        FIRST_RUN,
        replace(FIRST_RUN, outcome="in_progress", at="2026-12-07T13:02:40.000000Z"),
        replace(FIRST_RUN, outcome="submitting", licence="FPC302850", number="0233264222"),
    ]

    told = dissociated_by(
        newest_first, ["0233264219", "fpc302848", "0233264220", "0233264221", "FPC302850"]
    )

    assert told == {"0233264219": FIRST_RUN, "FPC302848": FIRST_RUN}


def test_the_records_tell_each_task_of_its_earlier_acceptance_by_ref_or_number() -> None:
    given = tasks(
        Target(licence_ref="fpc367128"),
        Target(number="0231456790"),
        Target(licence_ref="FPC367140"),
    )

    told = with_earlier(given, {"FPC367128": "0231456789", "FPC367129": "0231456790"})

    assert [t.target.accepted for t in told] == ["0231456789", "0231456790", None]


def test_the_records_of_licences_found_otherwise_than_in_progress_are_over() -> None:
    done = planned("FPC367128", "0231456789").settle(Outcome.DONE)
    working = planned("FPC367129", "0231456790").settle(Outcome.IN_PROGRESS)
    other = planned("FPC367140", "0231456791")

    over = no_longer_accepted([done, working, other], {"FPC367128": 1, "FPC367129": 1})

    assert over == ["FPC367128"]


# -- the dialog read back --------------------------------------------------------------------


def shows(*pairs: tuple[str, str], without: tuple[str, ...] = (), kept: str = "Non") -> DialogShows:
    return DialogShows(
        pairs=pairs,
        without_number=without,
        keep_selects=len(pairs),
        kept={number: kept for _, number in pairs},
    )


def test_a_dialog_listing_exactly_the_plan_is_the_plan() -> None:
    batch = [planned("FPC367128", "0231456789")]

    dialog = shows(("FPC367128", "0231456789"))

    assert read_back_problems(batch, dialog, TEXTS, check_keep=True) == []


@pytest.mark.parametrize(
    ("dialog", "problem"),
    [
        (shows(("FPC367128", "0299999999")), "it lists [FPC367128 02 99 99 99 99]"),
        (shows(("FPC367128", "0231456789"), ("FPC367129", "0231456790")), "it lists"),
        (shows(("FPC367128", "0231456789"), without=("FPC367124",)), "Licences sans numéro"),
        (shows(("FPC367128", "0231456789"), kept="Oui"), "shows 'Oui'"),
    ],
    ids=["another-number", "an-extra-licence", "a-licence-without-number", "keep-not-set"],
)
def test_a_dialog_that_is_not_the_plan_says_how(dialog: DialogShows, problem: str) -> None:
    batch = [planned("FPC367128", "0231456789", keep=False)]

    problems = read_back_problems(batch, dialog, TEXTS, check_keep=True)

    assert problems
    assert problem in "; ".join(problems)


# -- after « Valider » ----------------------------------------------------------------------

CONFIRMED = SubmitAnswer(AnswerKind.CONFIRMED, status="Numéro(s) dissocié(s) : 1")
REFUSED = SubmitAnswer(AnswerKind.REFUSED, problem="Le service n'est pas actif.")
LOST = SubmitAnswer(AnswerKind.LOST, problem="the portal answered HTTP 503")


@pytest.mark.parametrize(
    ("answer", "now", "submissions", "outcome"),
    [
        (CONFIRMED, None, 1, Outcome.DONE),
        (LOST, None, 1, Outcome.DONE),  # the answer was lost, the number is gone: done
        (REFUSED, "0231456789", 1, Outcome.REFUSED),  # a refusal is final
        # lost once more than a run resubmits: unknown (a rerun reads it), never failed
        (LOST, "0231456789", RESUBMISSIONS_PER_RUN + 1, Outcome.UNKNOWN),
        # a second « Valider » refused, the row not at work: a refusal is final
        (REFUSED, "0231456789", 2, Outcome.REFUSED),
    ],
    ids=["confirmed", "lost-but-done", "refused", "lost-too-often-this-run", "second-refused"],
)
def test_each_licence_settles_from_the_answer_and_a_fresh_read(
    answer: SubmitAnswer, now: str | None, submissions: int, outcome: Outcome
) -> None:
    batch = [planned("FPC367128", "0231456789", submissions=submissions)]

    after = settle_after_valider(batch, answer, {"FPC367128": row("FPC367128", now)})

    assert [task.outcome for task in after.settled] == [outcome]
    assert after.again == after.waiting == ()


def test_an_accepted_licence_still_listed_waits_for_the_portal_never_fails() -> None:
    batch = [planned("FPC367128", "0231456789", submissions=1)]

    after = settle_after_valider(batch, CONFIRMED, {"FPC367128": row("FPC367128", "0231456789")})

    assert after.settled == after.again == ()
    assert [task.licence_ref for task in after.waiting] == ["FPC367128"]


def test_a_lost_answer_whose_row_shows_the_portal_at_work_waits_instead_of_resubmitting() -> None:
    batch = [planned("FPC367128", "0231456789", submissions=1)]
    now = {"FPC367128": row("FPC367128", "0231456789")}

    after = settle_after_valider(batch, LOST, now, working=frozenset({"FPC367128"}))

    assert after.again == ()
    assert [task.licence_ref for task in after.waiting] == ["FPC367128"]


def test_a_lost_answer_with_the_number_unchanged_is_submitted_once_more() -> None:
    batch = [planned("FPC367128", "0231456789", submissions=1)]

    after = settle_after_valider(batch, LOST, {"FPC367128": row("FPC367128", "0231456789")})

    assert after.settled == after.waiting == ()
    assert [task.licence_ref for task in after.again] == ["FPC367128"]


def test_a_lost_answer_is_resubmitted_a_few_times_a_run_then_unknown_never_failed() -> None:
    outcomes = []
    for clicks in range(1, RESUBMISSIONS_PER_RUN + 4):
        batch = [planned("FPC367128", "0231456789", submissions=clicks)]
        after = settle_after_valider(batch, LOST, {"FPC367128": row("FPC367128", "0231456789")})
        outcomes.append("again" if after.again else after.settled[0].outcome)

    assert outcomes == ["again"] * RESUBMISSIONS_PER_RUN + [Outcome.UNKNOWN] * 3
    (unknown,) = after.settled
    assert "rerun to settle" in (unknown.reason or "")
    assert "the answer to « Valider » was lost 6 times in this run" in (unknown.reason or "")


def test_clicks_of_earlier_runs_never_count_against_this_runs_resubmissions() -> None:
    earlier = planned("FPC367128", "0231456789", submissions=9)
    task = replace(earlier, target=replace(earlier.target, submitted=8))  # 1 click this run

    after = settle_after_valider([task], LOST, {"FPC367128": row("FPC367128", "0231456789")})

    assert [t.licence_ref for t in after.again] == ["FPC367128"]


@pytest.mark.parametrize(
    ("submissions", "number", "working", "outcome"),
    [
        (1, None, False, Outcome.DONE),  # the lost « Valider » took effect after all
        (1, "0231456789", True, Outcome.IN_PROGRESS),  # the portal is at work: never resent
        (1, "0231456789", False, None),  # still there: submitted once more
        (0, None, False, None),  # never clicked: not this rule's to settle
    ],
    ids=["number-gone", "at-work", "still-there", "never-clicked"],
)
def test_before_a_resubmission_the_fresh_listing_may_settle_the_licence(
    submissions: int, number: str | None, working: bool, outcome: Outcome | None
) -> None:
    task = planned("FPC367128", "0231456789", submissions=submissions)

    again = before_again(task, row("FPC367128", number), working=working)

    assert again.outcome is outcome


def test_a_licence_not_found_when_verifying_fails() -> None:
    batch = [planned("FPC367128", "0231456789", submissions=1)]

    after = settle_after_valider(batch, CONFIRMED, {})

    assert [task.outcome for task in after.settled] == [Outcome.FAILED]


def test_waiting_licences_are_done_once_shown_without_their_number() -> None:
    waiting = [planned("FPC367128", "0231456789"), planned("FPC367129", "0231456790")]
    now = {"FPC367128": row("FPC367128", None), "FPC367129": row("FPC367129", "0231456790")}

    done, left = completion(waiting, CONFIRMED, now)

    assert [(t.licence_ref, t.outcome) for t in done] == [("FPC367128", Outcome.DONE)]
    assert [t.licence_ref for t in left] == ["FPC367129"]


def test_a_licence_still_listed_at_the_timeout_is_in_progress_saying_not_to_redo_it() -> None:
    task = still_in_progress(planned("FPC367128", "0231456789"), CONFIRMED, 60)

    assert task.outcome is Outcome.IN_PROGRESS
    assert "after 60 s" in (task.reason or "")
    assert "do not redo it" in (task.reason or "")


def test_a_run_stopping_after_the_answer_settles_from_the_answer_alone() -> None:
    batch = [planned("FPC367128", "0231456789", submissions=1)]

    # accepted: in progress until a read shows it done (the status means accepted)
    assert [t.outcome for t in settle_unread(batch, CONFIRMED, "stopped")] == [Outcome.IN_PROGRESS]
    assert [t.outcome for t in settle_unread(batch, REFUSED, "stopped")] == [Outcome.REFUSED]
    assert [t.outcome for t in settle_unread(batch, LOST, "stopped")] == [Outcome.UNKNOWN]


def test_a_stopped_run_leaves_unknown_only_what_valider_was_clicked_for() -> None:
    clicked = planned("FPC367128", "0231456789", submissions=1)
    waiting = planned("FPC367129", "0231456790")

    assert stopped(clicked, "interrupted").outcome is Outcome.UNKNOWN
    assert stopped(replace(clicked, accepted=True), "interrupted").outcome is Outcome.IN_PROGRESS
    assert stopped(waiting, "interrupted").outcome is Outcome.SKIPPED
    assert stopped(waiting.settle(Outcome.DONE), "interrupted").outcome is Outcome.DONE


def test_all_or_nothing_names_skip_refused_only_when_there_are_others_to_act_on() -> None:
    alone = LicenceTask(0, Target(licence_ref="FPC999999"), keep=False).settle(
        Outcome.REFUSED, "unknown"
    )
    other = LicenceTask(1, Target(licence_ref="FPC367128"), keep=False)

    _, one = all_or_nothing([alone])
    _, two = all_or_nothing([alone, other])

    assert one is not None
    assert "--skip-refused" not in one
    assert two is not None
    assert "--skip-refused acts on the others" in two
