"""Numbers are accepted in the three forms the spec lists and shown grouped by two."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import pytest

from myopenip_bot.models import (
    LicenceTask,
    Outcome,
    Tab,
    Target,
    format_number,
    normalize_number,
)


@pytest.mark.parametrize(
    "text", ["0231456789", "02 31 45 67 89", "+33 2 31 45 67 89", "02.31.45.67.89"]
)
def test_the_accepted_forms_of_a_number_normalize_to_ten_digits(text: str) -> None:
    assert normalize_number(text) == "0231456789"


@pytest.mark.parametrize(
    "text",
    [
        "+33 (0)2 31 45 67 89",
        "+33 02 31 45 67 89",
        "0033 (0)2 31 45 67 89",
        "0033 2 31 45 67 89",
        "+33231456789",
    ],
)
def test_the_trunk_zero_written_after_the_country_code_is_dropped(text: str) -> None:
    assert normalize_number(text) == "0231456789"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12",
        "023145678",
        "02314567890",
        "1231456789",
        "FPC367128",
        "+33 (0)0 31 45 67 89",  # no French number starts 00
        "+33 (0)2 31 45 67 8",
        "+33 00 2 31 45 67 89",  # only one trunk 0 is dropped
        "+44 20 7946 0958",
    ],
)
def test_a_text_that_is_not_a_french_number_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="not a French ten-digit number"):
        normalize_number(text)


def test_numbers_are_shown_grouped_by_two_like_the_portal() -> None:
    assert format_number("0231456789") == "02 31 45 67 89"


def test_settling_a_task_keeps_every_other_field() -> None:
    """`settle` names each field (a stopped batch settles 200,000 at once): a field added
    to LicenceTask and forgotten there would come back as its default."""
    task = LicenceTask(
        index=3,
        target=Target(licence_ref="FPC367128"),
        keep=True,
        licence_ref="FPC367128",
        number="0231456789",
        tab=Tab.GROUPEMENTS,
        type="Licence full conferencing",
        user="Alice Martin",
        site="Caen",
        outcome=Outcome.UNKNOWN,
        reason="before",
        submissions=2,
        accepted=True,
        evidence=Path("before.png"),
        options=("Application standardiste",),
    )
    unset = [f.name for f in fields(task) if getattr(task, f.name) == f.default]
    assert unset == [], f"give these a value other than their default here: {unset}"

    settled = task.settle(Outcome.DONE, "after")
    shown = task.settle(Outcome.WOULD_DO, "dry run", Path("dialog.png"))

    # The outcome, its reason and the screenshot that shows it go together.
    assert settled == replace(task, outcome=Outcome.DONE, reason="after", evidence=None)
    assert shown == replace(
        task, outcome=Outcome.WOULD_DO, reason="dry run", evidence=Path("dialog.png")
    )
