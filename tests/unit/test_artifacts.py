"""Traces are rewritten without cookies or the password, and a scan finds any that remain."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from myopenip_bot.artifacts import find_secrets, new_run_dir, redact_trace

COOKIE = "Zx81-session-cookie-value-0123456789"
PASSWORD = "correct horse battery"


def make_trace(path: Path) -> None:
    network = {
        "type": "resource-snapshot",
        "snapshot": {
            "request": {"headers": [{"name": "Cookie", "value": f"myopenip_session={COOKIE}"}]},
            "response": {"headers": [{"name": "Set-Cookie", "value": f"sid={COOKIE}; HttpOnly"}]},
        },
    }
    action = {"type": "before", "method": "fill", "params": {"value": PASSWORD}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("trace.network", json.dumps(network) + "\n")
        zf.writestr("trace.trace", json.dumps(action) + "\n")
        zf.writestr("resources/abc.html", f"<p>{COOKIE}</p>")


def test_redaction_removes_cookie_headers_and_secret_values_everywhere(tmp_path: Path) -> None:
    trace = tmp_path / "trace-1.zip"
    make_trace(trace)
    assert find_secrets(trace, [COOKIE, PASSWORD])  # the scan sees them before
    redact_trace(trace, [COOKIE, PASSWORD])
    assert find_secrets(trace, [COOKIE, PASSWORD]) == []
    with zipfile.ZipFile(trace) as zf:
        network = json.loads(zf.read("trace.network"))
    assert network["snapshot"]["request"]["headers"][0] == {"name": "Cookie", "value": "[redacted]"}


def test_header_values_are_blanked_even_for_cookies_not_known_in_advance(tmp_path: Path) -> None:
    trace = tmp_path / "trace-1.zip"
    make_trace(trace)
    redact_trace(trace, [])
    with zipfile.ZipFile(trace) as zf:
        assert COOKIE.encode() not in zf.read("trace.network")


def test_run_folders_are_unique_even_within_one_second(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path, "dissociate SRV-10021")
    second = new_run_dir(tmp_path, "dissociate SRV-10021")
    assert first != second
    assert first.name.endswith("dissociate-SRV-10021")
