"""Traces are rewritten without cookies or the password, and a scan finds any that remain."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest

from myopenip_bot.browser.artifacts import find_secrets, new_run_dir, redact_trace
from myopenip_bot.files import safe_name

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
    raw, kept = tmp_path / "raw.zip", tmp_path / "trace.zip"
    make_trace(raw)
    assert find_secrets(raw, [COOKIE, PASSWORD])  # the scan sees them before
    redact_trace(raw, kept, [COOKIE, PASSWORD])
    assert find_secrets(kept, [COOKIE, PASSWORD]) == []
    with zipfile.ZipFile(kept) as zf:
        network = json.loads(zf.read("trace.network"))
    assert network["snapshot"]["request"]["headers"][0] == {"name": "Cookie", "value": "[redacted]"}


def test_header_values_are_blanked_even_for_cookies_not_known_in_advance(tmp_path: Path) -> None:
    raw, kept = tmp_path / "raw.zip", tmp_path / "trace.zip"
    make_trace(raw)
    redact_trace(raw, kept, [])
    with zipfile.ZipFile(kept) as zf:
        assert COOKIE.encode() not in zf.read("trace.network")


def test_a_short_password_is_redacted_in_every_spelling_and_the_trace_stays_valid_json(
    tmp_path: Path,
) -> None:
    short = "p@ss é"  # 6 characters, with what URL, JSON and HTML encodings change
    action = {"type": "before", "params": {"value": short, "url": "/login?p=p%40ss%20%C3%A9"}}
    raw, kept = tmp_path / "raw.zip", tmp_path / "trace.zip"
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("trace.trace", json.dumps(action) + "\n")
        zf.writestr("resources/form.html", "<input value='p@ss \u00e9'>p@ss+%C3%A9</p>")
    assert find_secrets(raw, [short])

    redact_trace(raw, kept, [short])

    assert find_secrets(kept, [short]) == []
    with zipfile.ZipFile(kept) as zf:
        line = json.loads(zf.read("trace.trace"))  # still one valid JSON document
    assert line["params"]["value"] == "[redacted]"


def test_run_folders_are_unique_even_within_one_second_and_private(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path / "traces", "dissociate SRV-10021")
    second = new_run_dir(tmp_path / "traces", "dissociate SRV-10021")
    assert first != second
    assert first.name.endswith("dissociate-SRV-10021")
    for folder in (tmp_path / "traces", first, second):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("SRV-10021", "SRV-10021"),
        ("MC-004217", "MC-004217"),
        ("../../x", "x"),
        ("..\\..\\x", "x"),
        ("a/b", "a-b"),
        ("x\x00y", "x-y"),
        ("..", "x"),
        ("", "x"),
        (".hidden", "hidden"),
        ("-rf", "rf"),
        ("NUL", "_NUL"),
        ("com1.png", "_com1.png"),
        ("Ré 12", "R-12"),
        ("A" * 200, "A" * 80),
    ],
)
def test_a_name_made_from_data_is_one_safe_part_of_a_path(text: str, name: str) -> None:
    assert safe_name(text) == name


def test_a_run_folder_named_after_a_hostile_ref_stays_in_its_root(tmp_path: Path) -> None:
    root = tmp_path / "traces"

    made = [new_run_dir(root, label) for label in ("../../x", "/etc/passwd", "..\\..\\y", "..")]

    assert all(folder.parent == root for folder in made)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traces"]
