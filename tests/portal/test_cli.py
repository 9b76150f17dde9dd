"""`myopenip portal`'s command line: flags, the ready line, clean stop, the database file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from myopenip.replica import READY_LINE
from myopenip_portal.app import create_app
from myopenip_portal.cli import config_from
from myopenip_portal.config import PortalConfig


def test_bulk_services_are_read() -> None:
    assert (config_from([]).bulk_services, config_from([]).licences_per_service) == (2, 0)
    config = config_from(["--bulk-services", "4", "--licences-per-service", "300"])
    assert (config.bulk_services, config.licences_per_service) == (4, 300)


def test_flags_have_the_specs_defaults() -> None:
    config = config_from([])
    assert (config.host, config.port, config.db, config.seed) == ("127.0.0.1", 8765, None, 1)
    assert (config.user, config.password, config.test_api) == ("demo", "demo", False)
    assert (config.latency_ms, config.error_rate, config.drop_after_commit_rate) == (0, 0, 0)


def test_every_flag_is_read() -> None:
    config = config_from(
        [
            *("--host", "0.0.0.0", "--port", "0", "--db", "x.sqlite", "--seed", "4"),
            *("--user", "u", "--password", "p", "--test-api", "--latency-ms", "50"),
            *("--error-rate", "0.1", "--session-ttl", "30", "--drop-after-commit-rate", "0.2"),
        ]
    )
    assert config == PortalConfig(
        host="0.0.0.0", port=0, db="x.sqlite", seed=4, user="u", password="p", test_api=True,
        latency_ms=50, error_rate=0.1, session_ttl=30, drop_after_commit_rate=0.2,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--error-rate", "1.5"], "between 0 and 1"),
        (["--drop-after-commit-rate", "-0.1"], "between 0 and 1"),
        (["--error-rate", "lots"], "not a number"),
        (["--latency-ms", "-5"], "zero or more"),
        (["--latency-ms", "nan"], "finite"),
        (["--session-ttl", "0"], "more than zero"),
        (["--port", "70000"], "between 0 and 65535"),
        (["--seed", "x"], "invalid int value"),
        (["--bulk-services", "0"], "between 1 and 30"),
        (["--bulk-services", "5", "--licences-per-service", "99999"], "at most 200000"),
        (["--licences-per-service", "100000"], "between 0 and 99999"),
    ],
)
def test_bad_flags_stop_with_a_clear_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        config_from(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_server_prints_its_address_and_credentials_then_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "myopenip_portal", "--port", "0", "--user", "ana",
         "--password", "s3cret"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = READY_LINE.match(process.stdout.readline())
        assert ready, "no ready line"
        assert ready["url"].startswith("http://127.0.0.1:")
        assert not ready["url"].endswith(":0")
        assert process.stdout.readline().strip() == "Identifiant : ana  Mot de passe : s3cret"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_database_file_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    config = PortalConfig(db=str(tmp_path / "portal.sqlite"), test_api=True, dialog_delay_ms=0)
    with TestClient(create_app(config)) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        home = client.post(
            "/login", data={"username": "demo", "password": "demo", "csrf_token": token}
        )
        csrf = home.text.split('<meta name="csrf-token" content="')[1].split('"')[0]
        response = client.post(
            "/api/services/SRV-10021/dissociations",
            json={"licences": [{"ref": "FPC367128", "keep": True}]},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 200
    with TestClient(create_app(config)) as client:
        state = client.get("/_test/state").json()
    licence = next(x for x in state["licences"] if x["ref"] == "FPC367128")
    assert licence["sda"] is None
    assert len(state["audit"]) == 1


def test_an_unusable_database_path_stops_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from myopenip_portal.cli import main

    assert main(["--port", "0", "--db", str(tmp_path / "missing" / "portal.sqlite")]) == 1
    assert "cannot open the database" in capsys.readouterr().err
