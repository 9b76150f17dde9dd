"""What a new user read in French (LANG=fr_FR.UTF-8, a terminal at 80 columns), on plain
data: the next steps whole and wrapped at words, an interruption said once as one, a
refusal of the bot's said as a refused request, the library's reasons in French, a row
done without a word showing its outcome's word. English alongside where it changed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from myopenip.commands.dissociate import print_summary
from myopenip_bot.dissociation.rules import all_or_nothing
from myopenip_bot.errors import Interrupted, ServiceNotFoundError
from myopenip_bot.models import (
    ErrorKind,
    LicenceTask,
    Outcome,
    RunResult,
    ServiceInfo,
    Tab,
    Target,
)
from myopenip_bot.wording import check_text, error_lines, reason_text, step_text, why_text

NBSP = "\u00a0"
SERVICE = ServiceInfo("SRV-10021", "Siège Caen", "Normandie Logistique")
RUN = Path("traces/20261207-140412-SRV-10021-3f9c2a/numbers-to-terminate.csv")


@pytest.fixture(params=["fr", "en"])
def lang(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MYOPENIP_LANG", request.param)
    return str(request.param)


@pytest.fixture
def fr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYOPENIP_LANG", "fr")


def screen(result: RunResult, to_terminate: Path | None = None) -> str:
    """The summary as a terminal of 80 columns shows it (one that wraps at words)."""
    console = Console(record=True, width=80, force_terminal=True, color_system=None)
    print_summary(result, console, to_terminate=to_terminate)
    return console.export_text()


def flat(text: str) -> str:
    return " ".join(text.replace(NBSP, " ").replace("│", " ").split())


def words(text: str) -> set[str]:
    return set(re.findall(r"[\w'’.-]+", text.replace(NBSP, " ")))


def task(ref: str, number: str, outcome: Outcome, reason: str | None = None) -> LicenceTask:
    return LicenceTask(
        0, Target(licence_ref=ref), keep=False, licence_ref=ref, number=number,
        tab=Tab.UTILISATEURS, outcome=outcome, reason=reason,
    )  # fmt: skip


def test_the_reminder_after_a_release_prints_whole_wrapped_at_words(lang: str) -> None:
    result = RunResult("SRV-10021", False, False, service=SERVICE)
    result.results = [task("FPC367123", "0231456780", Outcome.DONE)]

    text = screen(result, RUN)

    assert max(len(line) for line in text.splitlines()) <= 80
    said = flat(text)
    assert "characters)" not in said  # never clipped
    assert "caractères" not in said
    assert "`myopenip numbers --to-terminate`" in said
    assert f"{RUN}." in said  # the sentence whole, to its last word
    # the title and the reminder wrapped between words, none cut by the terminal
    title = "exécution" if lang == "fr" else "run"
    assert {"Normandie", "Logistique", title, "quarantine" if lang == "en" else "quarantaine"} <= (
        words(text)
    )
    reminder = "facturation" if lang == "fr" else "billing's"
    assert reminder in words(text)


def test_an_interruption_is_said_once_as_one_not_as_a_portal_failure(lang: str) -> None:
    result = RunResult("SRV-10021", False, False, service=SERVICE, interrupted=2)
    result.error = str(Interrupted(2))
    result.error_kind = ErrorKind.TECHNICAL
    result.error_type = Interrupted.__name__
    result.results = [
        task("FPC367123", "0231456780", Outcome.DONE),
        task("FPC367124", "0231456781", Outcome.SKIPPED, "not attempted: interrupted by SIGINT"),
    ]

    said = flat(screen(result))

    for failure in ("did not answer properly", "n'a pas répondu", "support", "portal's support"):
        assert failure not in said
    if lang == "fr":
        assert said.count("Interrompu par SIGINT") == 1
        assert "non tenté : interrompu par SIGINT" in said
        assert "relancez la même commande pour régler le reste" in said
    else:
        assert said.count("Interrupted by SIGINT") == 1
        assert "not attempted: interrupted by SIGINT" in said
        assert "run the same command again to settle what is left" in said


def test_a_refusal_when_planning_reads_as_a_refused_request_said_once_in_french(fr: None) -> None:
    why = "no licence of SRV-10021 holds 02 33 26 42 19: searched Utilisateurs and Groupements"
    refused = LicenceTask(
        0, Target(number="0233264219"), keep=False, outcome=Outcome.REFUSED, reason=why
    )
    tasks, message = all_or_nothing([refused])
    result = RunResult("SRV-10021", False, False, service=SERVICE, results=tasks)
    result.error, result.error_kind = message, ErrorKind.BUSINESS
    result.error_type = "PlanRefusedError"

    said = flat(screen(result))

    assert "Demande refusée : 1 licence(s) sur 1 refusée(s) à la préparation" in said
    assert "Le portail a refusé" not in said
    assert "refused when planning" not in said
    assert "nothing was done" not in said
    assert said.count("rien n'a été fait") + said.count("Rien n'a été modifié") == 1


def test_find_refuses_a_client_in_french_without_sending_to_find_itself(fr: None) -> None:
    error = ServiceNotFoundError(
        "no client 'Normandy' in the services list; did you mean Normandie Logistique (CC-1)?"
    )

    lines = [
        flat(line) for line in error_lines(error, ErrorKind.BUSINESS, changed=False, lookup=True)
    ]

    assert lines[0] == (
        "Demande refusée : aucun client 'Normandy' dans la liste des services ; vouliez-vous "
        "dire Normandie Logistique (CC-1) ?"
    )
    assert not any("myopenip find" in line for line in lines)
    assert "myopenip find" in " ".join(error_lines(error, ErrorKind.BUSINESS, changed=False))


@pytest.mark.parametrize(
    ("english", "french"),
    [
        (
            "FPC367123 has no number: 02 31 45 67 80 dissociated on 2026-12-07 14:04 by root "
            "(ticket INC-1); nothing to do",
            "FPC367123 est déjà sans numéro : 02 31 45 67 80 dissocié le 2026-12-07 14:04 par "
            "root (ticket INC-1) ; rien à faire",
        ),
        ("not attempted: interrupted by SIGINT", "non tenté : interrompu par SIGINT"),
        (
            "FPC367133's number is 02 31 45 67 03, not 02 33 26 42 19: refused",
            "le numéro de FPC367133 est le 02 31 45 67 03, pas le 02 33 26 42 19 : refusé",
        ),
        (
            "batch.csv: 1 problem, nothing was done:\n  line 3, column number: '02 31' is not a "
            "French ten-digit number",
            "batch.csv : 1 problème(s), rien n'a été fait :\n  ligne 3, colonne number : '02 31' "
            "n'est pas un numéro français à dix chiffres",
        ),
        ("no service with the ref 'SRV-99999'", "aucun service de référence 'SRV-99999'"),
        (
            "'Norm' names 2 clients: Normandie Logistique (CC-1); Normandie Santé (CC-2); give "
            "the name in full or the « Compte client »",
            "'Norm' désigne 2 clients : Normandie Logistique (CC-1); Normandie Santé (CC-2) ; "
            "donnez le nom complet ou le « Compte client »",
        ),
        (
            "opening the login page: the portal answered HTTP 503",
            "ouverture de la page de connexion : le portail a répondu HTTP 503",
        ),
    ],
)
def test_the_library_s_reasons_read_in_french(fr: None, english: str, french: str) -> None:
    assert reason_text(english).replace(NBSP, " ") == french


def test_find_s_progress_the_smoke_s_none_and_a_done_row_read_in_french(fr: None) -> None:
    step = step_text("looking for 02 31 45 67 80 in SRV-10021 (1 of 4), Utilisateurs")
    assert step == "recherche de 02 31 45 67 80 dans SRV-10021 (1 sur 4), Utilisateurs"
    assert check_text("FPC367125: none").replace(NBSP, " ") == "FPC367125 : aucune"
    # a batch row done without a word of the bot: its outcome's word, never the code
    assert why_text("done", "done") == "dissocié"
    assert why_text(None, "done") == ""
    assert why_text("no licence FPC1 in SRV-1", "refused") == "aucune licence FPC1 dans SRV-1"


def test_a_done_row_shows_its_outcome_word_in_english_too(lang: str) -> None:
    assert why_text("done", Outcome.DONE) == ("dissociated" if lang == "en" else "dissocié")


@pytest.mark.parametrize("width", range(60, 101, 3))
def test_a_number_in_a_reason_cell_is_never_split_inside(fr: None, width: int) -> None:
    """The Why column wraps around a number, never between its digit pairs."""
    why = "FPC367133's number is 02 31 45 67 03, not 02 33 26 42 19: refused"
    result = RunResult("SRV-10021", False, False, service=SERVICE)
    result.results = [task("FPC367133", "0231456703", Outcome.REFUSED, why)]
    console = Console(record=True, width=width, force_terminal=True, color_system=None)

    print_summary(result, console)
    lines = console.export_text().replace(NBSP, " ").splitlines()

    for number in ("02 31 45 67 03", "02 33 26 42 19"):
        assert sum(number in line for line in lines) >= 1, "\n".join(lines)


def test_the_results_wrap_at_words_on_a_terminal_and_stay_one_line_in_a_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command's results console (the batch's summary, the run's title and reminders):
    on a terminal, rich wraps a sentence at words (the terminal would cut it mid-word); in
    a job's log, each sentence stays on one line, as jobs grep it."""
    import argparse

    from myopenip.startup import Command

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert Command(argparse.Namespace()).out.soft_wrap is True
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    terminal = Command(argparse.Namespace()).out
    assert terminal.is_terminal
    assert terminal.soft_wrap is False


def test_report_html_says_why_a_row_is_done_with_the_outcome_word_not_its_code(
    lang: str, tmp_path: Path
) -> None:
    from myopenip_bot.batch.journal import JournalRow
    from myopenip_bot.batch.report import write_report
    from myopenip_bot.batch.runner import BatchResult

    row = JournalRow(
        service="SRV-10021", licence="FPC367128", line=2, keep=False, number=None,
        state="done", planned_number="0231456789", tab="Utilisateurs", submissions=1,
        reason="done", answer="Numéro(s) dissocié(s) : 2", screenshot=None,
        client="Normandie Logistique", run=1,
    )  # fmt: skip
    folder = tmp_path / "report"
    write_report(
        BatchResult(rows=[row]), folder, file=tmp_path / "in.csv", journal=None, exit_code=0
    )

    html = (folder / "report.html").read_text(encoding="utf-8")
    word = "dissocié" if lang == "fr" else "dissociated"
    assert f"<td>{word}<br>Numéro(s) dissocié(s) : 2</td>" in html.replace(NBSP, " ")
    assert "<td>done" not in html
    # the CSV keeps the code, as every machine output
    assert ";done;done" in (folder / "results.csv").read_text(encoding="utf-8-sig")
