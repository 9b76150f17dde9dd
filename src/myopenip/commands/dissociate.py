"""`myopenip dissociate`: parse and check the arguments, run the bot, print the outcome.

Nothing here clicks: the library's runner does; this module only reads arguments, asks
for confirmation, and turns the result into output, `result.json` and one exit code
(exitcodes.of_run), the same for the process and for the JSON.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from myopenip import startup
from myopenip.documents import (
    SCHEMA_VERSION,
    error,
    number,
    number_argument,
    service,
    ticket_argument,
)
from myopenip.exitcodes import MEANINGS, epilog, of_run, report_failed
from myopenip.terminal import (
    Steps,
    ask_to_valider,
    drift_hint,
    numbers_whole,
    plain,
    safe,
    say_error,
)
from myopenip_bot import notify
from myopenip_bot.config.settings import Settings
from myopenip_bot.dissociation.results import NUMBERS_TO_TERMINATE, write_numbers_to_terminate
from myopenip_bot.errors import BotError, Interrupted, error_kind, signal_name
from myopenip_bot.files import write_private
from myopenip_bot.i18n import N_, _, ngettext
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.models import (
    Confirmation,
    DissociationRequest,
    LicenceTask,
    Outcome,
    RunResult,
    Target,
    ended_options,
    format_number,
    name_key,
    service_ref_problem,
)
from myopenip_bot.text import json_text
from myopenip_bot.wording import error_lines, outcome_label, reason_text, usage_error

__all__ = [
    "TerminalConfirm",
    "add_arguments",
    "build_request",
    "document",
    "licence_details",
    "plan_table",
    "print_summary",
    "run",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip dissociate` (the command tree lives in myopenip.cli)."""
    parser.description = textwrap.fill(
        _(
            "Dissociate the numbers of one or more licences of a MetaCentrex service, as the "
            "user guide shows: the licence loses its number, settings and history. This cannot "
            "be undone. Give licences by ref (--licence), by number (--number) or by their "
            "user's name (--user); when --licence and --number are both given they are paired "
            "in order, and the number must be the licence's current one. "
            "Refs are case-insensitive. If any licence is refused when planning, nothing is done "
            "(unless --skip-refused)."
        ),
        width=80,
    )
    parser.epilog = epilog("dissociate")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--service",
        metavar=_("REF"),
        help=_("the service's ref, as the portal shows it (SRV-10021)"),
    )
    where.add_argument(
        "--client",
        metavar=_("NAME"),
        help=_(
            "instead of --service: the client's name or « Compte client » (CC-…); its one "
            "MetaCentrex service « Actif » holding the licences or numbers given"
        ),
    )
    parser.add_argument(
        "--licence",
        action="append",
        default=[],
        metavar=_("REF"),
        help=_("licence ref, e.g. FPC367128"),
    )
    parser.add_argument(
        "--number", action="append", default=[], metavar="SDA", help=_("number, e.g. 0231456789")
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar=_("TEXT"),
        help=_(
            "the licence whose « Utilisateur » is this name (whole name, any case or accents, "
            'words in any order), e.g. "Lina André"; refused when none or several have it'
        ),
    )
    keep = parser.add_mutually_exclusive_group(required=True)
    keep.add_argument(
        "--keep-number",
        dest="keep_number",
        action="store_true",
        help=_('"Conserver le numéro" = Oui: the number stays available to the client'),
    )
    keep.add_argument(
        "--release-number",
        dest="keep_number",
        action="store_false",
        help=_('"Conserver le numéro" = Non: the number goes into quarantine'),
    )
    parser.add_argument(
        "--ticket",
        metavar=_("TEXT"),
        help=_(
            "the ticket this is done for (INC-1001): recorded in the ledger "
            "(`myopenip history --ticket`)"
        ),
    )
    parser.add_argument(
        "--dry-run", action="store_true", help=_("open the dialog, check it, then Annuler")
    )
    parser.add_argument("--yes", action="store_true", help=_("do not ask before Valider"))
    parser.add_argument(
        "--skip-refused",
        action="store_true",
        help=_("act on the other licences when some are refused when planning"),
    )
    parser.add_argument("--headed", action="store_true", help=_("show the browser window"))
    startup.add_retry_login(parser)
    parser.add_argument("--json", action="store_true", help=_("print the result as JSON"))


def _clean_ref(value: str, option: str) -> str:
    """A service ref as given (any shape the portal may use), or a licence ref upper-cased."""
    ref = value.strip()
    if option == "--service":
        problem = service_ref_problem(ref)
        if problem is not None:
            raise usage_error(
                N_(
                    "%(option)s %(value)r %(problem)s: give the service's ref as the portal "
                    "shows it"
                ),
                option="--service",
                value=value,
                problem=problem,
            )
        return ref
    if not ref or any(c.isspace() for c in ref):
        raise usage_error(
            N_("%(option)s %(value)r: a ref is one word, e.g. FPC367128"),
            option=option,
            value=value,
        )
    if not (ref.isascii() and ref.isprintable()):
        raise usage_error(
            N_("%(option)s %(value)r: a ref is ASCII letters and digits, e.g. FPC367128"),
            option=option,
            value=value,
        )
    return ref.upper()


def build_request(args: argparse.Namespace) -> DissociationRequest:
    """Check the arguments and turn them into a request; UsageError names the culprit."""
    service = _clean_ref(args.service, "--service") if args.service is not None else ""
    client = args.client.strip() if args.client is not None else None
    if client is not None and not client:
        raise usage_error(N_("--client is empty: give the client's name or its CC-… account"))
    licences = [_clean_ref(v, "--licence") for v in args.licence]
    numbers = [number_argument(value) for value in args.number]
    users = [_user_argument(value) for value in getattr(args, "user", None) or []]
    if not licences and not numbers and not users:
        raise usage_error(N_("give at least one --licence or --number (or --user)"))
    for option, values in (("--licence", licences), ("--number", numbers)):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            shown = ", ".join(format_number(v) if option == "--number" else v for v in repeated)
            raise usage_error(N_("%(option)s given twice: %(shown)s"), option=option, shown=shown)
    keys = [" ".join(sorted(name_key(user).split())) for user in users]
    twice = sorted({user for user, key in zip(users, keys, strict=True) if keys.count(key) > 1})
    if twice:
        raise usage_error(N_("--user given twice: %(users)s"), users=", ".join(twice))
    ticket = ticket_argument(args.ticket) if args.ticket is not None else ""
    if licences and numbers:
        if len(licences) != len(numbers):
            raise usage_error(
                N_(
                    "--licence and --number are paired in order when both are given: "
                    "got %(licences)d --licence and %(numbers)d --number"
                ),
                licences=len(licences),
                numbers=len(numbers),
            )
        targets = tuple(
            Target(licence_ref=r, number=n, ticket=ticket)
            for r, n in zip(licences, numbers, strict=True)
        )
    else:
        targets = tuple(Target(licence_ref=r, ticket=ticket) for r in licences) + tuple(
            Target(number=n, ticket=ticket) for n in numbers
        )
    targets += tuple(Target(user=user, ticket=ticket) for user in users)
    return DissociationRequest(
        service_ref=service,
        targets=targets,
        keep_number=args.keep_number,
        dry_run=args.dry_run,
        skip_refused=args.skip_refused,
        client=client,
    )


def _user_argument(value: str) -> str:
    """A --user as given, blanks collapsed; refused when empty or not one line."""
    user = " ".join(value.split())
    if not user:
        raise usage_error(N_("--user is empty: give the user's name as « Utilisateur » shows it"))
    if not user.isprintable():
        raise usage_error(N_("--user %(value)r holds a control character"), value=value)
    return user


class TerminalConfirm:
    """Show the whole plan and the portal's warnings, then ask a person once (the steps'
    spinner, if any, stopped meanwhile)."""

    def __init__(self, console: Console, stop: StopSignal, steps: Steps) -> None:
        self.console = console
        self.stop = stop
        self.steps = steps

    def __call__(self, confirmation: Confirmation) -> bool:
        with self.steps.paused(_("« Valider »")):
            self.console.print(plan_table(confirmation))
            count = len(confirmation.licences)
            return ask_to_valider(self.console, self.stop, count, confirmation.warnings)


def plan_table(confirmation: Confirmation) -> Table:
    """The plan a person confirms: the service, then each licence, its number and keep;
    its type, user, site and options (those the dissociation ends said so)."""
    service = confirmation.service
    client = _(", client %(client)s") % {"client": service.client} if service.client else ""
    account = f" ({service.account})" if service.account else ""
    tickets = sorted({task.target.ticket for task in confirmation.licences if task.target.ticket})
    ticket = _("; ticket %(tickets)s") % {"tickets": ", ".join(tickets)} if tickets else ""
    table = Table(
        title=plain(
            _("Service %(ref)s « %(name)s »") % {"ref": service.ref, "name": service.name}
            + f"{client}{account}{ticket}"
        ),
        title_justify="left",
    )
    table.add_column(_("Licence"), no_wrap=True)
    table.add_column(_("Number"), no_wrap=True)
    table.add_column(_("Type · user · site · options"), ratio=1)
    table.add_column(_("« Conserver le numéro »"), max_width=15)
    for licence in confirmation.licences:
        keep = _("Oui: kept") if licence.keep else _("Non: quarantine")
        kind = f"{licence.type} ({licence.tab.value})" if licence.tab else licence.type
        table.add_row(
            plain(licence.licence_ref),
            format_number(licence.number or ""),
            licence_details(licence, confirmation.ended_options, kind=kind),
            keep,
        )
    return table


def licence_details(
    task: LicenceTask, ended: Sequence[str], *, kind: str = "", options: bool = True
) -> Text:
    """A licence's type, user and site, one a line, then its options, one a line, each
    one the dissociation ends said plainly: "Application standardiste — ended with the
    number"; options the portal does not show are said so. Portal texts stay data."""
    lines: list[Text] = []
    if kind:
        lines.append(plain(kind))
    if task.user:
        lines.append(Text(_("User: ")) + plain(task.user))
    if task.site:
        lines.append(Text(_("Site: ")) + plain(task.site))
    if not options:
        pass
    elif task.options is None:
        lines.append(Text(_("Options: not shown by the portal"), style="dim"))
    elif not task.options:
        lines.append(Text(_("Options: none")))
    else:
        lines.append(Text(_("Options:")))
        flagged = set(ended_options(task.options, ended))
        for option in task.options:
            if option in flagged:
                lines.append(
                    Text("· ")
                    + plain(option, style="bold red")
                    + Text(_(" — ended with the number"))
                )
            else:
                lines.append(Text("· ") + plain(option) + Text(_(" — stays with the licence")))
    return Text("\n").join(lines)


def run(args: argparse.Namespace) -> int:
    """`myopenip dissociate`, once its arguments are parsed; returns the exit code."""
    return startup.run(_run, args)


def _run(command: startup.Command) -> int:
    from myopenip_bot.dissociation.observer import always_yes
    from myopenip_bot.dissociation.results import failure_result
    from myopenip_bot.dissociation.run import run_dissociation  # imports Playwright

    args, err = command.args, command.err
    request: DissociationRequest | None = None
    settings: Settings | None = None  # read: a notification can be sent
    steps = Steps(err)
    try:
        request = build_request(args)
        loaded = command.load(
            ask=None if request.dry_run else _("to dissociate without asking"), acting=True
        )
        settings = loaded.settings
        confirm = always_yes if args.yes else TerminalConfirm(err, command.stop, steps)
        with steps:
            result = run_dissociation(
                loaded.settings,
                request,
                selectors=loaded.selectors,
                confirm=confirm,
                stop=command.stop,
                on_step=steps.show,
            )
        if command.stop.signum is not None and result.interrupted is None:
            # Ctrl-C after the last safe point (the answer to « Valider » read): the run
            # ended, but it was interrupted all the same.
            result.interrupted = command.stop.signum
    except BotError as exc:
        if exc.result is not None:
            result = exc.result
        elif request is not None:
            result = failure_result(request, exc)
        else:
            result = _failure_before_request(args, exc)
        if not result.results:
            say_error(err, error_lines(exc, error_kind(exc), changed=False, hint=drift_hint))
            if result.trace_dir:
                err.print(
                    plain(_("Trace and screenshots: %(path)s") % {"path": result.trace_dir}),
                    soft_wrap=True,
                )
    code = of_run(result)
    to_terminate = _write_to_terminate(result, err)
    text = json_text(document(result, code))
    if result.trace_dir is not None and result.trace_dir.is_dir():
        try:
            write_private(result.trace_dir / "result.json", text)  # beside the run's artifacts
        except OSError as error:  # a full disk: said, never a traceback nor a success
            err.print(
                "[red]"
                + _("No result.json in %(folder)s:") % {"folder": safe(result.trace_dir)}
                + f"[/red] {safe(error.strerror or error)}",
                soft_wrap=True,
            )
            code = report_failed(code)
            text = json_text(document(result, code))
    _print(result, text, args.json, command.out, client=args.client, to_terminate=to_terminate)
    return _told(settings, code, result)


def _write_to_terminate(result: RunResult, err: Console) -> Path | None:
    """The run folder's numbers-to-terminate.csv, as a batch's report holds it, when the
    run released numbers; a file that cannot be written is said (the ledger has them:
    `myopenip numbers --to-terminate`)."""
    if result.trace_dir is None or not result.trace_dir.is_dir():
        return None
    try:
        return write_numbers_to_terminate(result, result.trace_dir)
    except OSError as error:
        err.print(
            "[red]"
            + _("No %(file)s in %(folder)s:")
            % {"file": NUMBERS_TO_TERMINATE, "folder": safe(result.trace_dir)}
            + f"[/red] {safe(error.strerror or error)}",
            soft_wrap=True,
        )
        return None


def _told(settings: Settings | None, code: int, result: RunResult) -> int:
    """Tell MYOPENIP_NOTIFY how the run ended (never a secret); returns `code` as it was."""
    notify.tell(
        settings,
        notify.Notice(
            command="dissociate",
            exit_code=code,
            meaning=notify.meaning_of(MEANINGS["dissociate"], code),
            counts={outcome: n for outcome, n in result.counts.items() if n},
            folder=str(result.trace_dir) if result.trace_dir else None,
            portal=settings.base_url if settings is not None else None,
            subject=result.service_ref or None,
            subject_label="Service",
            detail=result.error.splitlines()[0] if result.error else None,
        ),
    )
    return code


def _failure_before_request(args: argparse.Namespace, exc: BotError) -> RunResult:
    """The result of a run that failed on its own arguments."""
    return RunResult(
        service_ref=str(args.service or "").strip(),
        keep_number=bool(args.keep_number),
        dry_run=bool(args.dry_run),
        error=str(exc),
        error_kind=error_kind(exc),
        error_type=type(exc).__name__,
        interrupted=exc.signum if isinstance(exc, Interrupted) else None,
    )


def document(result: RunResult, code: int) -> dict[str, object]:
    """The run as docs/json.md says (the schema: myopenip/schemas/dissociate.schema.json)."""
    stopped = None
    if result.error is not None:
        kind = result.error_kind.value if result.error_kind else "technical"
        stopped = error(kind, result.error_type or "", result.error)
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "dissociate",
        "exit_code": code,
        "error": stopped,
        "interrupted": signal_name(result.interrupted) if result.interrupted else None,
        "service": service(result.service),
        "keep_number": result.keep_number,
        "dry_run": result.dry_run,
        "counts": result.counts,
        "results": [
            {
                "service": result.service_ref or None,
                "licence": task.licence_ref or task.target.licence_ref,
                "number": number(task.number or task.target.number),
                "keep_number": task.keep,
                "outcome": task.outcome.value if task.outcome else "not_attempted",
                "reason": task.reason,
                "tab": task.tab.value if task.tab else None,
                "type": task.type or None,
                "user": task.user or None,
                "site": task.site or None,
                "submissions": task.submissions,
                "asked": {
                    "licence": task.target.licence_ref,
                    "number": number(task.target.number),
                },
            }
            for task in result.results
        ],
        "warnings": result.warnings,
        "status_messages": result.status_messages,
        "run_dir": str(result.trace_dir) if result.trace_dir else None,
    }


def _print(
    result: RunResult,
    text: str,
    as_json: bool,
    out: Console,
    client: str | None = None,
    to_terminate: Path | None = None,
) -> None:
    if as_json:
        out.print_json(text) if out.is_terminal else print(text)
    elif result.results:
        print_summary(result, out, client=client, to_terminate=to_terminate)
    elif result.interrupted:
        out.print(
            _("Interrupted by %(signal)s before anything was done: nothing was changed.")
            % {"signal": signal_name(result.interrupted)}
        )


_COLOURS = {
    Outcome.DONE: "green",
    Outcome.ALREADY_DONE: "cyan",
    Outcome.WOULD_DO: "yellow",
    Outcome.REFUSED: "red",
    Outcome.NOT_CONFIRMED: "yellow",
    Outcome.SKIPPED: "yellow",
    Outcome.FAILED: "red",
    Outcome.UNKNOWN: "red",
    Outcome.IN_PROGRESS: "yellow",
}


# Outcomes of licences that never went to the confirmation: their options were not read.
_NOT_PLANNED = (Outcome.REFUSED, Outcome.ALREADY_DONE)


def print_summary(
    result: RunResult,
    console: Console,
    *,
    client: str | None = None,
    to_terminate: Path | None = None,
) -> None:
    """A table per licence, then the run's totals, the next steps, where its artifacts are.

    Made to read at 80 columns: the licence, the number and the outcome are never cut, the
    reasons wrap at words, and a reason every skipped licence shares (the run's error) is
    said once, below, with what to do next. A licence the portal never named (given by
    number, none holding it) shows as "—". `client`: the --client given, named when its
    service was not found; `to_terminate`: the run's numbers-to-terminate.csv, when it
    wrote one.
    """
    mode = _("dry run, nothing changed") if result.dry_run else _("run")
    keep = _("Oui (kept)") if result.keep_number else _("Non (quarantine)")
    service = result.service
    if result.service_ref and service and service.client:
        title = _("Service %(ref)s « %(name)s », client %(client)s") % {
            "ref": result.service_ref,
            "name": service.name,
            "client": service.client,
        }
    elif result.service_ref:
        title = _("Service %(ref)s") % {"ref": result.service_ref}
    elif client:
        title = _("Client %(client)s, no service found") % {"client": client.strip()}
    else:
        title = _("No service found")
    console.print(  # wrapped at words on a terminal; one line in a job's log
        f"[bold]{safe(title)}[/bold]"
        + safe(_(": %(mode)s; « Conserver le numéro » = %(keep)s") % {"mode": mode, "keep": keep}),
        soft_wrap=not console.is_terminal,
        highlight=False,
    )
    # A signal is a person's choice, not a failure: said once, below, as an interruption.
    stopped = bool(result.interrupted) and result.error_type in (None, Interrupted.__name__)
    table = Table(show_lines=False)
    table.add_column(_("Licence"), no_wrap=True)
    table.add_column(_("Number"), no_wrap=True)
    table.add_column(_("Outcome"))
    table.add_column(_("Why · tab · user · options"), min_width=20)
    for row in result.results:
        assert row.outcome is not None
        colour = _COLOURS[row.outcome]
        licence = row.licence_ref or row.target.licence_ref or "—"
        why = reason_text(row.reason)
        if (
            row.outcome is Outcome.SKIPPED
            and result.error
            and not stopped
            and result.error in (row.reason or "")
        ):
            why = _("not attempted: see the error below")
        number = row.number or row.target.number
        # The options, read before the confirmation, for the licences that went to it.
        read = row.tab is not None and row.outcome not in _NOT_PLANNED
        tab = Text(_("Tab: %(tab)s") % {"tab": row.tab.value}) if row.tab else Text()
        details = licence_details(replace(row, site=""), result.ended_options, options=read)
        table.add_row(
            plain(licence),
            format_number(number) if number else "—",
            Text(outcome_label(row.outcome), style=colour),
            Text("\n").join(part for part in (plain(numbers_whole(why)), tab, details) if part),
        )
    console.print(table)
    for message in result.status_messages:
        console.print(plain(_("Portal: « %(message)s »") % {"message": message}))
    if result.error and not stopped:
        changed = any(
            row.outcome in (Outcome.DONE, Outcome.IN_PROGRESS, Outcome.UNKNOWN)
            for row in result.results
        )
        say_error(
            console, error_lines(result.error, result.error_kind, changed=changed, hint=drift_hint)
        )
    if result.interrupted:
        console.print(
            "[yellow]"
            + _("Interrupted by %(signal)s: stopped at a safe point.")
            % {"signal": signal_name(result.interrupted)}
            + "[/yellow] "
            + _(
                "The table above says what was done; run the same command again to settle "
                "what is left (it reads the portal first and never does anything twice)."
            ),
            soft_wrap=not console.is_terminal,
        )
    if any(row.outcome is Outcome.UNKNOWN for row in result.results):
        console.print(
            _(
                "Run the same command again: it reads the portal and settles the licences "
                "whose outcome is unknown (never clicking « Valider » for one already done)."
            )
        )
    working = sum(row.outcome is Outcome.IN_PROGRESS for row in result.results)
    if working:
        console.print(
            "[yellow]"
            + _(
                "The portal accepted %(count)d dissociation(s) and is still working on "
                "them: do not redo them in the portal."
            )
            % {"count": working}
            + "[/yellow] "
            + _(
                "Run the same command again later to confirm: it reads the portal and never "
                "sends « Valider » again for them."
            )
        )
    _next_steps(result, console, to_terminate)
    if result.trace_dir:
        console.print(
            plain(_("Trace and screenshots: %(path)s") % {"path": result.trace_dir}),
            soft_wrap=True,
        )


# The guide's own words (its warning, and its note on giving a number to a new licence).
GUIDE_BILLING = (
    "Pensez à résilier le numéro depuis vos offres contractées pour arrêter sa facturation"
)
GUIDE_REASSIGN = (
    "il devra dissocier son numéro de la licence actuelle pour l'affecter à la nouvelle"
)


def _next_steps(result: RunResult, console: Console, to_terminate: Path | None) -> None:
    """What a person does next with the numbers this run dissociated: a kept one is in
    the client's pool, to give to the new licence; a released one is still billed."""
    done = [row for row in result.results if row.outcome is Outcome.DONE and row.number]
    kept = [format_number(row.number or "") for row in done if row.keep]
    released = [format_number(row.number or "") for row in done if not row.keep]
    if kept:
        console.print(
            ngettext(
                "Now in the client's pool: %(numbers)s. Next, on the portal: give it to the "
                "new licence (the guide's second step: « %(guide)s »); "
                "`myopenip numbers --available` lists the numbers kept.",
                "Now in the client's pool: %(numbers)s. Next, on the portal: give each to the "
                "new licence (the guide's second step: « %(guide)s »); "
                "`myopenip numbers --available` lists the numbers kept.",
                len(kept),
            )
            % {"numbers": ", ".join(kept), "guide": GUIDE_REASSIGN},
            highlight=False,
            soft_wrap=False,  # wrapped at words: a person reads it at 80 columns
        )
    if released:
        where = _("; this run's: %(path)s") % {"path": to_terminate} if to_terminate else ""
        console.print(
            plain(
                _(
                    "In quarantine, still billed: %(numbers)s. « %(guide)s »: "
                    "billing's list is `myopenip numbers --to-terminate`%(where)s."
                )
                % {"numbers": ", ".join(released), "guide": GUIDE_BILLING, "where": where},
                width=4_000,  # the bot's own sentence, whole (a translation runs longer)
            ),
            highlight=False,
            soft_wrap=False,
        )
