"""`myopenip find` checks its arguments before any browser starts: a number alone is a
question (who holds it), in every common French form."""

from __future__ import annotations

import pytest

from myopenip.cli import build_parser
from myopenip.commands.find import build_query
from myopenip_bot.errors import UsageError
from myopenip_bot.lookup.run import FindQuery


def query(*argv: str) -> FindQuery:
    return build_query(build_parser().parse_args(["find", *argv]))


@pytest.mark.parametrize(
    "number",
    [
        "0233374579",
        "02 33 37 45 79",
        "02.33.37.45.79",
        "+33 2 33 37 45 79",
        "+33 (0)2 33 37 45 79",
        "0033 2 33 37 45 79",
    ],
)
def test_a_number_alone_in_any_common_french_form_is_a_question(number: str) -> None:
    asked = query("--number", number)

    assert (asked.client, asked.service) == (None, None)
    assert asked.licences.number == "0233374579"
    assert asked.asks_for_licences


def test_a_number_with_a_client_is_searched_in_its_services() -> None:
    asked = query("--client", " Normandie Logistique ", "--number", "+33 (0)2 31 45 67 91")

    assert (asked.client, asked.licences.number) == ("Normandie Logistique", "0231456791")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "or --number SDA alone"),
        (["--with-number"], "or --number SDA alone"),
        (["--client", "X", "--service", "SRV-1"], "one of them"),
        (["--client", " ", "--number", "0231456791"], "--client is empty"),
        (["--number", "+44 20 7946 0958"], "not a French ten-digit number"),
    ],
)
def test_a_question_without_a_client_a_service_or_a_number_is_refused(
    argv: list[str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        query(*argv)
