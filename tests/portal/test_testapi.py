"""The test API: only with --test-api, and what each endpoint does."""

from __future__ import annotations

import re

from .conftest import Portal


def test_the_test_api_is_absent_without_the_flag(make_portal) -> None:
    portal: Portal = make_portal(test_api=False)
    assert portal.client.get("/_test/state").status_code == 404
    assert portal.client.post("/_test/reset", json={}).status_code == 404


def test_state_has_the_specs_shape(portal: Portal) -> None:
    state = portal.state()
    assert set(state) == {"services", "licences", "numbers", "audit"}
    assert set(state["services"][0]) == {
        "ref", "name", "client", "account", "site", "type", "state",
    }  # fmt: skip
    assert set(state["licences"][0]) == {
        "ref", "type", "tab", "service_ref", "sda", "state", "options", "settings", "history",
    }  # fmt: skip
    assert set(state["numbers"][0]) == {"number", "account", "state", "licence_ref"}
    assert state["audit"] == []
    for licence in state["licences"]:
        assert licence["tab"] in {"utilisateurs", "groupements"}
        assert licence["sda"] is None or re.fullmatch(r"\d{10}", licence["sda"])
        assert isinstance(licence["history"], int)
    assert {n["state"] for n in state["numbers"]} == {"assigned", "available", "quarantine"}


def test_reset_restores_the_data_and_logs_everyone_out(logged_in: Portal) -> None:
    fresh = logged_in.state()
    logged_in.dissociate({"FPC367128": True})
    assert logged_in.client.post("/_test/reset", json={}).json()["ok"] is True
    assert logged_in.state() == fresh
    assert logged_in.client.get("/services", follow_redirects=False).status_code == 303


def test_reset_with_a_seed_gives_that_seeds_data(portal: Portal) -> None:
    default = portal.state()
    portal.client.post("/_test/reset", json={"seed": 9})
    nine = portal.state()
    assert nine != default
    assert any(x["ref"] == "FPC367128" for x in nine["licences"])
    portal.client.post("/_test/reset", json={})
    assert portal.state() == default


def test_reset_accepts_an_empty_body(portal: Portal) -> None:
    assert portal.client.post("/_test/reset").status_code == 200


def test_test_api_rejects_bad_bodies(portal: Portal) -> None:
    post = portal.client.post
    assert post("/_test/reset", json={"seed": "x"}).status_code == 400
    assert post("/_test/expire-sessions", json={"after_requests": -1}).status_code == 400
    assert post("/_test/misreport", json={"licence_ref": "FPC367128"}).status_code == 400
    assert (
        post("/_test/misreport", json={"licence_ref": "FPC367128", "number": "12"}).status_code
        == 400
    )
    assert post("/_test/reset", content=b"not json").status_code == 400


def test_reset_clears_misreports(logged_in: Portal) -> None:
    logged_in.client.post(
        "/_test/misreport", json={"licence_ref": "FPC367128", "number": "02 99 99 99 99"}
    )
    logged_in.client.post("/_test/reset", json={})
    logged_in.login()
    shown = logged_in.preview(["FPC367128"]).json()["with_number"][0]["number"]
    assert shown == "0231456789"


def test_each_of_several_resets_in_a_row_gives_back_the_seed_and_forgets_submissions(
    logged_in: Portal,
) -> None:
    # How fast a reset is: `make bench` (bench/limits.py, "reset"), not a test.
    fresh = logged_in.state()
    for ref in ("FPC367128", "FPC367129", "FPC367131"):
        logged_in.login()
        assert logged_in.dissociate({ref: False}).status_code == 200
        assert logged_in.licence(ref)["sda"] is None
        assert logged_in.client.get("/_test/back-end").json()["submissions"] != []

        assert logged_in.client.post("/_test/reset", json={}).json()["ok"] is True

        assert logged_in.state() == fresh
        assert logged_in.client.get("/_test/back-end").json()["submissions"] == []
