"""The licence search behind the Utilisateurs / Groupements tabs (JSON API)."""

from __future__ import annotations

import pytest

from .conftest import Portal


def refs(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["ref"] for row in response.json()["rows"]]


def test_groupements_list_the_guides_licences_as_the_guide_shows_them(logged_in: Portal) -> None:
    rows = {r["ref"]: r for r in logged_in.licences(tab="groupements").json()["rows"]}
    assert rows["FPC367128"]["licence"] == "FPC367128 Licence full conferencing"
    assert rows["FPC367128"]["sda_display"] == "02 31 45 67 89"
    assert rows["FPC367123"]["licence"] == "FPC367123 Licence SVI"
    assert rows["FPC367124"]["sda"] is None
    assert rows["FPC367124"]["state"] == "Non affectée"


def test_utilisateurs_paginate_by_twenty(logged_in: Portal) -> None:
    first = logged_in.licences(tab="utilisateurs").json()
    assert (first["page"], first["pages"], first["total"]) == (1, 2, 28)
    assert len(first["rows"]) == 20
    second = logged_in.licences(tab="utilisateurs", page=2).json()
    assert len(second["rows"]) == 8
    assert not {r["ref"] for r in first["rows"]} & {r["ref"] for r in second["rows"]}


def test_a_page_beyond_the_last_shows_the_last(logged_in: Portal) -> None:
    assert logged_in.licences(tab="utilisateurs", page=99).json()["page"] == 2


def test_licence_filter_is_a_substring_match(logged_in: Portal) -> None:
    found = refs(logged_in.licences(tab="groupements", licence="FPC36712"))
    assert found == [f"FPC36712{i}" for i in range(3, 10)]
    assert refs(logged_in.licences(tab="groupements", licence="conferencing")) == [
        "FPC367126",
        "FPC367128",
    ]


@pytest.mark.parametrize("typed", ["0231456789", "02 31 45 67 89", "+33 2 31 45 67 89", "4567 89"])
def test_sda_filter_accepts_digits_with_or_without_spaces(logged_in: Portal, typed: str) -> None:
    assert refs(logged_in.licences(tab="groupements", sda=typed)) == ["FPC367128"]


def test_state_filter_finds_licences_without_number(logged_in: Portal) -> None:
    found = refs(logged_in.licences(tab="utilisateurs", etat="non affect"))
    assert found == ["FPC367136", "FPC367143", "FPC367150", "FPC367157"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("accountcode", "AC-367128"),
        ("fiche", "OC-"),
        ("urgence", "02314567"),
        ("site", "caen"),
        ("fax2mail", "0231"),
        ("restrictions", "a"),
        ("restrictions_hf", "a"),
        ("superviseur", "o"),
    ],
)
def test_every_filter_field_narrows_the_search(logged_in: Portal, key: str, value: str) -> None:
    everything = refs(logged_in.licences(tab="groupements"))
    narrowed = refs(logged_in.licences(tab="groupements", **{key: value}))
    assert set(narrowed) <= set(everything)
    nothing = refs(logged_in.licences(tab="groupements", **{key: "zzz-no-such-value"}))
    assert nothing == []


def test_a_search_without_match_returns_no_rows(logged_in: Portal) -> None:
    body = logged_in.licences(tab="groupements", licence="FPC999").json()
    assert body["rows"] == []
    assert (body["total"], body["pages"]) == (0, 1)


def test_an_unknown_tab_is_refused(logged_in: Portal) -> None:
    assert logged_in.licences(tab="autre").status_code == 400


def test_unknown_and_foreign_services_are_refused(logged_in: Portal) -> None:
    assert logged_in.licences(service="SRV-99999").status_code == 404
    assert logged_in.licences(service="SRV-20001").status_code == 403
