"""`myopenip demo`: serve the replica on a free port and run the bot against it, step by step."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from myopenip.commands.dissociate import print_summary
from myopenip.replica import Replica, run_replica
from myopenip.terminal import plain, say_error
from myopenip_bot.config.logs import configure_logging
from myopenip_bot.config.settings import LogFormat, Settings, TraceMode
from myopenip_bot.errors import BotError, error_kind
from myopenip_bot.i18n import N_, _
from myopenip_bot.models import DissociationRequest, Outcome, RunResult, Target, format_number
from myopenip_bot.wording import error_lines

SERVICE = "SRV-10021"
RELEASED = "FPC367128"  # Licence full conferencing, as ticked in the user guide
KEPT = "FPC367129"  # Licence full meeting avancée, the other one ticked in the guide


DESCRIPTION = N_("Serve the replica on a free port with demo data and run the bot against it.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip demo` (the command tree lives in myopenip.cli)."""
    parser.description = _(DESCRIPTION)
    parser.add_argument("--headed", action="store_true", help=_("show the browser window"))
    parser.add_argument(
        "--traces-dir",
        type=Path,
        default=Path("traces"),
        metavar=_("DIR"),
        help=_("run folders"),
    )


def _licence_rows(replica: Replica, refs: Sequence[str]) -> Table:
    state = replica.state()
    table = Table(show_header=True, header_style="bold")
    # the portal's own column names, then the replica's count of the licence's changes
    for column in ("Licence", "Type", "État", "SDA", "Options", _("History")):
        table.add_column(column)
    for licence in (lc for lc in state["licences"] if lc["ref"] in refs):
        sda = licence["sda"]
        table.add_row(
            *(
                plain(value)
                for value in (
                    licence["ref"],
                    licence["type"],
                    licence["state"],
                    format_number(sda) if sda else "—",
                    ", ".join(licence["options"]) or "—",
                    str(licence["history"]),
                )
            )
        )
    return table


def _number_states(replica: Replica, numbers: Sequence[str]) -> Table:
    state = replica.state()
    table = Table(show_header=True, header_style="bold")
    table.add_column(_("Number"))
    table.add_column(_("State"))
    table.add_column(_("Licence"))
    for entry in (n for n in state["numbers"] if n["number"] in numbers):
        table.add_row(format_number(entry["number"]), entry["state"], entry["licence_ref"] or "—")
    return table


def _step(
    console: Console, settings: Settings, title: str, request: DissociationRequest
) -> RunResult | None:
    from myopenip_bot.dissociation.run import run_dissociation

    console.print(Rule(title))
    try:
        result = run_dissociation(settings, request)
    except BotError as exc:
        say_error(console, error_lines(exc, error_kind(exc), changed=None))
        return None
    print_summary(result, console)
    return result


def run(args: argparse.Namespace) -> int:
    """`myopenip demo`, once its arguments are parsed; returns the exit code."""
    console = Console()
    configure_logging(LogFormat.CONSOLE, "warning")
    console.print(Rule(Text("myopenip demo", style="bold")))  # the command's name
    with run_replica() as replica, tempfile.TemporaryDirectory() as home:
        console.print(
            plain(
                _("Portal replica: %(url)s  (login %(user)s)")
                % {"url": replica.url, "user": replica.username}
            )
        )
        settings = Settings(
            base_url=replica.url,
            username=replica.username,
            password=replica.password,  # type: ignore[arg-type]
            headless=not args.headed,
            trace=TraceMode.ON,
            traces_dir=args.traces_dir,
            state_file=Path(home) / "session-state.json",
            # The demo's records are its own: the user's ledger holds only real work.
            ledger=str(Path(home) / "ledger.sqlite3"),  # type: ignore[arg-type]
            accepted_file=Path(home) / "accepted.sqlite3",
            log_format=LogFormat.CONSOLE,
            log_level="warning",
        )
        guide = [RELEASED, KEPT]
        initial = {lc["ref"]: lc["sda"] for lc in replica.state()["licences"] if lc["ref"] in guide}
        console.print(plain(_("Before: the two licences ticked in the user guide's screenshot")))
        console.print(_licence_rows(replica, guide))
        console.print(_number_states(replica, [n for n in initial.values() if n]))

        steps: list[tuple[str, DissociationRequest, set[Outcome]]] = [
            (
                _("1/4 Dry run: the dialog is read back, then « Annuler »"),
                _request(guide, keep=False, dry_run=True),
                {Outcome.WOULD_DO},
            ),
            (
                _("2/4 Dissociate %(licence)s, « Conserver le numéro » = Non (quarantine)")
                % {"licence": RELEASED},
                _request([RELEASED], keep=False),
                {Outcome.DONE},
            ),
            (
                _("3/4 Dissociate %(licence)s, « Conserver le numéro » = Oui (available)")
                % {"licence": KEPT},
                _request([KEPT], keep=True),
                {Outcome.DONE},
            ),
            (
                _("4/4 Run the release of %(licence)s again: nothing left to do")
                % {"licence": RELEASED},
                _request([RELEASED], keep=False),
                {Outcome.ALREADY_DONE},
            ),
        ]
        ok = True
        for title, request, expected in steps:
            result = _step(console, settings, title, request)
            ok = ok and result is not None and {r.outcome for r in result.results} <= expected
        console.print(Rule(_("After")))
        console.print(_licence_rows(replica, guide))
        console.print(_number_states(replica, [n for n in initial.values() if n]))
    console.print(
        plain(
            _(
                "Each run has its folder under %(folder)s/; open a trace with "
                "`.venv/bin/playwright show-trace <folder>/trace.zip`."
            )
            % {"folder": args.traces_dir}
        )
    )
    if ok:
        console.print(plain(_("Demo finished."), style="green"))
    else:
        console.print(plain(_("The demo failed."), style="red"))
    return 0 if ok else 1


def _request(refs: Sequence[str], *, keep: bool, dry_run: bool = False) -> DissociationRequest:
    targets = tuple(Target(licence_ref=ref) for ref in refs)
    return DissociationRequest(SERVICE, targets, keep_number=keep, dry_run=dry_run)
