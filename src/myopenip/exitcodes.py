"""Every exit code of `myopenip`, written once: the codes, their order of precedence, what
each means per command, and the functions that give a run its code.

The commands' `--help` epilogs and the tables of docs/ are made from `MEANINGS`
(`make docs` rewrites the tables between their markers; a test checks they are current).
"""

from __future__ import annotations

import re
import sys
import textwrap
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING

from myopenip_bot.i18n import N_, _
from myopenip_bot.models import ErrorKind, Outcome, RunResult

if TYPE_CHECKING:  # light at start-up: `myopenip --help` imports this, not Playwright
    from myopenip_bot.batch.runner import BatchResult
    from myopenip_bot.smoke.run import SmokeResult

__all__ = [
    "MEANINGS",
    "PRECEDENCE",
    "ExitCode",
    "epilog",
    "markdown",
    "of_batch",
    "of_run",
    "of_smoke",
    "report_failed",
]


class ExitCode(IntEnum):
    """What a command's exit status says; `INTERRUPTED` + the signal's number (130, 143)."""

    OK = 0
    REFUSED = 1  # a business refusal; for the smoke, a check failed (the portal drifted)
    USAGE = 2  # bad arguments, settings or file; refused credentials
    TECHNICAL = 3  # the portal or the browser failed, or an outcome is unknown: run again
    NOT_CONFIRMED = 4  # a person answered no: nothing was changed
    LOCKED = 5  # another run holds the batch journal's lock
    IN_PROGRESS = 6  # the portal accepted a dissociation and does not show it done yet
    JOURNAL_FAILED = 7  # the batch journal could not be written: the run stopped
    REPORT_FAILED = 8  # the batch's report could not be written; its journal is complete
    LEDGER_FAILED = 9  # the ledger could not be opened, read or written
    INTERRUPTED = 128


# When several apply, the first of these wins (after an interruption, which wins over all):
# a run that changed the portal and then failed never says "nothing was changed"; a disk
# that let down the journal, the ledger or the report is said before all (it is fixed before
# a rerun).
PRECEDENCE = (
    ExitCode.JOURNAL_FAILED,
    ExitCode.LEDGER_FAILED,
    ExitCode.REPORT_FAILED,
    ExitCode.TECHNICAL,
    ExitCode.USAGE,
    ExitCode.REFUSED,
    ExitCode.IN_PROGRESS,
    ExitCode.NOT_CONFIRMED,
    ExitCode.OK,
)

_SIGNALS = "130/143"
MEANINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "dissociate": (
        (_SIGNALS, N_("interrupted by SIGINT/SIGTERM: stopped at a safe point (rerun to settle)")),
        (
            "9",
            N_(
                "the ledger (MYOPENIP_LEDGER, docs/ledger.md) could not be opened or written: "
                "nothing was done when it could not be opened; otherwise the run stopped before "
                "its next « Valider » (its own result.json says what was done); fix it, then run "
                "the same command"
            ),
        ),
        (
            "8",
            N_(
                "its result.json could not be written beside the run's artifacts (a full disk, "
                "permissions): the run itself ended; --json still prints it"
            ),
        ),
        (
            "3",
            N_(
                "a technical failure (portal unreachable, HTTP 5xx, timeout), or an outcome "
                "left unknown: rerun to settle it"
            ),
        ),
        ("2", N_("bad usage or settings (no browser, unusable folder), refused credentials")),
        (
            "1",
            N_(
                "a business refusal: unknown service or licence, number mismatch, a number no "
                "licence of the service holds (and the bot never dissociated there), service not "
                "« Actif », the portal refused, the dialog did not list the plan; or the portal "
                "differs from selectors/ (the error names the key: run `myopenip smoke`)"
            ),
        ),
        (
            "6",
            N_(
                "in progress: the portal accepted the dissociation and its back end is still "
                "working (not shown within MYOPENIP_COMPLETION_TIMEOUT); do not redo it in the "
                "portal: run the same command later to confirm (it never sends it again)"
            ),
        ),
        ("4", N_("answered no at the confirmation: nothing was changed")),
        (
            "0",
            N_(
                "every licence dissociated, already without a number (a number: the ledger says "
                "the bot dissociated it there), or (--dry-run) would be"
            ),
        ),
    ),
    "batch": (
        (
            _SIGNALS,
            N_(
                "interrupted: stopped at a safe point; run the same command to resume (a signal "
                "that came once every row was settled changes nothing: the code says how they "
                "ended)"
            ),
        ),
        ("5", N_("another run holds the journal's lock")),
        (
            "7",
            N_(
                "the journal could not be written (a full disk, its permissions): the run stopped "
                "before its next « Valider »; the rows it could not record are named (a row whose "
                "« Valider » was clicked is read from the portal by the next run); free the disk, "
                "then run the same command"
            ),
        ),
        (
            "9",
            N_(
                "the ledger (MYOPENIP_LEDGER, docs/ledger.md) could not be opened or written: "
                "nothing was done when it could not be opened; otherwise the run stopped before "
                "its next « Valider » (the journal and the report say what was done); fix it, "
                "then run the same command"
            ),
        ),
        (
            "8",
            N_(
                "the report could not be written (a full disk, its permissions): the run itself "
                "ended and its journal is complete; the rows are on stdout with --json; free the "
                "disk (or give another --report)"
            ),
        ),
        (
            "3",
            N_(
                "some rows not settled yet (a technical failure: HTTP 5xx, timeout, a « Valider » "
                "whose answer was lost): run the same command again; it reads the portal and "
                "settles them (the journal resumes; nothing is ever done twice)"
            ),
        ),
        ("2", N_("a bad file (every problem listed), bad settings, a refused login")),
        (
            "1",
            N_(
                "some rows refused (business: unknown licence, number mismatch, …), or the "
                "portal differs from selectors/ (the batch stopped at once: run `myopenip smoke`)"
            ),
        ),
        (
            "6",
            N_(
                "some rows in progress: the portal accepted them and is still working; run the "
                "same command later to confirm them (they are never sent again)"
            ),
        ),
        ("4", N_("not confirmed at the prompt")),
        ("0", N_("every row done or already done (dry run: would be done)")),
    ),
    "find": (
        (_SIGNALS, N_("interrupted by SIGINT/SIGTERM (nothing is ever changed)")),
        ("3", N_("a technical failure: portal unreachable, HTTP 5xx, timeout")),
        ("2", N_("bad usage or settings, refused credentials")),
        (
            "1",
            N_(
                "nothing matches, or the question names no one thing (an unknown or ambiguous "
                "client, an unknown service; the candidates are listed)"
            ),
        ),
        ("0", N_("found: the table, JSON or CSV holds the answer")),
    ),
    "history": (
        (_SIGNALS, N_("interrupted by SIGINT/SIGTERM (nothing is ever changed)")),
        (
            "9",
            N_(
                "the ledger could not be opened or read (MYOPENIP_LEDGER: a missing or unreadable "
                "file, a folder, a database that does not answer or refuses the role); the error "
                "names it, never its password"
            ),
        ),
        ("2", N_("bad usage (a number, a date: the option is named) or settings")),
        ("0", N_("the entries found, or none (said so)")),
    ),
    "numbers": (
        (_SIGNALS, N_("interrupted by SIGINT/SIGTERM (--terminated: its record is whole or none)")),
        (
            "9",
            N_(
                "the ledger could not be opened, read or written (MYOPENIP_LEDGER); the error "
                "names it, never its password; --terminated: nothing was recorded"
            ),
        ),
        ("2", N_("bad usage (a number: the option is named) or settings")),
        (
            "1",
            N_(
                "--terminated: a number is not on the list to terminate of this portal (never "
                "released, kept, or already terminated): named, and nothing was recorded"
            ),
        ),
        ("0", N_("the list (maybe empty, said so), or every number marked terminated")),
    ),
    "smoke": (
        ("0", N_("every check passed (a check skipped with its reason is fine: a small account)")),
        (
            "1",
            N_(
                "a check failed: the portal drifted from selectors/ (the check names the key; "
                "--propose writes a fix and proves it read-only)"
            ),
        ),
        ("2", N_("usage or settings, or the portal refused the login")),
        (
            "3",
            N_(
                "the portal could not be reached, the login got no answer (three attempts), "
                "the portal failed during a check (a 5xx, its error page, a timeout), or the "
                "browser failed: the checks that could not run are errors; run it again later"
            ),
        ),
        (
            "8",
            N_(
                "the checks ran, but smoke.json or junit.xml could not be written (a full disk, "
                "permissions): the table (or --json) still says how each check went"
            ),
        ),
        (
            _SIGNALS,
            N_("interrupted by SIGINT/SIGTERM between two checks: the partial table and files"),
        ),
    ),
}


def epilog(command: str) -> str:
    """The `--help` epilog of `command`: its exit codes, in the order they apply."""
    if command == "smoke":
        lines = [_("exit codes:")]
    else:
        lines = [_("exit codes (the first that applies, in this order):")]
    for code, meaning in MEANINGS[command]:
        lines += textwrap.wrap(
            _(meaning),
            width=80,
            initial_indent=f"  {code:<8} ",
            subsequent_indent=" " * 11,
        )
    return "\n".join(lines) + "\n"


def markdown(command: str) -> str:
    """The same as a Markdown table, for docs/."""
    rows = [f"| `{code}` | {meaning} |" for code, meaning in MEANINGS[command]]
    return "\n".join(["| exit | meaning |", "|---|---|", *rows])


_BY_OUTCOME = {
    Outcome.FAILED: ExitCode.TECHNICAL,
    Outcome.UNKNOWN: ExitCode.TECHNICAL,
    Outcome.REFUSED: ExitCode.REFUSED,
    Outcome.IN_PROGRESS: ExitCode.IN_PROGRESS,
    Outcome.NOT_CONFIRMED: ExitCode.NOT_CONFIRMED,
}
_BY_KIND = {
    ErrorKind.TECHNICAL: ExitCode.TECHNICAL,
    ErrorKind.USAGE: ExitCode.USAGE,
    ErrorKind.AUTHENTICATION: ExitCode.USAGE,
    ErrorKind.BUSINESS: ExitCode.REFUSED,
    ErrorKind.DRIFT: ExitCode.REFUSED,
}
# The class name (BatchResult.error_type) of a journal that could not be written
# (myopenip_bot.batch.journal.JournalWriteError; not imported: `--help` stays light).
JOURNAL_WRITE_ERROR = "JournalWriteError"
# The ledger's (myopenip_bot.ledger: it could not be opened, read or written).
LEDGER_ERRORS = frozenset({"LedgerError", "LedgerWriteError"})
_BATCH_OK = frozenset({Outcome.DONE, Outcome.ALREADY_DONE, Outcome.WOULD_DO})


def _first(codes: set[ExitCode]) -> int:
    return int(min(codes | {ExitCode.OK}, key=PRECEDENCE.index))


def of_run(result: RunResult) -> int:
    """A one-shot's code: the one behind `$?` and the JSON's `exit_code`."""
    if result.interrupted:
        return ExitCode.INTERRUPTED + result.interrupted
    codes = {_BY_OUTCOME.get(row.outcome, ExitCode.OK) for row in result.results if row.outcome}
    if result.error_kind is not None:
        codes.add(_BY_KIND[result.error_kind])
    if result.error_type in LEDGER_ERRORS:
        codes.add(ExitCode.LEDGER_FAILED)
    return _first(codes)


def of_batch(result: BatchResult) -> int:
    """A batch's code, from every row of the file (see MEANINGS["batch"])."""
    from myopenip_bot.batch.report import outcome_of

    if result.interrupted and not all(row.final for row in result.rows):
        return ExitCode.INTERRUPTED + result.interrupted  # rows left: a rerun resumes them
    if result.error_type == JOURNAL_WRITE_ERROR:
        return ExitCode.JOURNAL_FAILED  # before all: a rerun needs the disk freed first
    if result.error_type in LEDGER_ERRORS:
        return ExitCode.LEDGER_FAILED  # fixed before a rerun, like the journal
    if result.report_error is not None:
        return ExitCode.REPORT_FAILED  # the rows' own code is in the journal and the JSON
    if result.error_kind in (ErrorKind.USAGE, ErrorKind.AUTHENTICATION):
        # Not 3 for the rows it left: running again unchanged would only spend another of
        # the account's login attempts. Fix the settings, then run the same command.
        return ExitCode.USAGE
    codes: set[ExitCode] = set()
    for row in result.rows:
        outcome = outcome_of(row, result)
        if outcome == Outcome.REFUSED:
            codes.add(ExitCode.REFUSED)
        elif outcome == Outcome.NOT_CONFIRMED:
            codes.add(ExitCode.NOT_CONFIRMED)
        elif outcome == Outcome.IN_PROGRESS:
            codes.add(ExitCode.IN_PROGRESS)
        elif outcome not in _BATCH_OK:
            codes.add(ExitCode.TECHNICAL)  # failed, unknown, or never reached: resume
    if result.error_kind is ErrorKind.TECHNICAL:
        codes.add(ExitCode.TECHNICAL)
    if result.error_kind is ErrorKind.DRIFT:
        return ExitCode.REFUSED  # not 3: running again unchanged would meet the same drift
    return _first(codes)


def report_failed(code: int) -> int:
    """A run's `code` once its files (report, result.json, smoke.json, junit.xml) could
    not be written: REPORT_FAILED, unless a code before it in PRECEDENCE (or a signal)
    applies."""
    if code >= ExitCode.INTERRUPTED:
        return code
    return _first({ExitCode(code), ExitCode.REPORT_FAILED})


def of_smoke(result: SmokeResult) -> int:
    """The smoke's code (see MEANINGS["smoke"]), the same for the command and its pytest
    suite: what stopped the walk decides, else whether every check passed."""
    from myopenip_bot.errors import error_kind

    if result.interrupted:
        return ExitCode.INTERRUPTED + result.interrupted
    if result.error is not None:
        return _BY_KIND[error_kind(result.error)]
    return ExitCode.OK if result.passed else ExitCode.REFUSED


_TABLE = re.compile(
    r"(<!-- exit codes of (?P<command>[a-z]+): made by `make docs` -->\n)"
    r"(?:(?!<!-- ).)*?(\n?<!-- end of exit codes -->)",
    re.S,
)


def write_docs(folder: Path) -> list[Path]:
    """Rewrite every exit code table of `folder`'s pages (between their markers) from
    MEANINGS; return the pages changed."""
    changed = []
    for page in sorted(folder.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        new = _TABLE.sub(lambda m: m[1] + markdown(m["command"]) + "\n" + m[3].lstrip(), text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write"]:
        for page in write_docs(Path(sys.argv[2] if len(sys.argv) > 2 else "docs")):
            sys.stdout.write(f"{page}: exit codes updated\n")
    else:
        for name in MEANINGS:
            sys.stdout.write(f"`myopenip {name}`:\n\n{markdown(name)}\n\n")
