"""`myopenip dissociate`: parse and check the arguments, run the bot, print the outcome.

Nothing here clicks: the workflow runner does; this module only reads arguments and
settings, asks for confirmation, and turns the result into output and an exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

from rich.console import Console
from rich.panel import Panel

from myopenip_bot.errors import (
    AuthenticationError,
    BotError,
    BusinessError,
    UsageError,
)
from myopenip_bot.logs import configure_logging
from myopenip_bot.models import DissociationRequest, Target, format_number, normalize_number
from myopenip_bot.report import (
    EXIT_NOT_CONFIRMED,
    EXIT_REFUSED,
    EXIT_TECHNICAL,
    EXIT_USAGE,
    exit_code,
    print_summary,
    to_json,
)
from myopenip_bot.settings import load_settings

EXIT_CODES_HELP = """exit codes:
  0  every licence dissociated, already without a number, or (--dry-run) would be
  1  a business refusal: unknown service or licence, number mismatch, dialog mismatch...
  2  bad usage or settings, missing or refused credentials
  3  a technical failure: portal unreachable, HTTP 5xx, timeout, no browser
  4  not confirmed at the prompt: nothing was changed
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="myopenip", description="MyOpenIP dissociation bot.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    dissociate = commands.add_parser(
        "dissociate",
        help="dissociate numbers from licences of one MetaCentrex service",
        description=(
            "Dissociate the numbers of one or more licences of a MetaCentrex service, as the "
            "user guide shows: the licence loses its number, settings and history. This "
            "cannot be undone. Give licences by ref (--licence) or by number (--number); "
            "when both are given they are paired in order, and the number must be the "
            "licence's current one."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dissociate.add_argument(
        "--service", required=True, metavar="REF", help="service ref, e.g. SRV-10021"
    )
    dissociate.add_argument(
        "--licence", action="append", default=[], metavar="REF", help="licence ref, e.g. FPC367128"
    )
    dissociate.add_argument(
        "--number", action="append", default=[], metavar="SDA", help="number, e.g. 0231456789"
    )
    keep = dissociate.add_mutually_exclusive_group(required=True)
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
    dissociate.add_argument(
        "--dry-run", action="store_true", help="open the dialog, check it, then Annuler"
    )
    dissociate.add_argument("--yes", action="store_true", help="do not ask before Valider")
    dissociate.add_argument("--headed", action="store_true", help="show the browser window")
    dissociate.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _clean_ref(value: str, option: str) -> str:
    ref = value.strip()
    if not ref or any(c.isspace() for c in ref):
        raise UsageError(f"{option} {value!r}: a ref is one word, e.g. FPC367128")
    return ref


def build_request(args: argparse.Namespace) -> DissociationRequest:
    """Check the arguments and turn them into a request; UsageError names the culprit."""
    service = _clean_ref(args.service, "--service")
    licences = [_clean_ref(v, "--licence").upper() for v in args.licence]
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
        service_ref=service, targets=targets, keep_number=args.keep_number, dry_run=args.dry_run
    )


class TerminalConfirm:
    """Show the portal's warning and the plan, then ask a person before "Valider"."""

    def __init__(self, console: Console, keep_number: bool) -> None:
        self.console = console
        self.keep_number = keep_number
        self.answered_no = False

    def __call__(self, plan: list[tuple[Target, str, str]], warnings: list[str]) -> bool:
        self.console.print(Panel("\n\n".join(warnings), title="The portal's warning"))
        choice = "Oui (kept)" if self.keep_number else "Non (quarantine)"
        for _target, licence, number in plan:
            self.console.print(
                f"  {licence}  {format_number(number)}  « Conserver le numéro » = {choice}"
            )
        answer = self.console.input(
            f"Click « Valider » for these {len(plan)} number(s)? This cannot be undone. [y/N] "
        )
        confirmed = answer.strip().lower() in {"y", "yes", "o", "oui"}
        self.answered_no = not confirmed
        return confirmed


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    try:
        request = build_request(args)
        overrides = {"headless": False} if args.headed else {}
        settings = load_settings(**overrides)
        configure_logging(settings.log_format, settings.log_level)
        settings.require_credentials()
        if not (request.dry_run or args.yes or sys.stdin.isatty()):
            raise UsageError("no terminal to confirm on: pass --yes to dissociate without asking")
        confirm = TerminalConfirm(err, request.keep_number)

        from myopenip_bot.run import run_dissociation  # imports Playwright: only when needed
        from myopenip_bot.session import always_yes

        result = run_dissociation(settings, request, confirm=always_yes if args.yes else confirm)
    except BotError as exc:
        return _fail(exc, args.json, out, err)
    if args.json:
        out.print_json(to_json(result)) if out.is_terminal else print(to_json(result))
    else:
        print_summary(result, out)
    if confirm.answered_no:
        return EXIT_NOT_CONFIRMED
    return exit_code(result)


def _classify(exc: BotError) -> tuple[int, str]:
    """The exit code and the kind of failure shown to people and in JSON."""
    if isinstance(exc, AuthenticationError):
        return EXIT_USAGE, "authentication"
    if isinstance(exc, UsageError):
        return EXIT_USAGE, "usage"
    if isinstance(exc, BusinessError):
        return EXIT_REFUSED, "business"
    return EXIT_TECHNICAL, "technical"


def _fail(exc: BotError, as_json: bool, out: Console, err: Console) -> int:
    code, kind = _classify(exc)
    partial = exc.result  # what the run had established before it stopped, if it had begun
    if as_json:
        payload = json.loads(to_json(partial)) if partial is not None else {}
        payload |= {
            "error": str(exc),
            "error_type": type(exc).__name__,
            "kind": kind,
            "exit_code": code,
            "trace_dir": str(exc.run_dir) if exc.run_dir else None,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    elif partial is not None and partial.results:
        print_summary(partial, out)
    err.print(f"[red]Error ({kind}):[/red] {exc}", highlight=False)
    if exc.run_dir:
        err.print(f"Trace and screenshots: {exc.run_dir}", highlight=False)
    return code
