"""`myopenip batch` where it stops before any browser, in-process: a bad file and its hints,
a locked journal, a journal finished before (a new run, its portal down here), the retention
of run folders; every --json output validated against its schema
(src/myopenip/schemas/batch.schema.json)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import structlog

import myopenip
from myopenip.cli import main
from myopenip_bot.batch.file import BatchRow, read_batch_file
from myopenip_bot.batch.journal import Journal, Settlement
from myopenip_bot.models import Outcome

SCHEMA = json.loads(
    (Path(myopenip.__file__).parent / "schemas" / "batch.schema.json").read_text(encoding="utf-8")
)

Run = Callable[..., tuple[int, dict[str, Any] | None, str, str]]


def valid(payload: dict[str, Any]) -> dict[str, Any]:
    """The document, once checked against the batch's JSON Schema (draft 2020-12)."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(payload)
    return payload


@pytest.fixture
def batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    """`myopenip batch ARGS` in-process in tmp_path, settings set, the portal never reached:
    (exit code, the --json document or None, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MYOPENIP_") and name != "MYOPENIP_BROWSER_PATH":
            monkeypatch.delenv(name)
    monkeypatch.setenv("MYOPENIP_USERNAME", "demo")
    monkeypatch.setenv("MYOPENIP_PASSWORD", "demo")
    monkeypatch.setenv("MYOPENIP_BASE_URL", "http://127.0.0.1:9")  # never reached
    monkeypatch.setenv("MYOPENIP_STARTUP_TIMEOUT", "0")  # not waited for either
    monkeypatch.setenv("MYOPENIP_LOG_FORMAT", "json")

    def run(*args: str | Path) -> tuple[int, dict[str, Any] | None, str, str]:
        monkeypatch.setenv("MYOPENIP_PASSWORD", "demo")  # a run takes it out of os.environ
        code = main(["batch", *(str(a) for a in args)])
        captured = capsys.readouterr()
        payload = json.loads(captured.out) if "--json" in args else None
        if payload is not None:
            assert payload["exit_code"] == code, payload
            valid(payload)
        return code, payload, captured.out, captured.err

    yield run
    structlog.reset_defaults()  # it logged to capsys's stream


def ends(err: str) -> list[tuple[str, int]]:
    """The `batch_finished` events of stderr (JSON lines): (level, exit code) each."""
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [(e["level"], e["exit_code"]) for e in events if e["event"] == "batch_finished"]


def write(tmp_path: Path, text: str, name: str = "batch.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- a bad file: every problem named, a hint for a header, nothing done -------------------


GOOD = "SRV-10021;FPC367128;oui"
BAD_FILES: dict[str, tuple[str, list[str]]] = {
    "unknown-keep": (
        f"service;licence;keep_number\n{GOOD}\nSRV-10021;FPC367131;peut-être\n",
        ["line 3, column keep_number: 'peut-être'"],
    ),
    "malformed-licence": (
        f"service;licence;keep_number\nSRV-10021;FPC36713;non\n{GOOD}\n",
        ["line 2, column licence: 'FPC36713'"],
    ),
    "malformed-number": (
        f"service;licence;keep_number;number\n{GOOD};\nSRV-10021;FPC367131;non;02 31 45\n",
        ["line 3, column number: '02 31 45'"],
    ),
    "malformed-service-ref": (
        f"service;licence;keep_number\n{GOOD}\nSRV 1002;FPC367131;non\n",
        ["line 3, column service: 'SRV 1002' is not a service ref: it has a blank inside"],
    ),
    "same-licence-twice": (
        f"service;licence;keep_number\n{GOOD}\nSRV-10021;fpc367128;non\n",
        ["line 3, column licence: 'FPC367128'", "also line 2"],
    ),
    "missing-column": (
        "service;licence\nSRV-10021;FPC367128\n",
        ["line 1, column keep_number: missing column", "separated by « ; »"],
    ),
    "unknown-column": (
        f"service;licence;keep_number;commentaire\n{GOOD};urgent\n",
        ["line 1, column commentaire: unknown column", "hint: the header was read"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_naming_each_problem_and_nothing_starts(
    batch: Run, tmp_path: Path, case: str
) -> None:
    text, expected = BAD_FILES[case]
    file = write(tmp_path, text)

    code, payload, _, err = batch(file, "--yes", "--json", "--journal", "j.sqlite")

    assert code == 2
    assert payload is not None
    error = payload["error"]
    assert (error["kind"], error["type"]) == ("usage", "BatchFileError")
    assert str(file) in error["message"]
    problems = "\n".join(error["problems"])
    for text_ in expected:
        assert text_ in problems, problems
    assert "line 0" not in problems  # a problem of the whole file names no line
    assert ends(err) == [("error", 2)]  # monitoring's event, as a run's
    assert "Bad file" in err
    assert "Traceback" not in err
    assert payload["results"] == []
    assert not (tmp_path / "j.sqlite").exists()
    assert not (tmp_path / "traces").exists() or list((tmp_path / "traces").iterdir()) == []


@pytest.mark.parametrize("text", ["", "service;licence;keep_number\n"], ids=["empty", "header"])
def test_a_file_without_rows_is_nothing_to_do_exit_0_saying_so_and_nothing_starts(
    batch: Run, tmp_path: Path, text: str
) -> None:
    """An upstream export that found nothing is not a refused login: exit 0, said."""
    file = write(tmp_path, text)

    code, payload, _, err = batch(file, "--yes", "--json", "--journal", "j.sqlite")
    said, _, out, _ = batch(file, "--yes", "--journal", "j.sqlite")

    assert code == said == 0
    assert payload is not None
    assert (payload["error"], payload["total"], payload["results"]) == (None, 0, [])
    assert f"Nothing to do: {file} holds no row" in " ".join(out.split())
    assert ends(err) == [("info", 0)]
    assert "Traceback" not in err
    assert not (tmp_path / "j.sqlite").exists()
    assert not (tmp_path / "traces").exists() or list((tmp_path / "traces").iterdir()) == []


def test_a_file_separated_otherwise_is_refused_with_the_separator_it_was_read_with(
    batch: Run, tmp_path: Path
) -> None:
    # Separated by spaces: no separator names a column, so the header is read whole.
    file = write(tmp_path, "service licence keep_number\nSRV-10021 FPC367128 oui\n")

    code, payload, _, _ = batch(file, "--dry-run", "--json")

    assert code == 2
    assert payload is not None
    (hint,) = [p for p in payload["error"]["problems"] if p.startswith("hint:")]
    assert "separated by « ; » (the separators tried: ; , tab |)" in hint
    assert "« Conserver le numéro »" in hint


# -- the journal's lock -----------------------------------------------------------------


def test_a_journal_in_use_is_refused_with_exit_5_and_the_documents_error_shape(
    batch: Run, tmp_path: Path
) -> None:
    file = write(tmp_path, f"service;licence;keep_number\n{GOOD}\n")
    with Journal.open(tmp_path / "j.sqlite"):
        code, payload, _, err = batch(file, "--yes", "--json", "--journal", "j.sqlite")

    assert code == 5
    assert payload is not None
    error = payload["error"]
    assert (error["kind"], error["type"]) == ("technical", "JournalLockedError")
    assert "another run is using the journal" in error["message"]
    assert "Locked" in err
    assert payload["report"] is None
    assert ends(err) == [("error", 5)]


# -- a journal finished before: a new run; a run that never reached its portal ------------


def finished_journal(path: Path, rows: list[BatchRow], states: list[str], report: Path) -> None:
    """A journal whose every row is final, as a run that ended with exit 1 leaves it."""
    with Journal.open(path) as journal:
        journal.begin(Path("batch.csv"), rows)
        for row, state in zip(rows, states, strict=True):
            journal.settle(
                row.service,
                [
                    Settlement(
                        row.licence,
                        Outcome(state),
                        number="0231456789",
                        reason=state,
                        submissions=1,
                    )
                ],
            )
        journal.finish_run(1 if "refused" in states else 0, report)


def test_a_rerun_of_a_finished_journal_is_a_new_run_that_never_exits_0_with_rows_unread(
    batch: Run, tmp_path: Path
) -> None:
    """Every row final: the next night reads every row again. Its portal down, no row is
    said done: each is pending, and why; the journal is not bound to that portal."""
    file = write(tmp_path, f"service;licence;keep_number\n{GOOD}\nSRV-10021;FPC367131;non\n")
    finished_journal(
        tmp_path / "j.sqlite", read_batch_file(file), ["done", "refused"], tmp_path / "old"
    )

    code, payload, _, _ = batch(file, "--yes", "--json", "--journal", "j.sqlite")

    assert code not in (0, 1, 2)  # the portal never answered: not "nothing to do"
    assert payload is not None
    assert (payload["finished_before"], payload["resumes"]) == (False, None)
    assert payload["report"] is not None
    assert [row["outcome"] for row in payload["results"]] == ["pending", "pending"]
    assert all(row["reason"].startswith("not reached") for row in payload["results"])
    assert [row["submissions"] for row in payload["results"]] == [0, 0]  # a new count
    with Journal.open(tmp_path / "j.sqlite") as journal:
        assert journal.other_portal("http://127.0.0.1:8765") is None  # bound to none
        assert [row.state for row in journal.rows()] == ["pending", "pending"]


def test_a_run_after_one_stopped_with_rows_left_resumes_it_and_says_so(
    batch: Run, tmp_path: Path
) -> None:
    file = write(tmp_path, f"service;licence;keep_number\n{GOOD}\nSRV-10021;FPC367131;non\n")
    rows = read_batch_file(file)
    with Journal.open(tmp_path / "j.sqlite") as journal:
        journal.begin(file, rows)
        journal.settle("SRV-10021", [Settlement("FPC367128", Outcome.DONE, reason="done")])
        journal.finish_run(143, None)  # SIGTERM: FPC367131 not reached
        started = journal.last_run()
    assert started is not None

    code, _, stdout, _ = batch(file, "--yes", "--journal", "j.sqlite", "--report", "r")
    out = " ".join(stdout.split())

    assert code != 0
    assert f"This run resumed the run started {started.started_at}" in out
    assert "were not read again" in out
    summary = valid(json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8")))
    assert summary["resumes"] == started.started_at
    assert [row["outcome"] for row in summary["results"]] == ["done", "pending"]


# -- retention ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_batch_keeps_the_newest_run_folders_and_leaves_the_others_alone(
    batch: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    traces = tmp_path / "traces"
    old = [f"2025010{day}-120000-worker-1" for day in range(1, 6)]  # five old runs
    for name in old:
        (traces / name).mkdir(parents=True)
        (traces / name / "trace.zip").write_bytes(b"x")
    (traces / "notes").mkdir()  # not a run folder: never touched
    (traces / "20250101-000000-linked").symlink_to(tmp_path)  # a link: never followed
    long_ago = 1_700_000_000
    for entry in [*(traces / name for name in old), traces / "notes"]:
        for path in [*entry.iterdir(), entry]:
            os.utime(path, (long_ago, long_ago))
    monkeypatch.setenv("MYOPENIP_TRACES_DIR", str(traces))
    monkeypatch.setenv("MYOPENIP_KEEP_RUNS", "3")
    # A browser server nobody listens on: the run stops at once, after the pruning.
    monkeypatch.setenv("MYOPENIP_BROWSER_ENDPOINT", f"ws://127.0.0.1:{free_port()}/none")
    file = write(tmp_path, f"service;licence;keep_number\n{GOOD}\n")

    code, payload, _, _ = batch(file, "--yes", "--json", "--journal", "j.sqlite")

    assert code in (2, 3)
    assert payload is not None
    assert payload["report"] is not None
    left = sorted(path.name for path in traces.iterdir())
    report = Path(payload["report"]).name
    # The new run's folder and the two newest old ones: three run folders.
    latest = "summary-latest.json"  # the last batch's summary, for monitoring
    assert left == sorted([*old[-2:], report, "notes", "20250101-000000-linked", latest])
    assert (tmp_path / "j.sqlite").exists()


def test_a_batch_prunes_the_finished_journals_beyond_keep_runs_never_its_own(
    batch: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 journals after 20 nights no more: the finished ones beyond MYOPENIP_KEEP_RUNS go
    (tests/unit/test_retention.py has which never do)."""
    file = write(tmp_path, f"service;licence;keep_number\n{GOOD}\nSRV-10021;FPC367131;non\n")
    rows = read_batch_file(file)
    journals = tmp_path / ".myopenip" / "journals"
    nights = [journals / f"night-{n}-0000000{n}.sqlite" for n in range(1, 5)]
    for n, path in enumerate(nights):
        finished_journal(path, rows, ["done", "done"], tmp_path / "traces" / "old")
        for companion in journals.glob(f"{path.name}*"):
            os.utime(companion, (1_700_000_000 + n, 1_700_000_000 + n))
    own = journals / nights[0].name  # the oldest: this run's, given again
    monkeypatch.setenv("MYOPENIP_KEEP_RUNS", "2")

    # The portal is never reached (the batch fixture): the pruning happened before.
    code, payload, _, _ = batch(file, "--yes", "--json", "--journal", own)

    assert code in (2, 3)
    assert payload is not None
    left = sorted(path.name for path in journals.glob("*.sqlite"))
    assert left == sorted(path.name for path in [own, *nights[-2:]])


def test_a_one_shot_keeps_the_run_folders_in_bounds_too(
    batch: Run,  # its settings: the portal never reached
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every command prunes when it starts, not only a batch: a support desk's one-shots
    pile up as well."""
    traces = tmp_path / "traces"
    old = [f"2025010{day}-120000-SRV-10021" for day in range(1, 5)]
    for name in old:
        (traces / name).mkdir(parents=True)
        os.utime(traces / name, (1_700_000_000, 1_700_000_000))
    monkeypatch.setenv("MYOPENIP_TRACES_DIR", str(traces))
    monkeypatch.setenv("MYOPENIP_KEEP_RUNS", "2")
    monkeypatch.setenv("MYOPENIP_BROWSER_ENDPOINT", f"ws://127.0.0.1:{free_port()}/none")
    argv = "dissociate --service SRV-10021 --licence FPC367128 --keep-number --yes --json"

    code = main(argv.split())

    assert code in (2, 3)
    kept = sorted(path.name for path in traces.iterdir() if path.name in old)
    assert kept == old[-1:]  # with the run's own folder, if it made one: at most two


# -- the final table ------------------------------------------------------------------


def test_the_final_table_lists_every_row_not_done_with_its_reason_and_verbose_every_row() -> None:
    from rich.console import Console

    from myopenip.commands.batch import _print_summary
    from myopenip_bot.batch.journal import JournalRow
    from myopenip_bot.batch.report import document
    from myopenip_bot.batch.runner import BatchResult

    def journal_row(licence: str, state: str, reason: str | None) -> JournalRow:
        return JournalRow(
            service="SRV-10021",
            licence=licence,
            line=2,
            keep=True,
            number=None,
            state=state,
            planned_number="0231456789" if state != "pending" else None,
            tab=None,
            submissions=0,
            reason=reason,
            answer=None,
            screenshot=None,
            client=None,
            run=1,
        )

    result = BatchResult(
        rows=[
            journal_row("FPC367128", "done", "done"),
            journal_row("FPC367129", "refused", "the portal refused it: « non »"),
            journal_row("FPC367130", "pending", "not reached: interrupted by SIGTERM"),
        ]
    )
    data = document(result, 1, file=Path("b.csv"), journal=None, report=None)

    def shown(verbose: bool, width: int = 200) -> str:
        console = Console(record=True, width=width)
        _print_summary(console, data, result, None, verbose=verbose)
        return console.export_text()

    short, every = shown(False), shown(True)
    assert "02 31 45 67 89" in shown(True, width=60)  # a number stays on one line

    assert "FPC367128" not in short
    assert "the portal refused it: « non »" in short
    assert "not reached: interrupted by SIGTERM" in short
    assert "FPC367128" in every
    assert "02 31 45 67 89" in every


# -- no terminal: the file is read first, then --yes is asked for ----------------------


def test_without_a_terminal_a_mistyped_file_is_named_before_yes_is_asked_for(
    batch: Run, tmp_path: Path
) -> None:
    code, _, _, err = batch(tmp_path / "batch-typo.csv")

    assert code == 2
    assert "batch-typo.csv" in err
    assert "no such file" in err
    assert "--yes" not in err
    assert "Errno" not in err


def test_without_a_terminal_a_good_file_is_refused_until_yes_is_given(
    batch: Run, tmp_path: Path
) -> None:
    code, _, _, err = batch(write(tmp_path, f"service;licence;keep_number\n{GOOD}\n"))

    assert code == 2
    assert "no terminal to confirm on: pass --yes to run the batch unattended" in err
    assert not (tmp_path / "traces").exists() or not any((tmp_path / "traces").iterdir())


# -- a journal belongs to one portal -----------------------------------------------------


def done_on(tmp_path: Path, portal: str) -> None:
    """batch.csv (one row) and its journal j.sqlite, the row done by a run on `portal`."""
    rows = read_batch_file(write(tmp_path, f"service;licence;keep_number\n{GOOD}\n"))
    with Journal.open(tmp_path / "j.sqlite") as journal:
        journal.load(rows)
        journal.start_run(Path("batch.csv"), portal)
        journal.settle(
            rows[0].service, [Settlement(rows[0].licence, Outcome.DONE, number="0231456789")]
        )
        journal.finish_run(0, None)


def test_a_journal_of_another_portal_is_refused_naming_both_and_nothing_is_said_done(
    batch: Run, tmp_path: Path
) -> None:
    """A file tried on staging, then pointed at production with the same journal: its
    "done" rows are staging's; exit 0 "Nothing to do" would leave production untouched."""
    done_on(tmp_path, "http://Staging.example:8000/")

    code, payload, _, err = batch(
        tmp_path / "batch.csv", "--yes", "--json", "--journal", "j.sqlite"
    )

    assert code == 2
    assert payload is not None
    message = payload["error"]["message"]
    assert "records runs on http://staging.example:8000, and this run is on" in message
    assert "http://127.0.0.1:9" in message
    assert "Nothing to do" not in err


def test_a_journal_of_the_same_portal_written_otherwise_is_still_its_own(
    batch: Run, tmp_path: Path
) -> None:
    done_on(tmp_path, "HTTP://127.0.0.1:9/")

    code, payload, _, _ = batch(tmp_path / "batch.csv", "--yes", "--json", "--journal", "j.sqlite")

    assert code != 2  # not refused: it goes on to the portal (here down: not reached)
    assert payload is not None
    assert payload["results"][0]["outcome"] == "pending"  # a new run, every row read again
    assert payload["error"] is not None
    assert "records runs on" not in payload["error"]["message"]


def test_a_journal_holding_a_state_this_bot_does_not_know_is_refused_not_guessed(
    batch: Run, tmp_path: Path
) -> None:
    done_on(tmp_path, "http://127.0.0.1:9")
    conn = sqlite3.connect(tmp_path / "j.sqlite")
    conn.execute("UPDATE rows SET state = 'archived'")
    conn.commit()
    conn.close()

    code, payload, _, err = batch(
        tmp_path / "batch.csv", "--yes", "--json", "--journal", "j.sqlite"
    )

    assert code == 2
    assert payload is not None
    assert payload["error"]["kind"] == "usage"
    assert "a state this bot does not know ('archived')" in payload["error"]["message"]
    assert "Nothing to do" not in err
