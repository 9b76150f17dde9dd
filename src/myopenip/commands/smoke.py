"""`myopenip smoke`: prove every screen and selector on the portal, read-only; with
`--propose`, a fix for what drifted, proven by a read-only rerun and never applied.

Nothing here clicks: the library walks the screens (myopenip_bot.smoke); this module
prints the table once, writes `smoke.json` and `junit.xml` in the run folder whatever
happened (a partial table and files after Ctrl-C), and gives one exit code
(exitcodes.of_smoke), the same for the process, the JSON and the pytest suite.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from myopenip import documents, startup
from myopenip.exitcodes import MEANINGS, ExitCode, epilog, of_smoke, report_failed
from myopenip.terminal import plain, safe
from myopenip_bot import notify
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import BotError, Interrupted, error_kind, first_line, signal_name
from myopenip_bot.text import json_text, visible

if TYPE_CHECKING:  # light at start-up: `myopenip --help` imports this, not Playwright
    from myopenip_bot.config.selectors import Control
    from myopenip_bot.smoke.checks import CheckResult
    from myopenip_bot.smoke.propose import Change, Proposal
    from myopenip_bot.smoke.run import SmokeResult

__all__ = ["add_arguments", "document", "run"]

_STYLE = {"passed": "green", "failed": "red", "error": "red", "skipped": "yellow"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = textwrap.fill(
        "Walk the user guide's screens on the portal at MYOPENIP_BASE_URL and check that "
        "every control and text of selectors/ is where the bot expects it. Read-only: it "
        "opens the dissociation dialog, reads it and clicks « Annuler »; it never clicks "
        "« Valider », and it aborts any request that could change data. The run folder "
        "keeps smoke.json, junit.xml and a screenshot of each screen (and of each failure).",
        width=80,
    )
    parser.epilog = epilog("smoke")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--service", metavar="REF", help="the service to check (default: the first active one)"
    )
    parser.add_argument(
        "--licence", metavar="REF", help="a licence with a number (default: the first found)"
    )
    parser.add_argument(
        "--junit-xml", type=Path, metavar="PATH", help="also write the JUnit XML report here"
    )
    parser.add_argument(
        "--propose",
        type=Path,
        metavar="FILE",
        help="when checks fail, write FILE: the selectors in use with each drifted entry "
        "replaced by what the screen shows instead, then rerun the whole smoke against it "
        "(read-only) and print the diff and the verdict; never applied, never in selectors/",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--headed", action="store_true", help="show the browser window")
    startup.add_retry_login(parser)


def run(args: argparse.Namespace) -> int:
    """`myopenip smoke`, once its arguments are parsed; returns the exit code."""
    return startup.run(_run, args)


def _run(command: startup.Command) -> int:
    from myopenip_bot.config.selectors import default_selectors_path
    from myopenip_bot.smoke.propose import check_target, propose
    from myopenip_bot.smoke.run import SmokeResult, not_run, run_smoke

    args, out, err = command.args, command.out, command.err
    base_url: str | None = None
    settings: Settings | None = None  # read: a notification can be sent
    try:
        loaded = command.load()
        settings = loaded.settings
        base_url = settings.base_url
        source = settings.selectors_file or default_selectors_path()
        if args.propose is not None:
            check_target(args.propose, source)
        result = run_smoke(
            settings,
            loaded.selectors,
            service=args.service,
            licence=args.licence,
            stop=command.stop,
        )
    except BotError as error:  # before any check: usage, settings, a signal at start-up
        signum = error.signum if isinstance(error, Interrupted) else None
        failed = SmokeResult(
            not_run(first_line(error)), error=None if signum else error, interrupted=signum
        )
        if signum:
            err.print(f"Interrupted by {signal_name(signum)} before any check.", highlight=False)
        else:
            err.print(f"[red]Error ({error_kind(error).value}):[/red] {safe(error)}")
        code = of_smoke(failed)
        if args.json:
            _print_json(out, document(failed, code, base_url))
        return _told(settings, code, failed)
    # The first run's evidence at once: the table, and the files (a proposal takes time).
    code = of_smoke(result)
    code = _write_files(result, lambda c: document(result, c, base_url), code, args.junit_xml, err)
    if not args.json:
        _print_table(out, result, base_url)
    proposal = None
    if args.propose is not None and result.failed and not (result.error or result.interrupted):
        try:
            proposal = propose(
                settings,
                loaded.selectors,
                source,
                result,
                args.propose,
                service=args.service,
                licence=args.licence,
                stop=command.stop,
                on_rerun=lambda n, changes: err.print(
                    f"Rerunning the smoke against the proposal ({len(changes)} "
                    f"{'entry' if len(changes) == 1 else 'entries'} changed, rerun {n})…",
                    highlight=False,
                ),
                # Each rerun's run folder keeps its smoke.json and junit.xml too.
                on_result=lambda rerun: _write_files(
                    rerun, partial(document, rerun, base_url=base_url), of_smoke(rerun), None, err
                ),
            )
        except (BotError, OSError) as error:  # the file could not be written or read back
            err.print(f"[red]No proposal:[/red] {safe(first_line(error))}")
            return _told(settings, code, result)
        verdict = proposal.verdict
        if verdict is not None and verdict.interrupted:
            code = ExitCode.INTERRUPTED + verdict.interrupted
        code = _write_files(
            result, lambda c: document(result, c, base_url, proposal), code, args.junit_xml, err
        )
    if args.json:
        _print_json(out, document(result, code, base_url, proposal))
    elif proposal is not None:
        _print_proposal(out, proposal)
    elif args.propose is not None:
        out.print(plain(f"No proposal written to {args.propose}: {_why_not(result)}."))
    elif result.failed and not result.interrupted:
        out.print(
            "The portal differs from selectors/ (the keys above). `myopenip smoke "
            "--propose FILE` writes a fix and proves it read-only.",
            highlight=False,
        )
    if result.error is not None:
        err.print(f"[red]Error ({error_kind(result.error).value}):[/red] {safe(result.error)}")
    return _told(settings, code, result)


def _told(settings: Settings | None, code: int, result: SmokeResult) -> int:
    """Tell MYOPENIP_NOTIFY how the smoke ended (never a secret); returns `code` as it was."""
    failed = ", ".join(check.spec.key for check in result.failed)
    error = first_line(result.error) if result.error is not None else None
    notify.tell(
        settings,
        notify.Notice(
            command="smoke",
            exit_code=code,
            meaning=notify.meaning_of(MEANINGS["smoke"], code),
            counts={status: n for status, n in result.counts.items() if n},
            folder=str(result.run_dir) if result.run_dir else None,
            portal=settings.base_url if settings is not None else None,
            detail=error or (f"drifted: {failed}" if failed else None),
        ),
    )
    return code


def _why_not(result: SmokeResult) -> str:
    """Why --propose proposed nothing, when the walk did not fail on a drift."""
    if result.interrupted:
        return f"interrupted by {signal_name(result.interrupted)}"
    if result.error is not None:
        return "the walk stopped before any drift could be seen (the error below)"
    return "every check passed, nothing drifted"


# -- the files ---------------------------------------------------------------------------


def _write_files(
    result: SmokeResult,
    payload: Callable[[int], dict[str, Any]],
    code: int,
    junit_xml: Path | None,
    err: Console,
) -> int:
    """junit.xml and smoke.json (`payload` of the code, last: it says whether the others
    were written) in the run folder, always; the JUnit file also where --junit-xml says.
    Returns `code`, or report_failed's when one could not be written (said on `err`)."""
    from myopenip_bot.files import write_private
    from myopenip_bot.smoke.junit import write_junit

    folder = result.run_dir if result.run_dir is not None and result.run_dir.is_dir() else None
    junits = [folder / "junit.xml"] if folder is not None else []
    for path in [*junits, *([junit_xml] if junit_xml is not None else [])]:
        code = _written(partial(write_junit, result.checks, path), code, err)
    if folder is not None:
        code = _written(
            partial(write_private, folder / "smoke.json", json_text(payload(code))), code, err
        )
    return code


def _written(write: Callable[[], object], code: int, err: Console) -> int:
    """`code` once `write` ran; report_failed's when it could not (a full disk), said."""
    try:
        write()
    except (OSError, BotError) as error:  # never a traceback, never a success
        why = error.strerror if isinstance(error, OSError) and error.strerror else error
        err.print(f"[red]Files not written:[/red] {safe(why)}", soft_wrap=True)
        return report_failed(code)
    return code


def document(
    result: SmokeResult, code: int, base_url: str | None, proposal: Proposal | None = None
) -> dict[str, Any]:
    """The run as docs/json.md says (the schema: myopenip/schemas/smoke.schema.json)."""
    error = None
    if result.error is not None:
        error = documents.error(
            error_kind(result.error).value,
            type(result.error).__name__,
            visible(first_line(result.error)),
        )
    return {
        "schema_version": documents.SCHEMA_VERSION,
        "command": "smoke",
        "exit_code": code,
        "error": error,
        "interrupted": signal_name(result.interrupted) if result.interrupted else None,
        "base_url": base_url,
        "run_dir": str(result.run_dir) if result.run_dir else None,
        "counts": result.counts,
        "checks": [_check(check) for check in result.checks],
        "proposal": None if proposal is None else _proposal(proposal),
    }


def _check(check: CheckResult) -> dict[str, Any]:
    return {
        "id": check.id,
        "screen": check.spec.screen,
        "key": check.spec.key,
        "what": check.spec.what,
        "status": check.status.value,
        "message": visible(check.message),
        "seconds": round(check.seconds, 3),
        "screenshot": str(check.screenshot) if check.screenshot else None,
        "candidates": [
            {"role": role, "name": visible(name)} for role, name in check.candidates[:5]
        ],
    }


def _control(control: Control) -> dict[str, Any]:
    return {
        "role": control.role,
        "name": None if control.name is None else visible(control.name),
        "label": None if control.label is None else visible(control.label),
        "text": None if control.text is None else visible(control.text),
        "exact": control.exact,
    }


def _change(change: Change) -> dict[str, Any]:
    return {
        "entry": change.entry,
        "key": change.key,
        "was": _control(change.was),
        "now": _control(change.now),
        "check": change.check,
        "second_look": change.second_look,
    }


def _proposal(proposal: Proposal) -> dict[str, Any]:
    verdict = proposal.verdict
    return {
        "file": str(proposal.path) if proposal.changes else None,
        "source": str(proposal.source),
        "changes": [_change(change) for change in proposal.changes],
        "reruns": [
            {
                "run_dir": str(rerun.run_dir) if rerun.run_dir else None,
                "exit_code": of_smoke(rerun),
                "counts": rerun.counts,
            }
            for rerun in proposal.reruns
        ],
        "passes": proposal.passes,
        "still_failing": []
        if verdict is None
        else [
            {"id": check.id, "message": visible(check.message)}
            for check in verdict.checks
            if check.status.value in ("failed", "error")
        ],
    }


def _print_json(out: Console, payload: dict[str, Any]) -> None:
    text = json_text(payload)
    out.print_json(text) if out.is_terminal else print(text)


# -- the terminal ------------------------------------------------------------------------


def _print_table(out: Console, result: SmokeResult, base_url: str | None) -> None:
    """Each check once (after a signal, those that ran), then the counts and the files."""
    table = Table(title=plain(f"Smoke checks on {base_url}"), title_justify="left")
    table.add_column("Check", ratio=2)
    table.add_column("Result", no_wrap=True)
    table.add_column("Details", ratio=3)
    shown = result.ran if result.interrupted else result.checks
    previous = ""
    alike = 0  # checks not run for the reason just shown: one row for them all

    def add_alike() -> None:
        if alike:
            style = _STYLE["error"]
            more = f"{alike} more check{'s' if alike > 1 else ''}"
            table.add_row(more, f"[{style}]error[/{style}]", "not run (as above)")

    for check in shown:
        if not check.ran and check.message == previous:  # a walk stopped: said once
            alike += 1
            continue
        add_alike()
        alike = 0
        style = _STYLE[check.status.value]
        details = plain(check.message or check.spec.what)
        previous = check.message
        if check.screenshot is not None:
            details.append(plain(f"\nscreenshot: {check.screenshot.name}"))
        table.add_row(
            f"{safe(check.spec.screen)}\n[bold]{safe(check.spec.key)}[/bold]",
            f"[{style}]{check.status.value}[/{style}]",
            details,
        )
    add_alike()
    out.print(table)
    counts = result.counts
    line = (
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']} "
        f"{'error' if counts['error'] == 1 else 'errors'}, {counts['skipped']} skipped."
    )
    if result.interrupted:
        missing = len(result.checks) - len(shown)
        line += f" Interrupted by {signal_name(result.interrupted)}: {missing} checks not run."
    out.print(plain(line))
    if result.run_dir is not None and result.run_dir.is_dir():
        kept = ["smoke.json", "junit.xml"]
        shots = len(list(result.run_dir.glob("*.png")))
        if shots:
            kept.append(f"{shots} screenshot{'s' if shots > 1 else ''}")
        kept += [path.name for path in sorted(result.run_dir.glob("trace*.zip"))]
        out.print(plain(f"Run folder: {result.run_dir} ({', '.join(kept)})"))


def _print_proposal(out: Console, proposal: Proposal) -> None:
    from myopenip_bot.smoke.checks import CHECKS

    if not proposal.changes:
        out.print(
            "Nothing to propose: no failed check shows a candidate on its screen "
            "(edit selectors/ by hand: docs/portal.md).",
            highlight=False,
        )
        return
    count = len(proposal.changes)
    out.print(
        plain(
            f"Proposal written to {proposal.path} ({count} "
            f"{'entry' if count == 1 else 'entries'} of {proposal.source} changed; not applied):"
        )
    )
    for line in proposal.diff().splitlines():  # one by one: the screen shortens long texts
        out.print(plain(line))
    verdict = proposal.verdict
    reruns = len(proposal.reruns)
    how = f"read-only rerun{'s' if reruns != 1 else ''}: {reruns}"
    if verdict is None:
        pass
    elif verdict.interrupted:
        out.print(plain(f"Verdict: none, the rerun was interrupted ({how})."))
    elif verdict.passed:
        counts = verdict.counts
        out.print(
            plain(
                f"Verdict: the proposal passes all {len(CHECKS)} checks ({counts['passed']} "
                f"passed, {counts['skipped']} skipped with their reason; {how})."
            )
        )
    else:
        failed = verdict.failed
        errors = [check for check in verdict.checks if check.status.value == "error"]
        still = f"{len(failed)} check{' still fails' if len(failed) == 1 else 's still fail'}"
        out.print(plain(f"Verdict: with the proposal, {still} ({how}):"))
        for check in failed:  # its message starts with its key
            out.print(plain(f"  {check.spec.screen}: {check.message}"))
        if errors:
            why = errors[0].message.removeprefix("not run: ")
            out.print(plain(f"  and {len(errors)} checks did not run: {why}"))
    for change in proposal.changes:
        if change.second_look:
            out.print(
                plain(
                    f"Second look: {change.entry} changes the portal. Check on the portal "
                    "that the proposed control is the one the user guide means, before "
                    "using the file: no read-only rerun can prove what clicking it does."
                )
            )
    out.print(
        plain(
            f"To use it, review the diff, then copy {proposal.path} over {proposal.source} "
            "(or set MYOPENIP_SELECTORS_FILE to it): the bot never applies a proposal itself."
        )
    )
