"""`myopenip dissociate`: parse and check the arguments, run the bot, print the outcome.

Nothing here clicks: the workflow runner does; this module only reads arguments and
settings, asks for confirmation, and turns the result into output and an exit code —
one exit code, from `report.exit_code`, for the process and for the JSON alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from myopenip_bot.errors import BotError, Interrupted, UsageError, error_kind, signal_name
from myopenip_bot.interrupts import PromptInterrupted, StopSignal
from myopenip_bot.logs import configure_logging
from myopenip_bot.models import (
    Confirmation,
    DissociationRequest,
    RunResult,
    Target,
    format_number,
    normalize_number,
)
from myopenip_bot.report import exit_code, failure_result, print_summary, to_json
from myopenip_bot.settings import forget_password_environment, load_settings
from myopenip_bot.terminal import plain, safe

__all__ = [
    "EXIT_CODES_HELP",
    "TerminalConfirm",
    "add_arguments",
    "ask_to_valider",
    "build_request",
    "run",
]

EXIT_CODES_HELP = """exit codes (the first that applies, in this order):
  130/143  interrupted by SIGINT/SIGTERM: stopped at a safe point (rerun to settle)
  3        a technical failure (portal unreachable, HTTP 5xx, timeout), or an outcome
           left unknown: rerun to settle it
  2        bad usage or settings (no browser, unusable folder), refused credentials
  1        a business refusal: unknown service or licence, number mismatch, service not
           « Actif », the portal refused, the dialog did not list the plan
  4        answered no at the confirmation: nothing was changed
  0        every licence dissociated, already without a number, or (--dry-run) would be
"""

PROMPT = "[o/oui/y/yes = yes, n/non/no = no; Enter = no] "
YES = frozenset({"o", "oui", "y", "yes"})
NO = frozenset({"", "n", "non", "no"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip dissociate` (the command tree lives in myopenip.cli)."""
    parser.description = textwrap.fill(
        "Dissociate the numbers of one or more licences of a MetaCentrex service, as the "
        "user guide shows: the licence loses its number, settings and history. This cannot "
        "be undone. Give licences by ref (--licence) or by number (--number); when both are "
        "given they are paired in order, and the number must be the licence's current one. "
        "Refs are case-insensitive. If any licence is refused when planning, nothing is done "
        "(unless --skip-refused).",
        width=80,
    )
    parser.epilog = EXIT_CODES_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--service", required=True, metavar="REF", help="service ref, e.g. SRV-10021"
    )
    parser.add_argument(
        "--licence", action="append", default=[], metavar="REF", help="licence ref, e.g. FPC367128"
    )
    parser.add_argument(
        "--number", action="append", default=[], metavar="SDA", help="number, e.g. 0231456789"
    )
    keep = parser.add_mutually_exclusive_group(required=True)
    keep.add_argument(
        "--keep-number",
        dest="keep_number",
        action="store_true",
        help='"Conserver le numéro" = Oui: the number stays available to the client',
    )
    keep.add_argument(
        "--release-number",
        dest="keep_number",
        action="store_false",
        help='"Conserver le numéro" = Non: the number goes into quarantine',
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="open the dialog, check it, then Annuler"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask before Valider")
    parser.add_argument(
        "--skip-refused",
        action="store_true",
        help="act on the other licences when some are refused when planning",
    )
    parser.add_argument("--headed", action="store_true", help="show the browser window")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _clean_ref(value: str, option: str) -> str:
    ref = value.strip()
    example = "SRV-10021" if option == "--service" else "FPC367128"
    if not ref or any(c.isspace() for c in ref):
        raise UsageError(f"{option} {value!r}: a ref is one word, e.g. {example}")
    if not (ref.isascii() and ref.isprintable()):
        raise UsageError(f"{option} {value!r}: a ref is ASCII letters and digits, e.g. {example}")
    return ref.upper()


def build_request(args: argparse.Namespace) -> DissociationRequest:
    """Check the arguments and turn them into a request; UsageError names the culprit."""
    service = _clean_ref(args.service, "--service")
    licences = [_clean_ref(v, "--licence") for v in args.licence]
    numbers = []
    for value in args.number:
        try:
            numbers.append(normalize_number(value))
        except ValueError:
            raise UsageError(
                f"--number {value!r}: not a French ten-digit number "
                "(0231456789, 02 31 45 67 89 or +33 2 31 45 67 89)"
            ) from None
    if not licences and not numbers:
        raise UsageError("give at least one --licence or --number")
    for option, values in (("--licence", licences), ("--number", numbers)):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            shown = ", ".join(format_number(v) if option == "--number" else v for v in repeated)
            raise UsageError(f"{option} given twice: {shown}")
    if licences and numbers:
        if len(licences) != len(numbers):
            raise UsageError(
                "--licence and --number are paired in order when both are given: "
                f"got {len(licences)} --licence and {len(numbers)} --number"
            )
        targets = tuple(
            Target(licence_ref=r, number=n) for r, n in zip(licences, numbers, strict=True)
        )
    else:
        targets = tuple(Target(licence_ref=r) for r in licences) + tuple(
            Target(number=n) for n in numbers
        )
    return DissociationRequest(
        service_ref=service,
        targets=targets,
        keep_number=args.keep_number,
        dry_run=args.dry_run,
        skip_refused=args.skip_refused,
    )


class TerminalConfirm:
    """Show the whole plan and the portal's warnings, then ask a person once."""

    def __init__(self, console: Console, stop: StopSignal) -> None:
        self.console = console
        self.stop = stop
        self.answered_no = False

    def __call__(self, confirmation: Confirmation) -> bool:
        self.console.print(_plan_table(confirmation))
        count = len(confirmation.licences)
        confirmed = ask_to_valider(self.console, self.stop, count, confirmation.warnings)
        self.answered_no = not confirmed
        return confirmed


def ask_to_valider(
    console: Console, stop: StopSignal, count: int, warnings: tuple[str, ...]
) -> bool:
    """Show the portal's warnings whole, then ask once whether to click « Valider ».

    Enter, n/non/no, Ctrl-D, Ctrl-C (or any signal) mean no; o/oui/y/yes mean yes.
    """
    paragraphs = [plain(text, width=4_000) for text in warnings]
    warning = Text("\n\n").join(paragraphs) if paragraphs else Text("(the dialog shows no warning)")
    console.print(Panel(warning, title="The portal's warning", expand=False))
    these = "this number" if count == 1 else f"these {count} numbers"
    console.print(f"Click « Valider » for {these}? This cannot be undone.", highlight=False)
    answer = _ask(console, stop, PROMPT)
    while answer is not None and answer not in YES | NO:
        answer = _ask(console, stop, f"Please answer: {PROMPT}")
    return answer in YES


def _ask(console: Console, stop: StopSignal, question: str) -> str | None:
    """The answer, lower-cased; None when the person hung up (Ctrl-D, Ctrl-C, a signal)."""
    try:
        with stop.prompting():
            return console.input(escape(question)).strip().lower()
    except (EOFError, KeyboardInterrupt, PromptInterrupted):
        console.print()
        return None


def _plan_table(confirmation: Confirmation) -> Table:
    service = confirmation.service
    client = f", client {service.client}" if service.client else ""
    account = f" ({service.account})" if service.account else ""
    table = Table(
        title=plain(f"Service {service.ref} « {service.name} »{client}{account}"),
        title_justify="left",
    )
    for column in ("Tab", "Licence", "Number", "« Conserver le numéro »"):
        table.add_column(column)
    for licence in confirmation.licences:
        keep = "Oui: kept, available" if licence.keep_number else "Non: quarantine"
        table.add_row(
            licence.tab.value,
            plain(licence.licence_ref),
            format_number(licence.number),
            keep,
        )
    return table


def run(args: argparse.Namespace) -> int:
    """`myopenip dissociate`, once its arguments are parsed; returns the exit code."""
    os.umask(0o077)  # whatever the bot writes (traces, results, state) is its owner's only
    out = Console(soft_wrap=True)
    err = Console(stderr=True)
    stop = StopSignal()
    with stop.installed():  # from the start: a signal at any moment stops at a safe point
        return _run(args, out, err, stop)


def _run(args: argparse.Namespace, out: Console, err: Console, stop: StopSignal) -> int:
    request: DissociationRequest | None = None
    try:
        request = build_request(args)
        overrides = {"headless": False} if args.headed else {}
        settings = load_settings(**overrides)
        configure_logging(settings.log_format, settings.log_level)
        settings.require_credentials()
        settings.prepare_folders()
        forget_password_environment()  # read: no child needs it, no one may read it
        if not (request.dry_run or args.yes or sys.stdin.isatty()):
            raise UsageError("no terminal to confirm on: pass --yes to dissociate without asking")
        confirm = TerminalConfirm(err, stop)

        from myopenip_bot.hooks import always_yes
        from myopenip_bot.run import run_dissociation  # imports Playwright: only when needed

        stop.check()  # a signal during start-up
        result = run_dissociation(
            settings, request, confirm=always_yes if args.yes else confirm, stop=stop
        )
    except BotError as exc:
        result = exc.result or _result_of_failure(args, request, exc)
        if exc.run_dir and result.trace_dir is None:
            result.trace_dir = exc.run_dir
        if not result.results:
            err.print(f"[red]Error ({error_kind(exc).value}):[/red] {safe(exc)}", soft_wrap=True)
            if result.trace_dir:
                err.print(plain(f"Trace and screenshots: {result.trace_dir}"), soft_wrap=True)
    _print(result, args.json, out)
    return exit_code(result)


def _result_of_failure(
    args: argparse.Namespace, request: DissociationRequest | None, exc: BotError
) -> RunResult:
    """The result of a run that failed before it began (bad input, settings, browser)."""
    if request is not None:
        return failure_result(request, exc)
    return RunResult(
        service_ref=str(args.service).strip().upper(),
        keep_number=bool(args.keep_number),
        dry_run=bool(args.dry_run),
        error=str(exc),
        error_kind=error_kind(exc),
        error_type=type(exc).__name__,
        interrupted=exc.signum if isinstance(exc, Interrupted) else None,
    )


def _print(result: RunResult, as_json: bool, out: Console) -> None:
    if as_json:
        text = to_json(result)
        out.print_json(text) if out.is_terminal else print(text)
    elif result.results:
        print_summary(result, out)
    elif result.interrupted:
        out.print(f"Interrupted by {signal_name(result.interrupted)} before anything was done.")
