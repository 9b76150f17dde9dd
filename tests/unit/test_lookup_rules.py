"""The lookups' rules on plain data: which client a name means, which licences a filter
keeps, which one service of a client holds what a one-shot asks."""

from __future__ import annotations

import pytest

from myopenip_bot.lookup.rules import (
    LicenceFilter,
    ListedLicence,
    SdaForms,
    clients_meant,
    clients_near,
    holder,
    name_likeness,
    near_words,
)
from myopenip_bot.models import ServiceInfo, Tab

NORMANDIE = ServiceInfo("SRV-10021", "MetaCentrex Siège Caen", "Normandie Logistique", "CC-100245")
SUD = ServiceInfo("SRV-10030", "MetaCentrex Sud", "Normandie Logistique Sud", "CC-100999")
ROUEN = ServiceInfo("SRV-10031", "MetaCentrex Rouen", "Normandie Logistique", "CC-100245")


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("CC-100245", [("Normandie Logistique", "CC-100245")]),  # the account
        ("cc-100245", [("Normandie Logistique", "CC-100245")]),
        ("normandie  LOGISTIQUE", [("Normandie Logistique", "CC-100245")]),  # exactly
        ("Normandie Logistique Sud", [("Normandie Logistique Sud", "CC-100999")]),
        ("Sud", [("Normandie Logistique Sud", "CC-100999")]),  # the one holding it
        (
            "normandie",
            [("Normandie Logistique", "CC-100245"), ("Normandie Logistique Sud", "CC-100999")],
        ),
        ("Durand", []),
    ],
)
def test_a_client_is_meant_by_its_account_its_whole_name_or_a_part_of_one_name(
    given: str, meant: list[tuple[str, str]]
) -> None:
    assert clients_meant(given, [NORMANDIE, SUD, ROUEN]) == meant


DURAND = ServiceInfo("SRV-10040", "MetaCentrex Cabinet", "Cabinet Durand Avocats", "CC-100318")


@pytest.mark.parametrize(
    ("given", "near"),
    [
        ("Normandie Logistiqe", [("Normandie Logistique", "CC-100245")]),  # a typo
        ("Normandie Logistiques", [("Normandie Logistique", "CC-100245")]),  # a plural
        ("Normandie-Logistique Sud", [("Normandie Logistique Sud", "CC-100999")]),
        ("Cabinet Durant", [("Cabinet Durand Avocats", "CC-100318")]),  # a word missing
        ("Garage Martin", []),  # nothing like it
    ],
)
def test_a_client_name_that_finds_none_is_offered_the_closest_names(
    given: str, near: list[tuple[str, str]]
) -> None:
    assert clients_near(given, [NORMANDIE, SUD, ROUEN, DURAND])[: len(near) or None] == near


REMPARTS = ServiceInfo("SRV-20001", "MetaCentrex Hôtel", "Hôtel des Remparts", "CC-200114")


@pytest.mark.parametrize(
    ("given", "near"),
    [
        ("Logistique Normandie", ("Normandie Logistique", "CC-100245")),  # words swapped
        ("logistique normandie", ("Normandie Logistique", "CC-100245")),
        ("LOGISTIQUE-NORMANDIE", ("Normandie Logistique", "CC-100245")),
        ("Logistiqe Normandie", ("Normandie Logistique", "CC-100245")),  # and a typo
        ("remparts hotel des", ("Hôtel des Remparts", "CC-200114")),  # and no accent
        ("Durand Cabinet", ("Cabinet Durand Avocats", "CC-100318")),  # and a word missing
    ],
)
def test_a_client_name_is_offered_whatever_the_order_of_its_words_and_its_accents(
    given: str, near: tuple[str, str]
) -> None:
    assert clients_near(given, [NORMANDIE, SUD, ROUEN, DURAND, REMPARTS])[0] == near


def test_names_read_alike_whatever_their_word_order_case_and_accents() -> None:
    assert name_likeness("hotel des remparts", "Hôtel des Remparts") == 1.0
    assert name_likeness("Remparts, Hôtel des", "Hôtel des Remparts") == 1.0
    assert name_likeness("Logistique Normandie", "Normandie Logistique") == 1.0
    assert name_likeness("Garage Martin", "Normandie Logistique") < 0.6  # still nothing like


def test_a_name_that_finds_none_is_looked_up_again_by_its_longest_words() -> None:
    assert near_words("Normandie Logistiqe") == ["Normandie", "Logistiqe"]
    assert near_words("Hôtel d'Armor & Fils") == ["Hôtel", "Armor"]  # in their order
    assert near_words("SA") == []


def listed(service: ServiceInfo, licence: str, number: str | None, user: str = "") -> ListedLicence:
    return ListedLicence(service, Tab.UTILISATEURS, licence, "Licence SVI", number, user, "", "")


def test_a_filter_keeps_licences_with_a_number_a_number_a_ref_prefix_or_a_user() -> None:
    licences = [
        listed(NORMANDIE, "FPC367131", "0231456701", "Élodie Martin"),
        listed(NORMANDIE, "FPC367136", None, ""),
        listed(NORMANDIE, "FPC367140", "0231456710", "Jean Dupont"),
    ]

    def kept(filter_: LicenceFilter) -> list[str]:
        return [row.licence for row in licences if filter_.keeps(row)]

    assert kept(LicenceFilter()) == ["FPC367131", "FPC367136", "FPC367140"]
    assert kept(LicenceFilter(with_number=True)) == ["FPC367131", "FPC367140"]
    assert kept(LicenceFilter(number="0231456710")) == ["FPC367140"]
    assert kept(LicenceFilter(licence="fpc36713")) == ["FPC367131", "FPC367136"]
    assert kept(LicenceFilter(user="elodie")) == ["FPC367131"]  # case and accents aside


def test_the_one_service_holding_everything_asked_is_chosen() -> None:
    found = {
        "FPC367131": [listed(NORMANDIE, "FPC367131", "0231456701")],
        "0231456790": [listed(NORMANDIE, "FPC367129", "0231456790")],
    }

    service, why = holder(["0231456790", "FPC367131"], found)

    assert service == NORMANDIE
    assert why == ""


def test_licences_spread_over_two_services_are_refused_naming_where_each_is() -> None:
    found = {
        "FPC367131": [listed(NORMANDIE, "FPC367131", "0231456701", "Élodie Martin")],
        "FPC400001": [listed(ROUEN, "FPC400001", None)],
    }

    service, why = holder(["FPC367131", "FPC400001"], found)

    assert service is None
    assert "no one service" in why
    assert "SRV-10021: FPC367131 02 31 45 67 01 (Élodie Martin)" in why
    assert "SRV-10031: FPC400001" in why


def test_what_no_service_holds_is_refused() -> None:
    service, why = holder(["0299999999"], {"0299999999": []})

    assert service is None
    assert "none of the client's MetaCentrex services" in why


def test_a_number_is_typed_in_the_hints_form_alone_until_the_form_is_learnt() -> None:
    forms = SdaForms("{grouped}")

    assert forms.to_try == ("{grouped}",)  # one search per tab
    assert forms.in_order == ("{grouped}", "{digits}")
    forms.learn("{digits}")  # a number the portal lists was found typed so
    assert forms.to_try == ("{digits}",)
    assert forms.left_after(("{grouped}",)) == ("{digits}",)


def test_a_form_that_finds_no_listed_number_leaves_every_form_to_type() -> None:
    forms = SdaForms("{digits}")

    forms.learn(None)

    assert forms.to_try == ("{digits}", "{grouped}")  # as a lookup of one service does
    assert forms.left_after(("{digits}",)) == ("{grouped}",)
