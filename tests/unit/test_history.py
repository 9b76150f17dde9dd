"""`myopenip history`, in-process over a ledger filled as runs fill it: its filters, its
order and views, its table at 80 columns, JSON (validated against
src/myopenip/schemas/history.schema.json) and CSV, hostile portal texts shown as data, a
ledger that cannot be read, and that it never imports Playwright."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_values import ESCAPES, RICH, SHOWN
from ledger_samples import (
    FORMULAS,
    LONG_CLIENT,
    OTHER_PORTAL,
    PORTAL,
    Run,
    entry,
    fill,
    runner,
)

from myopenip.commands.history import HEADER
from myopenip.exitcodes import ExitCode
from myopenip_bot.ledger import Ledger, default_ledger_path, open_ledger


@pytest.fixture
def history(
    ledger_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    monkeypatch.chdir(tmp_path)
    return runner("history", ledger_url, monkeypatch, capsys)


@pytest.fixture
def filled(ledger_url: str, history: Run) -> Run:
    fill(ledger_url)
    return history


@pytest.fixture
def paris() -> Iterator[None]:
    """The machine's local time is Paris' (UTC+1 in December)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def numbers(ran_json: dict[str, object] | None) -> list[tuple[str, str]]:
    assert ran_json is not None
    entries = ran_json["entries"]
    assert isinstance(entries, list)
    return [(e["number"], e["outcome"]) for e in entries]


@pytest.mark.parametrize(
    "typed", ["0231456789", "02 31 45 67 89", "+33 2 31 45 67 89", "+33 (0)2 31 45 67 89"]
)
def test_a_number_in_any_format_finds_what_was_done_with_it(filled: Run, typed: str) -> None:
    ran = filled("--number", typed, "--json")

    assert ran.code == 0
    assert ran.json is not None
    [found] = ran.json["entries"]
    assert found["number"] == "02 31 45 67 89"
    assert (found["outcome"], found["keep_number"], found["ticket"]) == ("done", False, "INC-1001")
    assert (found["os_user"], found["portal_user"], found["portal"]) == ("alice", "demo", PORTAL)
    assert found["at"] == "2026-12-01T08:00:05.000000Z"
    assert found["command"] == "dissociate"
    assert found["run_dir"] == "traces/20261201-080000-dissociate-SRV-10021"
    assert ran.json["ledger"].endswith("ledger.sqlite3") or "postgresql" in ran.json["ledger"]


def test_only_the_configured_portals_entries_unless_every_portal(filled: Run) -> None:
    here = filled("--number", "0231456789", "--json")
    everywhere = filled("--number", "0231456789", "--every-portal", "--json")

    assert [e["portal"] for e in here.json["entries"]] == [PORTAL]  # type: ignore[index]
    assert [e["portal"] for e in everywhere.json["entries"]] == [  # type: ignore[index]
        OTHER_PORTAL,
        PORTAL,
    ]


def test_the_default_view_is_the_last_word_of_each_run_and_all_shows_every_entry(
    filled: Run,
) -> None:
    last = filled("--number", "02 31 45 67 89", "--json")
    every = filled("--number", "02 31 45 67 89", "--all", "--json")

    assert numbers(last.json) == [("02 31 45 67 89", "done")]
    assert numbers(every.json) == [
        ("02 31 45 67 89", "done"),
        ("02 31 45 67 89", "in_progress"),
        ("02 31 45 67 89", "submitting"),
    ]


def test_entries_come_newest_first(filled: Run) -> None:
    ran = filled("--all", "--every-portal", "--json")

    ats = [e["at"] for e in ran.json["entries"]]  # type: ignore[index]
    assert len(ats) == 8
    assert ats == sorted(ats, reverse=True)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--licence", "fpc367129", ["FPC367129"]),
        ("--licence", "FPC367129", ["FPC367129"]),
        ("--service", "srv-30003", ["FPC367132"]),
        ("--client", "societe generale", ["FPC367129"]),
        ("--client", "SOCIÉTÉ  générale", ["FPC367129"]),
        ("--client", "cc-200001", ["FPC367129"]),
        ("--client", "normandie", ["FPC367132", "FPC367128"]),  # the first: rich markup
        ("--ticket", "INC-1001", ["FPC367133", "FPC367128"]),
        ("--ticket", "inc-2002", ["FPC367129"]),
        ("--ticket", "INC-9999", []),
    ],
)
def test_each_filter_finds_what_it_names_whatever_the_case_and_accents(
    filled: Run, option: str, value: str, expected: list[str]
) -> None:
    ran = filled(option, value, "--json")

    assert ran.code == 0
    assert [e["licence"] for e in ran.json["entries"]] == expected  # type: ignore[index]


@pytest.mark.usefixtures("paris")
@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        # 22:30 UTC on 2 December is 23:30 in Paris: still the 2nd there
        (("--since", "2026-12-02", "--until", "2026-12-02"), ["FPC367129"]),
        (("--until", "2026-12-02"), ["FPC367129", "FPC367128"]),
        (("--since", "2026-12-03"), ["FPC367134", "FPC367133", "FPC367132"]),
        (("--since", "2026-12-03", "--until", "2026-12-03"), ["FPC367133", "FPC367132"]),
        # an ISO moment: local unless it says its zone; --until holds that very moment
        (("--since", "2026-12-03T11:00:01"), ["FPC367134", "FPC367133"]),
        (("--until", "2026-12-03T10:00:00Z"), ["FPC367132", "FPC367129", "FPC367128"]),
        (("--until", "2026-12-03T09:59:59+00:00"), ["FPC367129", "FPC367128"]),
    ],
)
def test_since_and_until_take_local_days_whole_or_iso_moments(
    filled: Run, bounds: tuple[str, ...], expected: list[str]
) -> None:
    ran = filled(*bounds, "--json")

    assert ran.code == 0
    assert [e["licence"] for e in ran.json["entries"]] == expected  # type: ignore[index]


@pytest.mark.usefixtures("paris")
@pytest.mark.usefixtures("paris")
def test_the_table_shows_local_times_as_the_language_writes_a_date(
    filled: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person's date, its zone named, as report.html writes one (wrapped at its words in
    the narrow column); never ISO, which the JSON keeps."""

    def when(out: str) -> str:  # the first column's lines, joined
        return " ".join(line.split("│")[1].strip() for line in out.splitlines() if "│" in line)

    ran = filled("--licence", "FPC367129")
    assert when(ran.out).startswith("2 Dec 2026, 23:30 CET svc-batch / demo"), ran.out
    assert "2026-12-02" not in ran.out
    monkeypatch.setenv("MYOPENIP_LANG", "fr")
    french = filled("--licence", "FPC367129")
    assert when(french.out).startswith("2 déc. 2026 à 23:30 CET"), french.out
    as_json = filled("--licence", "FPC367129", "--json").json
    assert as_json is not None
    assert as_json["entries"][0]["at"] == "2026-12-02T22:30:00.000000Z"  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--number", "12"), "--number"),
        (("--since", "yesterday"), "--since"),
        (("--until", "2026-13-01"), "--until"),
        (("--since", "2026-12-05", "--until", "2026-12-01"), "--since"),
        (("--client", "  "), "--client"),
    ],
)
def test_bad_input_exits_2_naming_the_option(
    filled: Run, args: tuple[str, ...], named: str
) -> None:
    ran = filled(*args)
    data = filled(*args, "--json")

    assert ran.code == data.code == ExitCode.USAGE
    assert named in ran.err
    assert ran.out == ""
    assert data.json is not None
    assert data.json["error"]["kind"] == "usage"


@pytest.mark.parametrize(
    ("args", "named"),
    [(("--limit", "0"), "--limit"), (("--limit", "x"), "--limit"), (("--json", "--csv"), "--csv")],
)
def test_arguments_argparse_refuses_exit_2_naming_the_option(
    filled: Run, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], named: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        filled(*args)
    assert exited.value.code == ExitCode.USAGE
    assert named in capsys.readouterr().err


def test_the_json_holds_every_field_of_an_entry_and_shows_control_characters(
    filled: Run,
) -> None:
    ran = filled("--licence", "FPC367132", "--json")

    [refused] = ran.json["entries"]  # type: ignore[index]
    assert list(refused) == list(HEADER)
    assert refused["client"] == RICH  # data, as the portal showed it
    assert "\x1b" not in ran.out
    assert SHOWN[ESCAPES] in refused["reason"]
    assert (refused["keep_number"], refused["outcome"]) == (True, "refused")
    assert refused["host"] == "vm-sched"
    assert refused["command"] == "batch"


def test_the_csv_is_inert_in_a_spreadsheet(filled: Run) -> None:
    ran = filled("--csv", "--every-portal", "--all")

    assert ran.code == 0
    assert ran.out.startswith("\ufeff")
    assert "\x1b" not in ran.out
    rows = list(csv.reader(io.StringIO(ran.out.lstrip("\ufeff"), newline=""), delimiter=";"))
    assert rows[0] == list(HEADER)
    assert len(rows) == 1 + 8
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    clients = [row[HEADER.index("client")] for row in rows[1:]]
    assert "'" + FORMULAS[0] in clients
    numbers_ = {row[HEADER.index("number")] for row in rows[1:]}
    assert "02 31 45 67 89" in numbers_
    keeps = {row[HEADER.index("keep_number")] for row in rows[1:]}
    assert keeps == {"oui", "non"}


def test_the_table_reads_at_80_columns_with_portal_texts_as_data(filled: Run) -> None:
    ran = filled("--every-portal", "--all")

    assert ran.code == 0
    lines = ran.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "\x1b" not in ran.out
    # markup printed, never interpreted
    for markup in ("red]PWNED[/]", "[link=http://evil]x[/link]", "[/nope]"):
        assert markup in ran.out
    assert SHOWN[ESCAPES][:20] in ran.out
    # each word whole: wrapped between words, never one syllable per line
    for word in ("Normandie", "Logistique", "Hospitalier", "Territorial", "Générale"):
        assert word in ran.out
    assert "02 31 45 67 89" in ran.out
    assert "8 entries, newest first." in ran.out
    # a very long client name is shortened on the screen only
    assert LONG_CLIENT not in ran.out
    assert "characters)" in ran.out


def test_the_table_says_keep_or_release_who_and_the_reason(filled: Run) -> None:
    ran = filled("--number", "0231456789", "--all")

    for said in ("release", "done", "in progress", "submitting", "alice / demo", "INC-1001"):
        assert said in ran.out
    assert "Traitement en" in ran.out  # the run's reason, when it says more than the outcome


def test_the_table_shows_50_entries_and_says_how_many_more(ledger_url: str, history: Run) -> None:
    fill(
        ledger_url,
        [
            entry(at=f"2026-12-01T08:{i // 60:02d}:{i % 60:02d}.000000Z", run_dir=f"r{i}")
            for i in range(60)
        ],
    )

    table = history()
    limited = history("--limit", "3")
    every = history("--json")
    three = history("--json", "--limit", "3")

    assert "The 50 newest of 60 actions; --limit N shows more" in table.out
    assert table.out.count("02 31 45 67 89") == 50
    assert limited.out.count("02 31 45 67 89") == 3
    assert len(every.json["entries"]) == 60  # type: ignore[index]
    assert [e["run_dir"] for e in three.json["entries"]] == ["r59", "r58", "r57"]  # type: ignore[index]


def test_an_empty_ledger_says_nothing_matches_and_exits_0(history: Run, ledger_url: str) -> None:
    open_ledger(ledger_url).close()  # made by a first run that acted on nothing
    table = history()
    data = history("--json")
    rows = history("--csv")

    assert table.code == data.code == rows.code == 0
    assert "Nothing in the ledger" in table.out
    assert "matches" in table.out
    assert data.json is not None
    assert data.json["entries"] == []
    assert rows.out == "\ufeff" + ";".join(HEADER) + "\r\n"


def test_nothing_found_for_a_filter_is_said(filled: Run) -> None:
    ran = filled("--number", "0611223344")

    assert ran.code == 0
    assert "Nothing in the ledger" in ran.out


@pytest.mark.parametrize("how", ["folder", "not a database", "not a ledger", "a link"])
def test_a_ledger_that_cannot_be_read_exits_9_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    import sqlite3

    path = tmp_path / "team" / "ledger.sqlite3"
    path.parent.mkdir()
    if how == "folder":
        path.mkdir()
    elif how == "not a database":
        path.write_bytes(b"this is no database, but a text of some length " * 20)
    elif how == "not a ledger":
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    else:  # a link planted in its place: never followed, whoever runs it (root too)
        elsewhere = tmp_path / "elsewhere.sqlite3"
        open_ledger(str(elsewhere)).close()
        path.symlink_to(elsewhere)
    history = runner("history", str(path), monkeypatch, capsys)

    table = history()
    data = history("--json")

    assert table.code == data.code == ExitCode.LEDGER_FAILED == 9
    assert str(path) in " ".join(table.err.split())
    assert table.out == ""
    assert data.json is not None
    assert data.json["error"]["kind"] == "technical"
    assert str(path) in data.json["error"]["message"]
    assert data.json["entries"] == []


def test_a_team_ledger_that_does_not_answer_exits_9_never_saying_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://billing:s3cret-pw@127.0.0.1:9/ledger"  # port 9: nothing listens
    history = runner("history", url, monkeypatch, capsys)

    ran = history("--json")

    assert ran.code == ExitCode.LEDGER_FAILED
    assert "s3cret-pw" not in ran.out + ran.err
    assert "127.0.0.1" in ran.err
    assert ran.json is not None
    assert "s3cret-pw" not in str(ran.json)


def test_ctrl_c_while_reading_says_one_line_and_exits_130(
    filled: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = Ledger.entries

    def interrupted(self: Ledger, *args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, in the middle of the read
        return read(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "entries", interrupted)

    ran = filled()
    data = filled("--json")

    assert ran.code == data.code == 130
    assert ran.err.strip() == "Interrupted by SIGINT."
    assert ran.out == ""
    assert data.json is not None
    assert data.json["interrupted"] == "SIGINT"


def test_history_needs_no_portal_and_never_imports_playwright(
    ledger_url: str, tmp_path: Path
) -> None:
    fill(ledger_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYOPENIP_")}
    env |= {"MYOPENIP_LEDGER": ledger_url, "MYOPENIP_BASE_URL": PORTAL}  # nothing serves it
    script = (
        "import sys\n"
        "from myopenip.cli import main\n"
        "code = main(['history', '--number', '+33 2 31 45 67 89'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'playwright')\n"
        "print('playwright:', loaded)\n"
        "sys.exit(code)\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "playwright: []" in done.stdout
    assert "02 31 45 67 89" in done.stdout
    assert "INC-1001" in done.stdout


def test_a_ledger_named_that_is_not_there_is_an_error_and_reading_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mistyped = tmp_path / "nonexist" / "dir" / "ledger.sqlite3"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    missing = runner("history", str(mistyped), monkeypatch, capsys)()
    blank = runner("numbers", str(empty), monkeypatch, capsys)()

    assert missing.code == blank.code == ExitCode.LEDGER_FAILED
    assert "does not exist" in missing.err
    assert not (tmp_path / "nonexist").exists()
    assert "empty file" in blank.err
    assert empty.read_bytes() == b""  # untouched
    # In French, whole: the path as written, the rest in the person's words.
    said = []
    for command, ledger in (("history", mistyped), ("numbers", empty)):
        run = runner(command, str(ledger), monkeypatch, capsys)
        monkeypatch.setenv("MYOPENIP_LANG", "fr")
        said.append(" ".join(run().err.split()))
    missing_fr, blank_fr = said
    assert f"le registre {mistyped} n'existe pas : rien n'y a jamais été enregistré" in missing_fr
    assert f"{empty} est un fichier vide, pas un registre myopenip" in blank_fr
    for english in ("does not exist", "nothing was ever", "empty file", "not touched"):
        assert english not in missing_fr + blank_fr


def test_before_any_action_the_users_own_ledger_says_nothing_yet_and_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = runner("history", "", monkeypatch, capsys)  # MYOPENIP_LEDGER empty: the default

    table, data = run(), run("--json")

    assert table.code == data.code == 0
    assert "Nothing recorded yet" in table.out
    assert data.json is not None
    assert data.json["entries"] == []
    assert not default_ledger_path().exists()


def test_entries_of_other_portals_are_never_silently_left_out(
    filled: Run, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYOPENIP_BASE_URL", "https://another.portal.example/")
    elsewhere = filled()
    monkeypatch.delenv("MYOPENIP_BASE_URL")  # no portal named (billing's machine): all
    unnamed = filled("--json")

    assert "on other portals" in elsewhere.out
    assert "--every-portal" in elsewhere.out
    assert unnamed.json is not None
    assert unnamed.json["entries"]
