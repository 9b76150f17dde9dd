"""`myopenip smoke`: prove every screen and selector on the portal, read-only."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table

from myopenip import startup
from myopenip.exitcodes import ExitCode, epilog, of_smoke
from myopenip.terminal import plain, safe
from myopenip_bot.errors import BotError, error_kind

__all__ = ["add_arguments", "run"]

_STYLE = {"passed": "green", "failed": "red", "skipped": "yellow"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Walk the user guide's screens on the portal at MYOPENIP_BASE_URL and check that "
        "every control and text of selectors/ is where the bot expects it. Read-only: it "
        "opens the dissociation dialog, reads it and clicks « Annuler »; it never clicks "
        "« Valider », and it aborts any request that could change data."
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
        "--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report, a case per check"
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument("--headed", action="store_true", help="show the browser window")


def run(args: argparse.Namespace) -> int:
    """`myopenip smoke`, once its arguments are parsed; returns the exit code."""
    return startup.run(_run, args)


def _run(command: startup.Command) -> int:
    from myopenip_bot.smoke.junit import write_junit
    from myopenip_bot.smoke.run import run_smoke

    args, out, err = command.args, command.out, command.err
    try:
        loaded = command.load()
        settings = loaded.settings
        result = run_smoke(settings, loaded.selectors, service=args.service, licence=args.licence)
    except BotError as error:
        err.print(f"[red]Error ({error_kind(error).value}):[/red] {safe(error)}", soft_wrap=True)
        if args.json:
            payload = {"error": str(error), "exit_code": int(ExitCode.USAGE)}
            print(json.dumps(payload, ensure_ascii=False))
        return ExitCode.USAGE
    code = of_smoke(result)
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
