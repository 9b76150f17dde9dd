"""Hostile texts in every output: the report a supervisor opens runs nothing, CSV cells stay
text in a spreadsheet, the confirmation shows names as written. The texts come as the
portal or a file would give them; the outputs are written by the bot's own code."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hostile_values import BIDI, ESCAPES, FORMULAS, LONG, RICH, SCRIPT, SHOWN, UNENCODABLE
from playwright.sync_api import Dialog, Page
from rich.console import Console

from myopenip.commands.dissociate import plan_table, print_summary
from myopenip.terminal import ask_to_valider
from myopenip_bot.batch.journal import JournalRow
from myopenip_bot.batch.report import write_report
from myopenip_bot.batch.runner import BatchResult
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import (
    Confirmation,
    LicenceTask,
    Outcome,
    RunResult,
    ServiceInfo,
    Tab,
    Target,
)
from myopenip_bot.text import visible

CLIENTS = (SCRIPT, RICH, ESCAPES, BIDI, UNENCODABLE, *FORMULAS)


def row(line: int, client: str, reason: str, state: str = "refused") -> JournalRow:
    return JournalRow(
        service="SRV-10021",
        licence=f"FPC3671{line:02d}",
        line=line,
        keep=False,
        number=None,
        state=state,
        planned_number=f"02314567{line:02d}",
        tab="Utilisateurs",
        submissions=1,
        reason=reason,
        answer=f"« {reason} »",
        screenshot=None,
        client=client,
        run=1,
    )


@pytest.fixture
def report(tmp_path: Path) -> Path:
    rows = [row(i + 10, client, client, "done") for i, client in enumerate(CLIENTS)]
    rows.append(row(30, LONG, SCRIPT))
    # A row's own ticket (the file's column, hostile here) over the run's --ticket.
    tickets = {("SRV-10021", "FPC367130"): SCRIPT}
    result = BatchResult(rows=rows, error=SCRIPT, tickets=tickets, ticket="INC-1001")
    write_report(
        result,
        tmp_path / "report",
        file=tmp_path / "<img src=x onerror=alert(3)>.csv",
        journal=tmp_path / "j.sqlite",
        exit_code=1,
    )
    return tmp_path / "report"


@pytest.mark.browser
def test_the_report_opened_in_a_browser_runs_no_script_from_the_data(
    report: Path, page: Page
) -> None:
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto((report / "report.html").as_uri())
    page.wait_for_load_state("load")

    assert dialogs == []
    assert "XSS" not in page.title()
    assert page.locator("script").count() == 0
    assert page.locator("img[onerror]").count() == 0
    body = page.locator("body").inner_text()
    assert SCRIPT in body  # shown as text
    assert "<img src=x onerror=alert(3)>.csv" in body
    assert SHOWN[ESCAPES] in body
    assert SHOWN[BIDI] in body
    assert LONG in body  # files keep texts whole
    # The ticket of each row: its own, else the run's.
    header = page.get_by_role("columnheader").all_inner_texts()
    column = header.index("Ticket")
    cells = [
        r.get_by_role("cell").nth(column).inner_text() for r in page.get_by_role("row").all()[1:]
    ]
    assert cells == ["INC-1001"] * len(CLIENTS) + [SCRIPT]


def test_csv_cells_a_spreadsheet_would_evaluate_are_inert(report: Path) -> None:
    for name in ("results.csv", "numbers-to-terminate.csv"):
        with (report / name).open(encoding="utf-8-sig", newline="") as handle:
            cells = [cell for line in csv.reader(handle, delimiter=";") for cell in line]
        assert cells, name
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], name
        assert not [c for c in cells if c != visible(c)], name
    with (report / "numbers-to-terminate.csv").open(encoding="utf-8-sig", newline="") as handle:
        clients = [line[2] for line in csv.reader(handle, delimiter=";")]
    for formula in FORMULAS:
        assert "'" + formula in clients


def confirmation() -> Confirmation:
    return Confirmation(
        service=ServiceInfo(
            ref="SRV-10021", name=RICH, client=RICH + ESCAPES, account=SCRIPT + BIDI
        ),
        licences=(
            LicenceTask(
                0,
                Target(licence_ref="FPC367128"),
                keep=False,
                licence_ref="FPC367128",
                number="0231456789",
                tab=Tab.GROUPEMENTS,
            ),
        ),
        warnings=(RICH, ESCAPES + UNENCODABLE),
    )


def test_the_confirmation_shows_hostile_names_as_written_and_asks_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = Console(record=True, force_terminal=True, width=80, color_system="truecolor")
    monkeypatch.setattr("builtins.input", lambda prompt="": "non")

    console.print(plan_table(confirmation()))
    answered = ask_to_valider(console, StopSignal(), 1, confirmation().warnings)
    raw = console.export_text(styles=True, clear=False)
    text = console.export_text()

    assert answered is False
    flat = " ".join(text.replace("│", " ").split())
    assert "[bold red]PWNED[/]" in flat
    assert "[link=http://evil]x[/link]" in flat
    assert "[/nope]" in flat
    assert SHOWN[ESCAPES] in flat
    assert SHOWN[UNENCODABLE] in flat
    assert "\x1b]8;" not in raw  # no terminal hyperlink
    assert "\x1b]0;" not in raw  # no window title
    assert "\x1b[31m" not in raw  # the portal's own red never reaches the terminal


def test_the_summary_shortens_long_texts_on_screen_only() -> None:
    console = Console(record=True, width=80)
    result = RunResult(
        service_ref="SRV-10021",
        keep_number=False,
        dry_run=False,
        service=ServiceInfo(ref="SRV-10021", name=LONG, client=RICH),
        results=[
            LicenceTask(
                index=0,
                target=Target(licence_ref="FPC367128"),
                keep=False,
                outcome=Outcome.REFUSED,
                licence_ref="FPC367128",
                reason=f"the portal refused it: « {LONG}{ESCAPES} »",
            )
        ],
        error=RICH,
    )

    print_summary(result, console)
    text = console.export_text()

    assert "10,0" in text  # "… (10,0xx characters)"
    assert LONG not in text
    assert "[bold red]PWNED[/]" in " ".join(text.split())
