"""The plan's pure rules: duplicates refused up front, all or nothing, one filter for all."""

from __future__ import annotations

from myopenip_bot.models import Outcome, Target
from myopenip_bot.plan import (
    Item,
    common_prefix,
    refuse_repeated_targets,
    refuse_same_licence,
    skip_all_when_any_refused,
)


def items(*targets: Target) -> list[Item]:
    return [Item(index, target, keep=False) for index, target in enumerate(targets)]


def test_a_ref_given_twice_refuses_both_entries_and_leaves_the_others() -> None:
    given = items(
        Target(licence_ref="FPC367128"),
        Target(licence_ref="FPC367129"),
        Target(licence_ref="FPC367128"),
    )

    refuse_repeated_targets(given)

    assert [item.outcome for item in given] == [Outcome.REFUSED, None, Outcome.REFUSED]
    assert "duplicate" in (given[0].reason or "")


def test_a_number_given_twice_refuses_both_entries() -> None:
    given = items(Target(number="0231456789"), Target(number="0231456789"))

    refuse_repeated_targets(given)

    assert [item.outcome for item in given] == [Outcome.REFUSED, Outcome.REFUSED]


def test_a_ref_and_the_number_of_the_same_licence_are_refused_once_resolved() -> None:
    given = items(Target(licence_ref="FPC367128"), Target(number="0231456789"))
    for item in given:
        item.ref, item.number = "FPC367128", "0231456789"

    refuse_same_licence(given)

    assert [item.outcome for item in given] == [Outcome.REFUSED, Outcome.REFUSED]
    assert "same licence FPC367128" in (given[1].reason or "")


def test_the_common_prefix_is_a_filter_that_matches_every_ref() -> None:
    assert common_prefix(["FPC367131", "FPC367158", "FPC367140"]) == "FPC3671"
    assert common_prefix(["FPC367128"]) == "FPC367128"
    assert common_prefix(["FPC367128", "XYZ000001"]) == ""


def test_one_refusal_skips_every_other_planned_licence_and_names_the_refusal() -> None:
    given = items(Target(licence_ref="FPC367128"), Target(licence_ref="FPC999999"))
    given[1].settle(Outcome.REFUSED, "no licence FPC999999")

    message = skip_all_when_any_refused(given)

    assert [item.outcome for item in given] == [Outcome.SKIPPED, Outcome.REFUSED]
    assert message is not None
    assert "FPC999999" in message
    assert "--skip-refused" in message


def test_without_a_refusal_nothing_is_skipped() -> None:
    given = items(Target(licence_ref="FPC367128"))
    given[0].settle(Outcome.ALREADY_DONE)

    assert skip_all_when_any_refused(given) is None
    assert given[0].outcome is Outcome.ALREADY_DONE
