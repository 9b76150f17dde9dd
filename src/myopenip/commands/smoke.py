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
from myopenip.terminal import plain, safe, say_error
from myopenip_bot import notify
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import BotError, Interrupted, error_kind, first_line, signal_name
from myopenip_bot.i18n import _, ngettext
from myopenip_bot.text import json_text, visible
from myopenip_bot.wording import check_status, check_text, error_lines, screen_name

if TYPE_CHECKING:  # light at start-up: `myopenip --help` imports this, not Playwright
    from myopenip_bot.config.selectors import Control
    from myopenip_bot.smoke.checks import CheckResult
    from myopenip_bot.smoke.propose import Change, Proposal
    from myopenip_bot.smoke.run import SmokeResult

__all__ = ["add_arguments", "document", "run"]

_STYLE = {"passed": "green", "failed": "red", "error": "red", "skipped": "yellow"}
# A check's details are shortened only past this (the portal's texts it quotes are data).
DETAILS_TEXT = 1_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = textwrap.fill(
        _(
            "Walk the user guide's screens on the portal at MYOPENIP_BASE_URL and check that "
            "every control and text of selectors/ is where the bot expects it. Read-only: it "
            "opens the dissociation dialog, reads it and clicks « Annuler »; it never clicks "
            "« Valider », and it aborts any request that could change data. The run folder "
            "keeps smoke.json, junit.xml and a screenshot of each screen (and of each "
            "failure)."
        ),
        width=80,
        break_on_hyphens=False,
    )
    parser.epilog = epilog("smoke")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--service",
        metavar=_("REF"),
        help=_("the service to check (default: the first active one)"),
    )
    parser.add_argument(
        "--licence",
        metavar=_("REF"),
        help=_("a licence with a number (default: the first found)"),
    )
    parser.add_argument(
        "--junit-xml",
        type=Path,
        metavar=_("PATH"),
        help=_("also write the JUnit XML report here"),
    )
    parser.add_argument(
        "--propose",
        type=Path,
        metavar=_("FILE"),
        help=_(
            "when checks fail, write FILE: the selectors in use with each drifted entry "
            "replaced by what the screen shows instead, then rerun the whole smoke against it "
            "(read-only) and print the diff and the verdict; never applied, never in selectors/"
        ),
    )
    parser.add_argument("--json", action="store_true", help=_("print the checks as JSON"))
    parser.add_argument("--headed", action="store_true", help=_("show the browser window"))
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
            err.print(
                plain(
                    _("Interrupted by %(signal)s before any check.")
                    % {"signal": signal_name(signum)}
                )
            )
        else:
            say_error(err, error_lines(error, error_kind(error), changed=False))
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
                    plain(
                        ngettext(
                            "Rerunning the smoke against the proposal (%(count)s entry "
                            "changed, rerun %(rerun)s)…",
                            "Rerunning the smoke against the proposal (%(count)s entries "
                            "changed, rerun %(rerun)s)…",
                            len(changes),
                        )
                        % {"count": len(changes), "rerun": n}
                    )
                ),
                # Each rerun's run folder keeps its smoke.json and junit.xml too.
                on_result=lambda rerun: _write_files(
                    rerun, partial(document, rerun, base_url=base_url), of_smoke(rerun), None, err
                ),
            )
        except (BotError, OSError) as error:  # the file could not be written or read back
            err.print(plain(_("No proposal: %(why)s") % {"why": first_line(error)}, style="red"))
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
        out.print(
            plain(
                _("No proposal written to %(file)s: %(why)s.")
                % {"file": args.propose, "why": _why_not(result)}
            )
        )
    elif result.failed and not result.interrupted:
        out.print(
            plain(
                _(
                    "The portal differs from selectors/ (the keys above). `myopenip smoke "
                    "--propose FILE` writes a fix and proves it read-only."
                )
            )
        )
    if result.error is not None:
        say_error(err, error_lines(result.error, error_kind(result.error), changed=False))
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
        return _("interrupted by %(signal)s") % {"signal": signal_name(result.interrupted)}
    if result.error is not None:
        return _("the walk stopped before any drift could be seen (the error below)")
    return _("every check passed, nothing drifted")


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
        err.print(
            plain(_("Files not written: %(why)s") % {"why": why}, style="red"), soft_wrap=True
        )
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
    table = Table(
        title=plain(_("Smoke checks on %(portal)s") % {"portal": base_url}),
        title_justify="left",
    )
    # As wide as its longest key (never cut: a key is one word), the rest for the
    # details, wrapped at words.
    table.add_column(_("Check"), no_wrap=True)
    table.add_column(_("Result"), no_wrap=True)
    table.add_column(_("Details"), ratio=1)
    shown = result.ran if result.interrupted else result.checks
    previous = ""
    alike = 0  # checks not run for the reason just shown: one row for them all

    def add_alike() -> None:
        if alike:
            style = _STYLE["error"]
            more = ngettext("%(count)s more check", "%(count)s more checks", alike) % {
                "count": alike
            }
            table.add_row(
                plain(more),
                plain(check_status("error"), style=style),
                plain(_("not run (as above)")),
            )

    for check in shown:
        if not check.ran and check.message == previous:  # a walk stopped: said once
            alike += 1
            continue
        add_alike()
        alike = 0
        style = _STYLE[check.status.value]
        # A check's sentence may quote the portal at length (a guard's list of requests):
        # wrapped in its cell, shortened only past a screen's worth.
        details = plain(check_text(check.message or check.spec.what), width=DETAILS_TEXT)
        previous = check.message
        if check.screenshot is not None:
            shot = _("screenshot: %(file)s") % {"file": check.screenshot.name}
            details.append(plain("\n" + shot))
        table.add_row(
            f"{safe(screen_name(check.spec.screen))}\n[bold]{safe(check.spec.key)}[/bold]",
            plain(check_status(check.status), style=style),
            details,
        )
    add_alike()
    out.print(table)
    counts = result.counts
    line = ngettext(
        "%(passed)s passed, %(failed)s failed, %(error)s error, %(skipped)s skipped.",
        "%(passed)s passed, %(failed)s failed, %(error)s errors, %(skipped)s skipped.",
        counts["error"],
    ) % {key: counts[key] for key in ("passed", "failed", "error", "skipped")}
    if result.interrupted:
        missing = len(result.checks) - len(shown)
        line += " " + ngettext(
            "Interrupted by %(signal)s: %(count)s check not run.",
            "Interrupted by %(signal)s: %(count)s checks not run.",
            missing,
        ) % {"signal": signal_name(result.interrupted), "count": missing}
    out.print(plain(line))
    if result.run_dir is not None and result.run_dir.is_dir():
        kept = ["smoke.json", "junit.xml"]
        shots = len(list(result.run_dir.glob("*.png")))
        if shots:
            kept.append(
                ngettext("%(count)s screenshot", "%(count)s screenshots", shots) % {"count": shots}
            )
        kept += [path.name for path in sorted(result.run_dir.glob("trace*.zip"))]
        out.print(
            plain(
                _("Run folder: %(folder)s (%(files)s)")
                % {"folder": result.run_dir, "files": ", ".join(kept)}
            )
        )


def _print_proposal(out: Console, proposal: Proposal) -> None:
    from myopenip_bot.smoke.checks import CHECKS

    if not proposal.changes:
        out.print(
            plain(
                _(
                    "Nothing to propose: no failed check shows a candidate on its screen "
                    "(edit selectors/ by hand: docs/portal.md)."
                )
            )
        )
        return
    count = len(proposal.changes)
    out.print(
        plain(
            ngettext(
                "Proposal written to %(file)s (%(count)s entry of %(source)s changed; "
                "not applied):",
                "Proposal written to %(file)s (%(count)s entries of %(source)s changed; "
                "not applied):",
                count,
            )
            % {"file": proposal.path, "count": count, "source": proposal.source}
        )
    )
    for line in proposal.diff().splitlines():  # one by one: the screen shortens long texts
        out.print(plain(line))
    verdict = proposal.verdict
    reruns = len(proposal.reruns)
    how = ngettext("read-only rerun: %(count)s", "read-only reruns: %(count)s", reruns) % {
        "count": reruns
    }
    if verdict is None:
        pass
    elif verdict.interrupted:
        out.print(plain(_("Verdict: none, the rerun was interrupted (%(how)s).") % {"how": how}))
    elif verdict.passed:
        counts = verdict.counts
        out.print(
            plain(
                _(
                    "Verdict: the proposal passes all %(checks)s checks (%(passed)s passed, "
                    "%(skipped)s skipped with their reason; %(how)s)."
                )
                % {
                    "checks": len(CHECKS),
                    "passed": counts["passed"],
                    "skipped": counts["skipped"],
                    "how": how,
                }
            )
        )
    else:
        failed = verdict.failed
        errors = [check for check in verdict.checks if check.status.value == "error"]
        still = ngettext(
            "Verdict: with the proposal, %(count)s check still fails (%(how)s):",
            "Verdict: with the proposal, %(count)s checks still fail (%(how)s):",
            len(failed),
        )
        out.print(plain(still % {"count": len(failed), "how": how}))
        for check in failed:  # its message starts with its key
            out.print(plain(f"  {screen_name(check.spec.screen)}: {check_text(check.message)}"))
        if errors:
            why = errors[0].message.removeprefix("not run: ")
            out.print(
                plain(
                    "  "
                    + ngettext(
                        "and %(count)s check did not run: %(why)s",
                        "and %(count)s checks did not run: %(why)s",
                        len(errors),
                    )
                    % {"count": len(errors), "why": check_text(why)}
                )
            )
    for change in proposal.changes:
        if change.second_look:
            out.print(
                plain(
                    _(
                        "Second look: %(entry)s changes the portal. Check on the portal that "
                        "the proposed control is the one the user guide means, before using "
                        "the file: no read-only rerun can prove what clicking it does."
                    )
                    % {"entry": change.entry}
                )
            )
    out.print(
        plain(
            _(
                "To use it, review the diff, then copy %(file)s over %(source)s (or set "
                "MYOPENIP_SELECTORS_FILE to it): the bot never applies a proposal itself."
            )
            % {"file": proposal.path, "source": proposal.source}
        )
    )
