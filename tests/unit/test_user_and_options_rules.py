"""The rules behind --user and the options shown before « Valider »: a user's whole name
without case nor accents, one licence or a refusal naming the candidates; the options the
guide says end with the number flagged; the plan readable at 80 columns."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from myopenip.cli import build_parser
from myopenip.commands.dissociate import build_request, plan_table
from myopenip_bot.dissociation.rules import refuse_repeated, same_user, user_holder
from myopenip_bot.errors import UsageError
from myopenip_bot.models import (
    Confirmation,
    DissociationRequest,
    LicenceTask,
    Outcome,
    ServiceInfo,
    Tab,
    Target,
    ended_options,
)
from myopenip_bot.pages import LicenceRow, options_read

ENDED = ("Application standardiste",)


def row(ref: str, user: str, number: str | None = "0231456701", site: str = "Caen") -> LicenceRow:
    return LicenceRow(ref=ref, type="", number=number, text=ref, user=user, site=site)


@pytest.mark.parametrize("given", ["Lina André", "lina andre", "LINA  ANDRÉ", "André Lina"])
def test_a_user_is_their_whole_name_whatever_its_case_accents_or_word_order(given: str) -> None:
    assert same_user("Lina André", given)


@pytest.mark.parametrize("given", ["Lina", "André", "Lina Andrée", "", "Lina André Martin"])
def test_a_part_of_a_name_or_another_name_is_not_the_user(given: str) -> None:
    assert not same_user("Lina André", given)


def test_the_one_licence_of_a_user_is_found_in_either_tab() -> None:
    listed = [
        (Tab.UTILISATEURS, row("FPC305633", "Lina André")),
        (Tab.GROUPEMENTS, row("FPC305634", "Accueil SVI")),
    ]

    holding, refused = user_holder("lina andre", listed, "SRV-10022")

    assert refused is None
    assert holding == listed[0]


def test_no_licence_with_that_user_is_refused_naming_the_service() -> None:
    holding, refused = user_holder("Personne", [(Tab.UTILISATEURS, row("FPC1", "Lina"))], "SRV-1")

    assert holding is None
    assert refused is not None
    assert "no licence of SRV-1 has the user « Personne »" in refused


def test_several_licences_with_that_user_are_refused_listing_each_candidate() -> None:
    listed = [
        (Tab.UTILISATEURS, row("FPC359080", "Clara Michel", "0231620278", "Caen")),
        (Tab.UTILISATEURS, row("FPC484555", "Clara Michel", None, "Rouen")),
    ]

    holding, refused = user_holder("Clara Michel", listed, "SRV-10022")

    assert holding is None
    assert refused is not None
    assert "2 licences of SRV-10022 have the user « Clara Michel »" in refused
    assert "FPC359080 · 02 31 62 02 78 · Clara Michel · Caen" in refused
    assert "FPC484555 · no number · Clara Michel · Rouen" in refused
    assert "--licence" in refused


def test_the_same_user_asked_twice_is_refused_as_a_duplicate() -> None:
    tasks = [
        LicenceTask(0, Target(user="Lina André"), keep=True),
        LicenceTask(1, Target(user="andre lina"), keep=True),
    ]

    assert [task.outcome for task in refuse_repeated(tasks)] == [Outcome.REFUSED] * 2


def test_the_options_a_dissociation_ends_are_matched_without_case_nor_accents() -> None:
    options = ("APPLICATION STANDARDISTE", "Enregistrement des appels")

    assert ended_options(options, ENDED) == ("APPLICATION STANDARDISTE",)
    assert ended_options(("Application standardîste",), ENDED) == ("Application standardîste",)
    assert ended_options(("Standardiste",), ENDED) == ()


@pytest.mark.parametrize(
    ("value", "options"),
    [
        ("Application standardiste, Enregistrement des appels",
         ("Application standardiste", "Enregistrement des appels")),
        ("Application standardiste\nEnregistrement des appels",
         ("Application standardiste", "Enregistrement des appels")),
        ("Aucune", ()),
        ("—", ()),
        ("", ()),
    ],
)  # fmt: skip
def test_an_options_value_is_read_as_the_options_it_lists(
    value: str, options: tuple[str, ...]
) -> None:
    assert options_read(value) == options


def test_user_is_a_target_of_its_own_and_repeatable() -> None:
    request = build_request(
        build_parser().parse_args(
            ["dissociate", "--client", "C", "--user", " Lina  André ", "--user", "Hugo Laurent",
             "--keep-number"]
        )
    )  # fmt: skip

    assert isinstance(request, DissociationRequest)
    assert request.targets == (Target(user="Lina André"), Target(user="Hugo Laurent"))


@pytest.mark.parametrize(
    ("users", "message"),
    [(["  "], "--user is empty"), (["Lina André", "andre lina"], "--user given twice")],
)
def test_an_empty_or_repeated_user_is_a_usage_error(users: list[str], message: str) -> None:
    argv = ["dissociate", "--service", "SRV-10021", "--keep-number"]
    for user in users:
        argv += ["--user", user]
    with pytest.raises(UsageError, match=message):
        build_request(build_parser().parse_args(argv))


def test_the_plan_shows_user_and_options_at_80_columns_without_breaking_words() -> None:
    def task(index: int, ref: str, options: tuple[str, ...] | None) -> LicenceTask:
        return LicenceTask(
            index, Target(licence_ref=ref), keep=False, licence_ref=ref, number="0231456701",
            tab=Tab.UTILISATEURS, type="Licence utilisateur essentiel", user="Hugo Laurent",
            site="Caen – Siège", options=options,
        )  # fmt: skip

    confirmation = Confirmation(
        service=ServiceInfo(ref="SRV-10021", name="MetaCentrex Siège Caen"),
        licences=(
            task(0, "FPC367131", ("Application standardiste", "Enregistrement des appels")),
            task(1, "FPC367132", None),
        ),
        warnings=(),
        ended_options=ENDED,
    )
    console = Console(record=True, width=80)

    console.print(plan_table(confirmation))
    text = console.export_text()

    assert max(len(line) for line in text.splitlines()) <= 80
    words = re.findall(r"[\w'’-]+", text)
    for word in ("Application", "standardiste", "Enregistrement", "Utilisateurs", "Laurent"):
        assert word in words  # each word whole on its line, never cut in two
    flat = " ".join(text.replace("│", " ").split())
    assert "User: Hugo Laurent" in flat
    assert "· Application standardiste — ended with the number" in flat
    assert "· Enregistrement des appels — stays with the licence" in flat
    assert "Options: not shown by the portal" in flat


def test_the_final_table_says_who_was_freed_and_what_ended_at_80_columns() -> None:
    from myopenip.commands.dissociate import print_summary
    from myopenip_bot.models import RunResult

    task = LicenceTask(
        0, Target(user="Lina André"), keep=True, licence_ref="FPC305633", number="0231812415",
        tab=Tab.UTILISATEURS, user="Lina André", outcome=Outcome.DONE,
        options=("application standardiste",),
    )  # fmt: skip
    result = RunResult("SRV-10022", True, False, results=[task], ended_options=ENDED)
    console = Console(record=True, width=80)

    print_summary(result, console)
    flat = " ".join(console.export_text().replace("│", " ").split())

    assert "FPC305633 02 31 81 24 15 dissociated Tab: Utilisateurs" in flat
    assert "User: Lina André" in flat
    assert "· application standardiste — ended with the number" in flat


def test_a_user_no_licence_has_is_refused_proposing_the_names_that_read_alike() -> None:
    from myopenip_bot.dissociation.rules import closest_users

    listed = ["Anna Moreau", "Anna Garcia", "Paul Martin", ""]

    assert closest_users("anna", listed) == ["Anna Garcia", "Anna Moreau"]
    assert closest_users("Martin Paull", listed) == ["Paul Martin"]
    assert closest_users("Zoé Quentin", listed) == []
