"""The fault knobs: latency, technical errors and responses lost after a commit, the
built-in delays and the session TTL; at start-up and at run time (`/_test/faults`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from myopenip.replica import Replica
from myopenip_portal.cli import config_from
from myopenip_portal.faults import ResponseDropped

from .conftest import META_CSRF, Portal


def test_faults_are_off_by_default(logged_in: Portal) -> None:
    for _ in range(30):
        assert logged_in.licences(tab="groupements").status_code == 200


def test_latency_delays_each_request_around_the_given_time(make_portal) -> None:
    portal: Portal = make_portal(latency_ms=200)
    started = time.monotonic()
    portal.client.get("/login")
    elapsed = time.monotonic() - started
    assert 0.1 <= elapsed < 1.0  # uniform between 100 and 300 ms


def test_latency_spares_the_test_api_and_static_files(make_portal) -> None:
    portal: Portal = make_portal(latency_ms=2000)
    started = time.monotonic()
    portal.client.get("/_test/state")
    portal.client.get("/static/portal.css")
    # Either request delayed would take the 2 s itself: under 1.9 s, neither was (a margin
    # for a machine loaded by the suite's other workers).
    assert time.monotonic() - started < 1.9


def test_error_rate_one_answers_503_pages_and_json_and_changes_nothing(make_portal) -> None:
    portal: Portal = make_portal(error_rate=1.0)
    before = portal.state()
    page = portal.client.get("/login")
    assert page.status_code == 503
    assert "Erreur technique" in page.text
    api = portal.client.post("/api/services/SRV-10021/dissociations", json={})
    assert api.status_code == 503
    assert api.json()["error"] == "technical_error"
    assert portal.state() == before
    assert portal.client.get("/static/portal.css").status_code == 200


def test_error_rate_hits_about_that_fraction_the_same_way_for_the_same_seed(
    make_portal,
) -> None:
    def statuses(seed: int) -> list[int]:
        portal: Portal = make_portal(error_rate=0.3, seed=seed)
        return [portal.client.get("/login").status_code for _ in range(200)]

    first = statuses(5)
    assert 30 <= first.count(503) <= 90
    assert set(first) == {200, 503}
    assert statuses(5) == first
    assert statuses(6) != first


def test_reset_restarts_the_error_draws(make_portal) -> None:
    portal: Portal = make_portal(error_rate=0.5)
    first = [portal.client.get("/login").status_code for _ in range(40)]
    portal.client.post("/_test/reset", json={})
    assert [portal.client.get("/login").status_code for _ in range(40)] == first


def test_a_dropped_response_still_commits_the_dissociation(make_portal) -> None:
    portal: Portal = make_portal(drop_after_commit_rate=1.0)
    portal.login()
    with pytest.raises(ResponseDropped):
        portal.dissociate({"FPC367128": False})
    assert portal.licence("FPC367128")["sda"] is None
    assert portal.number("0231456789")["state"] == "quarantine"
    assert len(portal.state()["audit"]) == 1


def test_a_refused_submission_is_answered_even_when_drops_are_on(make_portal) -> None:
    portal: Portal = make_portal(drop_after_commit_rate=1.0)
    portal.login()
    assert portal.dissociate({"FPC367124": True}).status_code == 409


def _login(client: httpx.Client, replica: Replica) -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    home = client.post(
        "/login",
        data={"username": replica.username, "password": replica.password, "csrf_token": token[1]},
    )
    csrf = META_CSRF.search(home.text)
    assert csrf
    return csrf[1]


@pytest.mark.slow
def test_a_real_client_gets_a_network_error_while_the_data_is_committed(
    replica_factory: Callable[..., Replica],
) -> None:
    replica = replica_factory("--drop-after-commit-rate", "1")
    with httpx.Client(base_url=replica.url, follow_redirects=True, timeout=10) as client:
        csrf = _login(client, replica)
        with pytest.raises(httpx.TransportError):
            client.post(
                "/api/services/SRV-10021/dissociations",
                json={"licences": [{"ref": "FPC367128", "keep": True}]},
                headers={"X-CSRF-Token": csrf},
            )
    licence = next(x for x in replica.state()["licences"] if x["ref"] == "FPC367128")
    assert licence["sda"] is None
    assert replica.process.poll() is None  # the server is still up


@pytest.mark.slow
def test_a_real_server_answers_503_with_error_rate_one(
    replica_factory: Callable[..., Replica],
) -> None:
    replica = replica_factory("--error-rate", "1", "--latency-ms", "20")
    with httpx.Client(base_url=replica.url, timeout=10) as client:
        response = client.get("/login")
    assert response.status_code == 503
    assert "Erreur technique" in response.text
    assert replica.state()["services"]  # the test API is spared


# ---------------------------------------------------------------------- at run time

STARTUP = {
    "latency_ms": 0.0,
    "error_rate": 0.0,
    "drop_after_commit_rate": 0.0,
    "session_ttl": 1800.0,
    "dialog_delay_ms": 0.0,
    "search_delay_ms": 0.0,
}


def faults(portal: Portal, **values: Any) -> Any:
    return portal.client.post("/_test/faults", json=values)


def test_get_faults_reads_every_knob_at_its_start_up_value(make_portal) -> None:
    portal: Portal = make_portal(latency_ms=5, error_rate=0.25)
    assert portal.client.get("/_test/faults").json() == {
        **STARTUP,
        "latency_ms": 5.0,
        "error_rate": 0.25,
    }


def test_errors_and_latency_turn_on_and_off_from_the_next_request(portal: Portal) -> None:
    assert faults(portal, error_rate=1).json() == {**STARTUP, "error_rate": 1.0}
    assert portal.client.get("/login").status_code == 503
    assert portal.client.get("/_test/state").status_code == 200  # the test API is spared
    # 1 s of latency (jittered: 0.5 to 1.5 s), then none: told apart by half a second,
    # which a busy machine does not blur as it would a tighter bound.
    faults(portal, error_rate=0, latency_ms=1000)
    started = time.monotonic()
    assert portal.client.get("/login").status_code == 200
    assert time.monotonic() - started >= 0.5
    faults(portal, latency_ms=0)
    started = time.monotonic()
    portal.client.get("/login")
    assert time.monotonic() - started < 0.5


def test_built_in_delays_can_be_turned_at_run_time(logged_in: Portal) -> None:
    faults(logged_in, search_delay_ms=400, dialog_delay_ms=400)
    started = time.monotonic()
    assert logged_in.licences(tab="groupements").status_code == 200
    assert time.monotonic() - started >= 0.2  # jittered between 200 and 600 ms
    started = time.monotonic()
    assert logged_in.preview(["FPC367128"]).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_drops_turn_on_at_run_time(logged_in: Portal) -> None:
    faults(logged_in, drop_after_commit_rate=1)
    with pytest.raises(ResponseDropped):
        logged_in.dissociate({"FPC367128": True})
    assert logged_in.licence("FPC367128")["sda"] is None


def test_a_new_session_ttl_applies_to_sessions_already_open(logged_in: Portal) -> None:
    logged_in.clock.advance(100)
    assert logged_in.client.get("/services", follow_redirects=False).status_code == 200
    faults(logged_in, session_ttl=60)
    expired = logged_in.client.get("/services", follow_redirects=False)
    assert expired.status_code == 303
    assert "expired=1" in expired.headers["location"]
    logged_in.login()
    logged_in.clock.advance(59)
    assert logged_in.client.get("/services", follow_redirects=False).status_code == 200
    logged_in.clock.advance(2)
    assert logged_in.client.get("/services", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"error_rate": 1.5}, "between 0 and 1"),
        ({"drop_after_commit_rate": -0.1}, "between 0 and 1"),
        ({"latency_ms": -5}, "zero or more"),
        ({"search_delay_ms": -1}, "zero or more"),
        ({"session_ttl": 0}, "more than zero"),
        ({"latency_ms": "50"}, "nombre"),
        ({"error_rate": True}, "nombre"),
        ({"error_rate": None}, "nombre"),
        ({"latency": 50}, "latency"),
        ({"latency_ms": 10, "error_rate": 2}, "between 0 and 1"),  # all or none
    ],
)
def test_bad_knobs_are_refused_like_the_flags_and_change_nothing(
    portal: Portal, body: dict[str, Any], words: str
) -> None:
    answer = faults(portal, **body)
    assert answer.status_code == 400
    assert words in answer.json()["message"]
    assert portal.client.get("/_test/faults").json() == STARTUP


def test_an_unknown_knob_is_named_with_the_known_ones(portal: Portal) -> None:
    message = faults(portal, latency=50).json()["message"]
    assert "latency" in message
    for name in STARTUP:
        assert name in message
    assert portal.client.post("/_test/faults", content=b"[1]").status_code == 400


def test_reset_restores_the_start_up_values_and_the_draws(make_portal) -> None:
    portal: Portal = make_portal(error_rate=0.5)
    first = [portal.client.get("/login").status_code for _ in range(40)]
    faults(portal, error_rate=1, latency_ms=20, session_ttl=5, search_delay_ms=9)
    portal.client.post("/_test/reset", json={})
    assert portal.client.get("/_test/faults").json() == {**STARTUP, "error_rate": 0.5}
    assert [portal.client.get("/login").status_code for _ in range(40)] == first


def test_no_delays_starts_without_the_built_in_delays_and_nothing_else_changes() -> None:
    assert (config_from([]).dialog_delay_ms, config_from([]).search_delay_ms) == (450, 150)
    quiet = config_from(["--no-delays", "--latency-ms", "20"])
    assert (quiet.dialog_delay_ms, quiet.search_delay_ms, quiet.latency_ms) == (0, 0, 20)
    assert replace(quiet, dialog_delay_ms=450, search_delay_ms=150) == config_from(
        ["--latency-ms", "20"]
    )


@pytest.mark.slow
def test_a_served_replica_without_delays_turns_its_knobs_through_the_helper(
    replica_factory: Callable[..., Replica],
) -> None:
    replica = replica_factory(delays=False)
    assert replica.faults() == {
        **STARTUP,
        "dialog_delay_ms": 0.0,
        "search_delay_ms": 0.0,
    }
    assert replica.faults(error_rate=1)["error_rate"] == 1.0
    with httpx.Client(base_url=replica.url, timeout=10) as client:
        assert client.get("/login").status_code == 503
    replica.test_api("reset")
    assert replica.faults()["error_rate"] == 0.0


def test_failing_submissions_answer_the_next_valider_503_before_the_app_and_nothing_else(
    logged_in: Portal,
) -> None:
    portal = logged_in
    assert portal.client.post("/_test/fail-submissions", json={"count": 2}).json() == {"count": 2}
    before = portal.state()

    answers = [portal.dissociate({"FPC367128": False}).status_code for _ in range(2)]
    # reads and previews are never taken for a submission
    assert portal.licences(tab="groupements").status_code == 200
    assert portal.preview(["FPC367128"]).status_code == 200

    assert answers == [503, 503]
    assert portal.state() == before
    assert portal.client.get("/_test/back-end").json()["submissions"] == []
    assert portal.client.get("/_test/fail-submissions").json() == {"count": 0}
    assert portal.dissociate({"FPC367128": False}).status_code == 200  # the third reaches it
    assert portal.licence("FPC367128")["sda"] is None


def test_failing_submissions_refuse_a_bad_count_and_end_with_a_reset(portal: Portal) -> None:
    for bad in ({}, {"count": -1}, {"count": True}, {"count": 1.5}):
        assert portal.client.post("/_test/fail-submissions", json=bad).status_code == 400
    portal.client.post("/_test/fail-submissions", json={"count": 3})
    portal.client.post("/_test/reset", json={})
    assert portal.client.get("/_test/fail-submissions").json() == {"count": 0}
