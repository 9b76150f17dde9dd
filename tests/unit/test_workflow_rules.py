"""The runner's pure rules: duplicates refused up front, one filter showing every licence."""

from __future__ import annotations

from myopenip_bot.models import Outcome, Target
from myopenip_bot.workflow import (
    _common_prefix,
    _Item,
    _refuse_repeated_targets,
    _refuse_same_licence,
)


def items(*targets: Target) -> list[_Item]:
    return [_Item(index, target) for index, target in enumerate(targets)]


def test_a_ref_given_twice_refuses_both_entries_and_leaves_the_others() -> None:
    given = items(
        Target(licence_ref="FPC367128"),
        Target(licence_ref="FPC367129"),
        Target(licence_ref="FPC367128"),
    )

    _refuse_repeated_targets(given)

    assert [item.outcome for item in given] == [Outcome.REFUSED, None, Outcome.REFUSED]
    assert "duplicate" in (given[0].reason or "")


def test_a_number_given_twice_refuses_both_entries() -> None:
    given = items(Target(number="0231456789"), Target(number="0231456789"))

    _refuse_repeated_targets(given)

    assert [item.outcome for item in given] == [Outcome.REFUSED, Outcome.REFUSED]


def test_a_ref_and_the_number_of_the_same_licence_are_refused_once_resolved() -> None:
    given = items(Target(licence_ref="FPC367128"), Target(number="0231456789"))
    for item in given:
        item.ref, item.number = "FPC367128", "0231456789"

    _refuse_same_licence(given)

    assert [item.outcome for item in given] == [Outcome.REFUSED, Outcome.REFUSED]
    assert "same licence FPC367128" in (given[1].reason or "")


def test_the_common_prefix_is_a_filter_that_matches_every_ref() -> None:
    assert _common_prefix(["FPC367131", "FPC367158", "FPC367140"]) == "FPC3671"
    assert _common_prefix(["FPC367128"]) == "FPC367128"
    assert _common_prefix(["FPC367128", "XYZ000001"]) == ""
