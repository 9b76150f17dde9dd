"""`myopenip smoke`: prove every screen and selector on the portal, read-only.

Exit codes: 0 every check passed (skips with a reason are fine), 1 a check failed,
2 usage or settings (a refused login too), 3 the portal could not be reached.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from myopenip_bot.errors import BotError, error_kind
from myopenip_bot.logs import configure_logging
from myopenip_bot.settings import forget_password_environment, load_settings
from myopenip_bot.terminal import plain, safe

__all__ = ["add_arguments", "run"]

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

EXIT_CODES_HELP = """exit codes:
  0  every check passed (a check skipped with its reason is fine: a small account)
  1  a check failed: the portal drifted from selectors/ (the check names the key)
  2  usage or settings, or the portal refused the login
  3  the portal could not be reached
"""

_STYLE = {"passed": "green", "failed": "red", "skipped": "yellow"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Walk the user guide's screens on the portal at MYOPENIP_BASE_URL and check that "
        "every control and text of selectors/ is where the bot expects it. Read-only: it "
        "opens the dissociation dialog, reads it and clicks « Annuler »; it never clicks "
        "« Valider », and it aborts any request that could change data."
    )
    parser.epilog = EXIT_CODES_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--service", metavar="REF", help="the service to check (default: the first active one)"
    )
    parser.add_argument(
        "--licence", metavar="REF", help="a licence with a number (default: the first found)"
    )
    parser.add_argument(
        "--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report, a case per check"
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--headed", action="store_true", help="show the browser window")


def run(args: argparse.Namespace) -> int:
    from myopenip_bot.selectors import load_selectors
    from myopenip_bot.smoke.junit import write_junit
    from myopenip_bot.smoke.run import run_smoke

    os.umask(0o077)
    out = Console(soft_wrap=True)
    err = Console(stderr=True)
    try:
        settings = load_settings(**({"headless": False} if args.headed else {}))
        configure_logging(settings.log_format, settings.log_level)
        settings.require_credentials()
        settings.prepare_folders()
        selectors = load_selectors(settings.selectors_file)
        forget_password_environment()
        result = run_smoke(settings, selectors, service=args.service, licence=args.licence)
    except BotError as error:
        err.print(f"[red]Error ({error_kind(error).value}):[/red] {safe(error)}", soft_wrap=True)
        if args.json:
            print(json.dumps({"error": str(error), "exit_code": EXIT_USAGE}, ensure_ascii=False))
        return EXIT_USAGE
    if result.unreachable is not None:
        code = EXIT_UNREACHABLE
    elif result.refused is not None:
        code = EXIT_USAGE
    else:
        code = EXIT_PASSED if result.passed else EXIT_FAILED
    if args.junit_xml:
        write_junit(result.checks, args.junit_xml)
    if args.json:
        payload = {
            "exit_code": code,
            "counts": result.counts,
            "run_dir": str(result.run_dir) if result.run_dir else None,
            "checks": [
                {
                    "id": check.id,
                    "screen": check.spec.screen,
                    "key": check.spec.key,
                    "what": check.spec.what,
                    "status": check.status.value,
                    "message": check.message,
                }
                for check in result.checks
            ],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        table = Table(title=plain(f"Smoke checks on {settings.base_url}"), title_justify="left")
        table.add_column("Check", ratio=2)
        table.add_column("Result", no_wrap=True)
        table.add_column("Details", ratio=3)
        for check in result.checks:
            style = _STYLE[check.status.value]
            table.add_row(
                f"{safe(check.spec.screen)}\n[bold]{safe(check.spec.key)}[/bold]",
                f"[{style}]{check.status.value}[/{style}]",
                plain(check.message or check.spec.what),
            )
        out.print(table)
        counts = ", ".join(f"{count} {status}" for status, count in result.counts.items())
        out.print(plain(f"{counts}. Screenshots: {result.run_dir}"))
        failed = [check for check in result.checks if check.status.value == "failed"]
        for check in failed:
            # The message starts with the selector key (JUnit shows it alone): not twice.
            out.print(f"[red]FAILED[/red] {safe(check.spec.screen)}: {safe(check.message)}")
    return code
