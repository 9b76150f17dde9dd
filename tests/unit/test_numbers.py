"""`myopenip numbers`, in-process over a ledger filled as runs fill it: billing's list of
released numbers not terminated yet, marking them terminated (all or none), the numbers
kept in a pool; JSON validated against src/myopenip/schemas/numbers.schema.json, a CSV a
spreadsheet opens inert, a ledger that cannot be read."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
from pathlib import Path

import pytest
from ledger_samples import FORMULAS, OTHER_PORTAL, PORTAL, Run, entry, fill, runner

from myopenip.exitcodes import ExitCode
from myopenip_bot.ledger import Ledger, Query, open_ledger
from myopenip_bot.ledger.observer import os_user


@pytest.fixture
def numbers(
    ledger_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    monkeypatch.chdir(tmp_path)
    return runner("numbers", ledger_url, monkeypatch, capsys)


@pytest.fixture
def filled(ledger_url: str, numbers: Run) -> Run:
    fill(ledger_url)
    return numbers


@pytest.fixture
def history(
    ledger_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    return runner("history", ledger_url, monkeypatch, capsys)


def listed(ran_json: dict[str, object] | None) -> list[str]:
    assert ran_json is not None
    items = ran_json["numbers"]
    assert isinstance(items, list)
    return [item["number"] for item in items]


def every_entry(url: str) -> int:
    with open_ledger(url) as ledger:
        return len(ledger.entries(Query(), every=True))


def test_to_terminate_lists_the_released_numbers_not_the_kept_nor_the_refused(
    filled: Run,
) -> None:
    default = filled("--json")
    asked = filled("--to-terminate", "--json")

    assert default.code == asked.code == 0
    assert default.json == asked.json
    assert asked.json is not None
    assert asked.json["list"] == "to_terminate"
    # newest first; not 02 31 45 67 90 (kept), 02 99 99 99 01 (refused), nor another portal's
    assert listed(asked.json) == ["02 31 45 67 04", "02 31 45 67 03", "02 31 45 67 89"]
    first = asked.json["numbers"][-1]  # type: ignore[index]
    assert first == {
        "number": "02 31 45 67 89",
        "client": "Normandie Logistique",
        "account": "CC-100245",
        "service": "SRV-10021",
        "licence": "FPC367128",
        "released_at": "2026-12-01T08:00:05.000000Z",
        "ticket": "INC-1001",
        "os_user": "alice",
        "portal_user": "demo",
        "run_dir": "traces/20261201-080000-dissociate-SRV-10021",
        "portal": PORTAL,
    }


def test_every_portal_lists_every_portals_numbers(filled: Run) -> None:
    ran = filled("--every-portal", "--json")

    portals = [item["portal"] for item in ran.json["numbers"]]  # type: ignore[index]
    assert portals == [OTHER_PORTAL, PORTAL, PORTAL, PORTAL]


def test_the_table_names_client_service_licence_release_and_ticket(filled: Run) -> None:
    ran = filled()

    assert ran.code == 0
    assert max(len(line) for line in ran.out.splitlines()) <= 80
    for said in ("02 31 45 67 89", "FPC367128", "Normandie Logistique", "SRV-10021", "INC-1001"):
        assert said in ran.out
    assert "02 31 45 67 90" not in ran.out  # kept
    assert "3 numbers to terminate" in ran.out
    assert "--terminated" in ran.out
    assert "\x1b" not in ran.out


def test_terminated_numbers_leave_the_list_and_are_recorded(
    filled: Run, history: Run, ledger_url: str
) -> None:
    ran = filled("--terminated", "+33 (0)2 31 45 67 89", "02.31.45.67.03", "--ticket", "BILL-7")

    assert ran.code == 0, ran.err
    said = " ".join(ran.out.split())  # wrapped at words to the console's width
    assert "Marked terminated" in said
    assert "2 numbers" in said
    assert listed(filled("--json").json) == ["02 31 45 67 04"]
    marked = history("--number", "0231456789", "--json").json
    assert marked is not None
    last = marked["entries"][0]
    assert (last["outcome"], last["ticket"], last["command"]) == (
        "terminated",
        "BILL-7",
        "numbers --terminated",
    )
    assert (last["licence"], last["service"], last["client"]) == (
        "FPC367128",
        "SRV-10021",
        "Normandie Logistique",
    )
    assert (last["os_user"], last["portal_user"], last["keep_number"]) == (os_user(), "", False)
    assert last["reason"] == "terminated by billing"
    assert last["portal"] == PORTAL
    # another portal's release of the same number is not touched
    other = filled("--every-portal", "--json")
    assert [i["portal"] for i in other.json["numbers"]] == [OTHER_PORTAL, PORTAL]  # type: ignore[index]


def test_marking_in_json_says_each_number_with_its_release_and_termination(filled: Run) -> None:
    ran = filled("--terminated", "0231456704", "--json")

    assert ran.code == 0
    assert ran.json is not None
    assert ran.json["list"] == "terminated"
    [item] = ran.json["numbers"]
    assert item["number"] == "02 31 45 67 04"
    assert item["released_at"] == "2026-12-04T09:00:00.000000Z"
    assert item["terminated_at"] > item["released_at"]
    assert item["ticket"] == ""
    assert item["run_dir"] is None


@pytest.mark.parametrize(
    ("numbers_given", "refused", "why"),
    [
        (["0231456789", "0611223344"], "06 11 22 33 44", "never released by the bot here"),
        (["0231456790"], "02 31 45 67 90", "kept in the client's pool"),
        (["0299999901", "0231456703"], "02 99 99 99 01", "never released"),
    ],
)
def test_a_number_not_on_the_list_is_refused_by_name_and_nothing_is_recorded(
    filled: Run, ledger_url: str, numbers_given: list[str], refused: str, why: str
) -> None:
    before = every_entry(ledger_url)

    ran = filled("--terminated", *numbers_given, "--ticket", "BILL-8")
    data = filled("--terminated", *numbers_given, "--json")

    assert ran.code == data.code == ExitCode.REFUSED == 1
    said = " ".join(ran.err.split())
    assert refused in said
    assert why in said
    assert "nothing was recorded" in said
    assert ran.out == ""
    assert data.json is not None
    assert data.json["error"]["kind"] == "business"
    assert every_entry(ledger_url) == before  # all or nothing
    assert len(listed(filled("--json").json)) == 3


def test_a_number_terminated_once_cannot_be_terminated_again(filled: Run) -> None:
    assert filled("--terminated", "0231456789").code == 0

    again = filled("--terminated", "0231456789")

    assert again.code == ExitCode.REFUSED
    assert "already marked terminated" in again.err


def test_a_number_released_again_after_its_termination_is_back_on_the_list(
    filled: Run, ledger_url: str
) -> None:
    filled("--terminated", "0231456789")
    fill(ledger_url, [entry(at="2026-12-09T10:00:00.000000Z", run_dir="traces/later")])

    ran = filled("--json")

    assert "02 31 45 67 89" in listed(ran.json)
    assert ran.json["numbers"][0]["released_at"] == "2026-12-09T10:00:00.000000Z"  # type: ignore[index]


def test_available_lists_the_numbers_kept_in_a_pool(filled: Run) -> None:
    ran = filled("--available", "--json")
    table = filled("--available")

    assert ran.json is not None
    assert ran.json["list"] == "available"
    [kept] = ran.json["numbers"]
    assert kept["number"] == "02 31 45 67 90"
    assert kept["kept_at"] == "2026-12-02T22:30:00.000000Z"
    assert kept["client"] == "Société Générale Île-de-France"
    assert "released_at" not in kept
    assert "02 31 45 67 90" in table.out
    assert "1 number kept" in table.out


def test_the_csv_is_billings_spreadsheet_every_cell_inert(filled: Run) -> None:
    ran = filled("--csv")

    assert ran.out.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(ran.out.lstrip("\ufeff"), newline=""), delimiter=";"))
    # the columns of each run's numbers-to-terminate.csv first
    assert rows[0][:5] == ["number", "service", "client", "licence", "released_at"]
    assert [row[0] for row in rows[1:]] == ["02 31 45 67 04", "02 31 45 67 03", "02 31 45 67 89"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert "'" + FORMULAS[0] in [row[2] for row in rows]
    assert "\x1b" not in ran.out
    assert "\\x1b" in ran.out


def test_an_empty_ledger_has_nothing_to_terminate_and_exits_0(
    numbers: Run, ledger_url: str
) -> None:
    open_ledger(ledger_url).close()  # made by a first run that acted on nothing
    table = numbers()
    data = numbers("--available", "--json")

    assert table.code == data.code == 0
    assert "No number to terminate" in table.out
    assert data.json is not None
    assert data.json["numbers"] == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--ticket", "BILL-1"), "--ticket"),
        (("--terminated", "12"), "--terminated"),
        (("--terminated", "0231456789", "--every-portal"), "--every-portal"),
        (("--terminated", "0231456789", "--ticket", " "), "--ticket"),
    ],
)
def test_bad_input_exits_2_naming_the_option_and_records_nothing(
    filled: Run, ledger_url: str, args: tuple[str, ...], named: str
) -> None:
    before = every_entry(ledger_url)

    ran = filled(*args)

    assert ran.code == ExitCode.USAGE
    assert named in ran.err
    assert every_entry(ledger_url) == before


def test_only_one_list_at_a_time(filled: Run, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        filled("--available", "--to-terminate")
    assert exited.value.code == ExitCode.USAGE
    assert "not allowed with" in capsys.readouterr().err


def test_a_ledger_that_is_a_folder_exits_9_naming_it_and_marks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ledger.sqlite3"
    folder.mkdir()
    numbers = runner("numbers", str(folder), monkeypatch, capsys)

    ran = numbers("--terminated", "0231456789")
    data = numbers("--json")

    assert ran.code == data.code == ExitCode.LEDGER_FAILED
    assert str(folder) in " ".join(ran.err.split())
    assert data.json is not None
    assert data.json["numbers"] == []


def test_a_signal_during_the_record_waits_for_it_whole(
    filled: Run, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = Ledger.record

    def interrupted(self: Ledger, entries: list[object]) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # while the record is written
        record(self, entries)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "record", interrupted)

    ran = filled("--terminated", "0231456789", "0231456703")

    assert ran.code == 128 + signal.SIGTERM
    assert ran.err.strip() == "Interrupted by SIGTERM."
    monkeypatch.setattr(Ledger, "record", record)
    assert listed(filled("--json").json) == ["02 31 45 67 04"]  # both recorded, whole


def test_billing_is_told_of_numbers_on_other_portals_than_its_own(
    filled: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYOPENIP_BASE_URL", "https://another.portal.example/")
    elsewhere = filled()
    monkeypatch.delenv("MYOPENIP_BASE_URL")  # no portal named: every portal's numbers
    unnamed = filled("--json")

    assert "No number to terminate" in elsewhere.out
    assert "more on other portals" in elsewhere.out
    assert listed(unnamed.json)


def test_numbers_and_history_read_in_french_and_their_json_and_csv_do_not_move(
    filled: Run, history: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = (filled("--json").json, filled("--csv").out, history("--json").json)
    monkeypatch.setenv("MYOPENIP_LANG", "fr")

    table = filled()
    past = history()
    refused = filled("--terminated", "0231456790")
    bad_date = history("--since", "hier")

    assert (filled("--json").json, filled("--csv").out, history("--json").json) == english
    assert table.code == past.code == 0
    assert "À résilier" in table.out
    assert "3 numéros à résilier" in table.out
    assert "Numéro" in table.out
    assert "Libéré" in table.out
    assert "Historique" in past.out
    assert "Quand" in past.out
    assert "actions, de la plus récente à la plus ancienne." in past.out
    assert "dissocié" in past.out  # the outcome's word, not its code "done"
    # dates as a person reads them, as report.html writes them: never ISO (the JSON's)
    assert re.search(
        r"\d+ (janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)\.? 20\d\d", table.out
    )
    assert re.search(r"à \d\d:\d\d [A-Z]{3}", table.out + past.out)
    assert not re.search(r"20\d\d-\d\d-\d\d", table.out + past.out)
    assert max(len(line) for line in table.out.splitlines() + past.out.splitlines()) <= 80
    said = " ".join(refused.err.split())  # (a non-breaking space too: one blank)
    assert refused.code == ExitCode.REFUSED
    assert said.startswith("Demande refusée : pas dans la liste à résilier de")
    assert "refusée\u00a0:" in refused.err  # French typography
    assert "(conservé dans le parc du client le" in said
    assert bad_date.code == ExitCode.USAGE
    assert "--since 'hier' : ni une date" in " ".join(bad_date.err.split())
    for english_word in ("numbers to terminate", "newest first", "Released", "not a date"):
        assert english_word not in table.out + past.out + refused.err + bad_date.err
