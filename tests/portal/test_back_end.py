"""The replica's back end as other portals' behave, in process: a dissociation completed
seconds after « Valider » (late-completion), reads sent as POSTs (post-reads), service
refs of another shape (mc-refs), and what the back end received (`/_test/back-end`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from myopenip_portal.quirks import Quirks, UnknownQuirk

from .conftest import Portal


@pytest.fixture
def late(make_portal: Callable[..., Portal]) -> Portal:
    """The demo user logged in on a replica whose back end takes 4 s after « Valider »."""
    portal = make_portal(quirks=("late-completion=4",))
    assert portal.login().status_code == 200
    return portal


def test_late_completion_reads_a_time_or_a_range_and_refuses_nonsense() -> None:
    assert Quirks.parse(["late-completion"]).late_completion == (3.0, 6.0)
    assert Quirks.parse(["late-completion=4"]).late_completion == (4.0, 4.0)
    assert Quirks.parse(["late-completion=2-5"]).names() == ["late-completion=2-5"]
    for bad in (
        "late-completion=0",
        "late-completion=5-2",
        "late-completion=x",
        "late-completion=inf",
    ):
        with pytest.raises(UnknownQuirk, match="late-completion"):
            Quirks.parse([bad])


def test_an_accepted_dissociation_keeps_its_number_listed_until_the_back_end_is_done(
    late: Portal,
) -> None:
    answer = late.dissociate({"FPC367128": False})

    assert answer.status_code == 200
    assert answer.json()["message"] == "Numéro(s) dissocié(s) : 1"  # accepted
    listed = late.licence("FPC367128")
    assert (listed["sda"], listed["state"]) == ("0231456789", "Dissociation en cours")
    assert late.state()["audit"] == []
    assert late.client.get("/_test/back-end").json()["pending"] == [
        {"licence_ref": "FPC367128", "due_in_s": 4.0}
    ]

    late.clock.advance(4)

    done = late.licence("FPC367128")
    assert (done["sda"], done["state"]) == (None, "Non affectée")
    assert late.number("0231456789")["state"] == "quarantine"
    assert [entry["licence_ref"] for entry in late.state()["audit"]] == ["FPC367128"]
    assert late.client.get("/_test/back-end").json()["pending"] == []


def test_a_second_request_while_the_back_end_works_is_refused_and_changes_nothing(
    late: Portal,
) -> None:
    late.dissociate({"FPC367128": True})
    before = late.state()

    again = late.dissociate({"FPC367128": False, "FPC367129": True})

    assert again.status_code == 409
    assert again.json()["error"] == "in_progress"
    assert "FPC367128" in again.json()["message"]
    assert late.state() == before
    late.clock.advance(4)
    assert late.number("0231456789")["state"] == "available"  # the first request's choice
    submissions = late.client.get("/_test/back-end").json()["submissions"]
    assert [(s["licences"], s["status"]) for s in submissions] == [
        (["FPC367128"], 200),
        (["FPC367128", "FPC367129"], 409),
    ]


def test_a_late_completion_still_refuses_what_the_portal_always_refuses(late: Portal) -> None:
    late.dissociate({"FPC367128": True})
    late.clock.advance(4)

    again = late.dissociate({"FPC367128": True})

    assert again.status_code == 409
    assert again.json()["error"] == "no_number"


def test_post_reads_answer_a_posted_search_as_its_get(make_portal: Callable[..., Portal]) -> None:
    portal = make_portal(quirks=("post-reads",))
    portal.login()
    page = portal.client.get("/services").text
    assert '<form method="post" action="/services"' in page

    posted = portal.client.post("/services", data={"client": "Clinique"})
    fetched = portal.client.get("/services", params={"client": "Clinique"})
    rows = portal.client.post(
        "/api/services/SRV-10021/licences",
        json={"tab": "groupements", "licence": "FPC36712", "page": "1"},
        headers={"X-CSRF-Token": portal.csrf},
    )

    assert posted.status_code == 200
    assert "SRV-10023" in posted.text
    assert "SRV-10021" not in posted.text
    assert posted.text.count("Paramétrer") == fetched.text.count("Paramétrer")
    assert [row["ref"] for row in rows.json()["rows"]] == [f"FPC{n}" for n in range(367123, 367130)]


def test_mc_refs_rename_every_service_and_come_back_when_the_quirk_goes(
    make_portal: Callable[..., Portal],
) -> None:
    portal = make_portal(quirks=("mc-refs",))
    portal.login()
    state = portal.state()
    refs = {service["ref"] for service in state["services"]}
    assert "MC-004217" in refs
    assert not any(ref.startswith("SRV-") for ref in refs)
    assert {lc["service_ref"] for lc in state["licences"] if lc["ref"] == "FPC367128"} == {
        "MC-004217"
    }
    assert portal.licences("MC-004217", tab="groupements").status_code == 200
    assert portal.dissociate({"FPC367128": True}, service="MC-004217").status_code == 200

    portal.client.post("/_test/quirks", json={"quirks": []})

    assert "SRV-10021" in {service["ref"] for service in portal.state()["services"]}
    assert portal.licence("FPC367128")["service_ref"] == "SRV-10021"
    assert portal.licence("FPC367128")["sda"] is None  # the data stay as they were
    portal.client.post("/_test/reset", json={})
    assert "MC-004217" in {service["ref"] for service in portal.state()["services"]}
