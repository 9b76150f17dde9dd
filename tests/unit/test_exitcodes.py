"""One exit code per run: interrupted 128+N, then technical 3 > usage 2 > refused 1 >
in progress 6 > no 4 > 0."""

from __future__ import annotations

import json

import pytest
from jsonschema import validate
from schemas import schema

from myopenip.commands.dissociate import document
from myopenip.exitcodes import MEANINGS, PRECEDENCE, ExitCode, epilog, markdown, of_batch
from myopenip.exitcodes import of_run as exit_code
from myopenip_bot.batch.journal import STATES, JournalRow
from myopenip_bot.batch.results import BatchResult
from myopenip_bot.errors import network_failure
from myopenip_bot.models import ErrorKind, LicenceTask, Outcome, RunResult, Target

SIGINT, SIGTERM = 2, 15


def run_of(
    *outcomes: Outcome,
    error_kind: ErrorKind | None = None,
    interrupted: int | None = None,
) -> RunResult:
    """A run of service SRV-10021 with one licence per outcome, in order."""
    return RunResult(
        service_ref="SRV-10021",
        keep_number=False,
        dry_run=False,
        results=[
            LicenceTask(
                index=index,
                target=Target(licence_ref=f"FPC3671{index:02d}"),
                keep=False,
                outcome=outcome,
                licence_ref=f"FPC3671{index:02d}",
                number=f"02314567{index:02d}",
            )
            for index, outcome in enumerate(outcomes)
        ],
        error="stopped" if error_kind or interrupted else None,
        error_kind=error_kind,
        interrupted=interrupted,
    )


@pytest.mark.parametrize(
    "outcomes",
    [
        (),
        (Outcome.DONE,),
        (Outcome.ALREADY_DONE,),
        (Outcome.WOULD_DO,),
        (Outcome.SKIPPED,),
        (Outcome.DONE, Outcome.ALREADY_DONE, Outcome.WOULD_DO, Outcome.SKIPPED),
    ],
    ids=lambda outcomes: "+".join(o.value for o in outcomes) or "nothing",
)
def test_a_run_with_nothing_refused_failed_or_declined_exits_0(
    outcomes: tuple[Outcome, ...],
) -> None:
    assert exit_code(run_of(*outcomes)) == 0


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (Outcome.REFUSED, 1),
        (Outcome.FAILED, 3),
        (Outcome.UNKNOWN, 3),
        (Outcome.NOT_CONFIRMED, 4),
        (Outcome.IN_PROGRESS, 6),  # not 0 (not shown done), not 1 (nothing refused)
    ],
    ids=lambda value: value.value if isinstance(value, Outcome) else str(value),
)
def test_each_outcome_that_is_not_success_has_its_own_code(outcome: Outcome, code: int) -> None:
    assert exit_code(run_of(outcome)) == code


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (ErrorKind.TECHNICAL, 3),
        (ErrorKind.USAGE, 2),
        (ErrorKind.AUTHENTICATION, 2),
        (ErrorKind.BUSINESS, 1),
    ],
    ids=lambda value: value.value if isinstance(value, ErrorKind) else str(value),
)
def test_a_run_level_failure_gives_the_code_of_its_kind(kind: ErrorKind, code: int) -> None:
    assert exit_code(run_of(error_kind=kind)) == code


@pytest.mark.parametrize(
    ("outcomes", "kind", "code"),
    [
        # the docstring's own cases
        ((Outcome.DONE, Outcome.REFUSED), None, 1),
        ((Outcome.DONE, Outcome.UNKNOWN), None, 3),
        # technical 3 beats everything else
        ((Outcome.DONE, Outcome.FAILED), None, 3),
        ((Outcome.REFUSED, Outcome.FAILED, Outcome.NOT_CONFIRMED), None, 3),
        ((Outcome.REFUSED,), ErrorKind.TECHNICAL, 3),
        ((Outcome.FAILED,), ErrorKind.USAGE, 3),
        ((Outcome.NOT_CONFIRMED,), ErrorKind.TECHNICAL, 3),
        ((Outcome.SKIPPED, Outcome.SKIPPED), ErrorKind.TECHNICAL, 3),
        # then usage 2
        ((Outcome.REFUSED,), ErrorKind.USAGE, 2),
        ((Outcome.REFUSED, Outcome.NOT_CONFIRMED), ErrorKind.AUTHENTICATION, 2),
        ((Outcome.SKIPPED,), ErrorKind.AUTHENTICATION, 2),
        # then refused 1
        ((Outcome.REFUSED, Outcome.NOT_CONFIRMED), None, 1),
        ((Outcome.NOT_CONFIRMED,), ErrorKind.BUSINESS, 1),
        ((Outcome.ALREADY_DONE, Outcome.SKIPPED), ErrorKind.BUSINESS, 1),
        # then in progress 6: the portal works on it; a refusal needs a person first
        ((Outcome.DONE, Outcome.IN_PROGRESS), None, 6),
        ((Outcome.IN_PROGRESS, Outcome.REFUSED), None, 1),
        ((Outcome.IN_PROGRESS, Outcome.UNKNOWN), None, 3),
        ((Outcome.IN_PROGRESS, Outcome.NOT_CONFIRMED), None, 6),
        # then not confirmed 4, over success
        ((Outcome.ALREADY_DONE, Outcome.NOT_CONFIRMED), None, 4),
        ((Outcome.NOT_CONFIRMED, Outcome.NOT_CONFIRMED), None, 4),
    ],
)
def test_when_several_codes_apply_the_first_of_the_precedence_wins(
    outcomes: tuple[Outcome, ...], kind: ErrorKind | None, code: int
) -> None:
    assert exit_code(run_of(*outcomes, error_kind=kind)) == code


@pytest.mark.parametrize(
    ("outcomes", "kind"),
    [
        ((), None),
        ((Outcome.DONE,), None),
        ((Outcome.DONE, Outcome.UNKNOWN, Outcome.SKIPPED), ErrorKind.TECHNICAL),
        ((Outcome.REFUSED, Outcome.NOT_CONFIRMED), ErrorKind.USAGE),
    ],
)
@pytest.mark.parametrize(("signum", "code"), [(SIGINT, 130), (SIGTERM, 143)])
def test_an_interrupted_run_exits_128_plus_the_signal_whatever_else_happened(
    outcomes: tuple[Outcome, ...], kind: ErrorKind | None, signum: int, code: int
) -> None:
    assert exit_code(run_of(*outcomes, error_kind=kind, interrupted=signum)) == code


def test_the_json_of_an_interrupted_run_names_the_signal_and_holds_the_same_exit_code() -> None:
    result = run_of(
        Outcome.DONE, Outcome.UNKNOWN, error_kind=ErrorKind.TECHNICAL, interrupted=SIGTERM
    )

    data = document(result, exit_code(result))

    assert data["interrupted"] == "SIGTERM"
    assert data["exit_code"] == exit_code(result) == 143
    assert [row["outcome"] for row in data["results"]] == ["done", "unknown"]
    assert data["error"]["kind"] == "technical"
    assert data["counts"]["done"] == 1
    assert data["counts"]["unknown"] == 1


@pytest.mark.parametrize(
    "result",
    [
        run_of(Outcome.DONE),
        run_of(Outcome.DONE, Outcome.REFUSED),
        run_of(Outcome.NOT_CONFIRMED),
        run_of(Outcome.SKIPPED, error_kind=ErrorKind.AUTHENTICATION),
        run_of(Outcome.ALREADY_DONE, Outcome.FAILED, error_kind=ErrorKind.TECHNICAL),
    ],
    ids=["ok", "refused", "not-confirmed", "usage", "technical"],
)
def test_the_json_of_a_run_is_plain_data_that_serializes(result: RunResult) -> None:
    data = document(result, exit_code(result))

    assert json.loads(json.dumps(data)) == data
    assert data["interrupted"] is None
    validate(data, schema("dissociate"))


@pytest.mark.parametrize("command", sorted(MEANINGS))
def test_every_command_says_its_exit_codes_in_its_help_and_in_the_docs(command: str) -> None:
    from pathlib import Path

    docs = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (Path(__file__).parents[2] / "docs").rglob("*.md")
    )

    assert all(code in epilog(command) for code, _ in MEANINGS[command])
    hint = "make docs writes them"
    assert markdown(command) in docs, f"docs/ lacks the exit codes of {command} ({hint})"


@pytest.mark.parametrize(
    ("message", "said"),
    [
        (
            "Page.goto: net::ERR_CONNECTION_REFUSED at http://127.0.0.1:8001/",
            "cannot reach http://127.0.0.1:8001/: nothing answers there (is the portal up, and "
            "the URL right?) (net::ERR_CONNECTION_REFUSED)",
        ),
        (
            "Page.goto: net::ERR_NAME_NOT_RESOLVED at https://myopenip.example/",
            "cannot reach https://myopenip.example/: its host name is not known (check the URL, "
            "or the DNS) (net::ERR_NAME_NOT_RESOLVED)",
        ),
        (
            "Page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://portal/",
            "cannot reach https://portal/: its certificate or TLS set-up is not accepted "
            "(net::ERR_CERT_AUTHORITY_INVALID)",
        ),
        (
            "Page.goto: net::ERR_SOMETHING_NEW at http://x/",
            "cannot reach http://x/: the browser could not load it (net::ERR_SOMETHING_NEW)",
        ),
        ("Locator.click: Timeout 15000ms exceeded.", None),
    ],
)
def test_a_browser_network_error_is_said_in_words_with_its_code(
    message: str, said: str | None
) -> None:
    assert network_failure(message) == said


# -- a batch whose journal or report could not be written ------------------------------


def batch_of(
    *states: str,
    error_type: str | None = None,
    report_error: str | None = None,
    interrupted: int | None = None,
) -> BatchResult:
    """A batch of SRV-10021, one row per journal state, in order."""
    rows = [
        JournalRow(
            "SRV-10021", f"FPC3671{n:02d}", n + 2, False, None, STATES[state], None, *[None] * 7
        )
        for n, state in enumerate(states)
    ]
    result = BatchResult(rows=rows, interrupted=interrupted, report_error=report_error)
    if error_type is not None:
        result.error, result.error_type, result.error_kind = (
            "stopped",
            error_type,
            ErrorKind.TECHNICAL,
        )
    return result


@pytest.mark.parametrize(
    ("batch", "code"),
    [
        # a journal that could not be written: 7, before every row's own code
        (batch_of("done", "submitting", "refused", error_type="JournalWriteError"), 7),
        (batch_of("pending", error_type="JournalWriteError", report_error="full"), 7),
        # a ledger that could not be written: 9, before the report's and the rows' codes
        (batch_of("done", "submitting", error_type="LedgerWriteError", report_error="full"), 9),
        # a report that could not be written: 8, before the rows' own codes
        (batch_of("done", "done", report_error="full"), 8),
        (batch_of("done", "refused", "failed", report_error="full"), 8),
        # an interruption with rows left wins over all, as ever
        (batch_of("pending", error_type="JournalWriteError", interrupted=SIGTERM), 143),
        # without either, the rows decide
        (batch_of("done", "refused"), 1),
    ],
    ids=["journal", "journal+report", "ledger", "report", "report+rows", "signal", "rows"],
)
def test_a_batch_whose_journal_or_report_could_not_be_written_has_its_own_code(
    batch: BatchResult, code: int
) -> None:
    assert of_batch(batch) == code
    # 7 and 8 come before every row's own code (the ledger's 9 sits between them)
    assert code in (0, 1, 143) or (
        ExitCode(code) in PRECEDENCE[:3]
        and PRECEDENCE.index(ExitCode(code)) < PRECEDENCE.index(ExitCode.TECHNICAL)
    )


def test_the_batchs_codes_7_and_8_are_documented_and_allowed_by_its_schema() -> None:
    said = dict(MEANINGS["batch"])
    assert "journal could not be written" in said["7"]
    assert "report could not be written" in said["8"]
    assert "journal is complete" in said["8"]
    assert "7 (the journal" in schema("batch")["properties"]["exit_code"]["description"]
