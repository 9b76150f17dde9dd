"""`myopenip numbers`: billing's list of the numbers the bot released and nobody has
terminated yet, marking them terminated, and the numbers kept in their client's pool —
from the ledger, without the portal."""

from __future__ import annotations

import argparse
import socket
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from myopenip import documents, ledgers
from myopenip.documents import number_argument
from myopenip.exitcodes import ExitCode, epilog
from myopenip.terminal import plain
from myopenip_bot.errors import BusinessError, UsageError
from myopenip_bot.ledger import TERMINATED, Entry, Query, at_text
from myopenip_bot.ledger.observer import os_user
from myopenip_bot.text import json_text

__all__ = ["DESCRIPTION", "NotToTerminateError", "add_arguments", "run"]

DESCRIPTION = textwrap.fill(
    "Billing's list, from the ledger (docs/ledger.md): --to-terminate (the default) lists "
    "the numbers the bot released (« Conserver le numéro » = Non) that are not marked "
    "terminated yet, over every run of every machine sharing the ledger; --terminated N… "
    "marks them done once their contract is terminated (all or none: each must be on the "
    "list); --available lists the numbers kept in their client's pool. Needs no portal; "
    "only the portal of MYOPENIP_BASE_URL unless --every-portal.",
    width=80,
)

COMMAND = "numbers --terminated"
REASON = "terminated by billing"

# Each list: its name in the JSON, the key of its moment, its words.
LISTS = {
    "to_terminate": ("released_at", "Released"),
    "available": ("kept_at", "Kept"),
    "terminated": ("terminated_at", "Terminated"),
}
COLUMNS = ("number", "service", "client", "licence")  # as numbers-to-terminate.csv
MORE_COLUMNS = ("ticket", "account", "os_user", "portal_user", "run_dir", "portal")


class NotToTerminateError(BusinessError):
    """A number given to --terminated is not on the list to terminate: nothing recorded."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip numbers` (the command tree lives in myopenip.cli)."""
    parser.description = DESCRIPTION
    parser.epilog = epilog("numbers")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--to-terminate",
        action="store_true",
        help="the numbers released and not marked terminated (the default)",
    )
    which.add_argument(
        "--available", action="store_true", help="the numbers kept in their client's pool"
    )
    which.add_argument(
        "--terminated",
        nargs="+",
        metavar="N",
        help="mark these numbers terminated (any format; each must be on the list)",
    )
    parser.add_argument("--ticket", metavar="T", help="with --terminated: billing's ticket")
    parser.add_argument(
        "--every-portal", action="store_true", help="every portal's numbers, not only this one's"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print them as JSON")
    output.add_argument(
        "--csv", action="store_true", help="print them as CSV, for a spreadsheet (« ; »)"
    )


def list_name(args: argparse.Namespace) -> str:
    if args.terminated:
        return "terminated"
    return "available" if args.available else "to_terminate"


def check(args: argparse.Namespace) -> list[str]:
    """The arguments checked (UsageError naming the option); the numbers to mark."""
    if args.ticket is not None and not args.terminated:
        raise UsageError("--ticket goes with --terminated (the ticket of the termination)")
    if args.ticket is not None and not args.ticket.strip():
        raise UsageError("--ticket is empty")
    if args.terminated and args.every_portal:
        raise UsageError(
            "--terminated marks numbers of the portal of MYOPENIP_BASE_URL: --every-portal "
            "only lists"
        )
    given = [number_argument(text, "--terminated") for text in args.terminated or ()]
    return list(dict.fromkeys(given))


def run(args: argparse.Namespace) -> int:
    """`myopenip numbers`, once its arguments are parsed; returns the exit code."""
    return ledgers.run(
        args, "numbers", _run, check=check, empty={"list": list_name(args), "numbers": []}
    )


def _run(reading: ledgers.Reading) -> int:
    args, ledger = reading.args, reading.ledger
    name = list_name(args)
    released: dict[str, Entry] = {}  # --terminated: the release each marked number had
    if name == "terminated":
        listed, released = _mark(reading, check(args))
    elif name == "available":
        listed = ledger.available(reading.portal)
    else:
        listed = ledger.to_terminate(reading.portal)
    if args.json:
        print(json_text(document(reading, name, listed, released)))
    elif args.csv:
        moment = LISTS[name][0]
        also = ["released_at"] if name == "terminated" else []
        header = [*COLUMNS, moment, *also, *MORE_COLUMNS]
        rows = ([item[key] for key in header] for item in _items(name, listed, released))
        print(ledgers.csv_text(header, rows), end="")
    else:
        _print(reading, name, listed)
    return ExitCode.OK


def _mark(reading: ledgers.Reading, numbers: list[str]) -> tuple[list[Entry], dict[str, Entry]]:
    """Record a termination of each of `numbers`, all or none: the entries written, and
    the release of each number."""
    ledger, portal = reading.ledger, reading.portal
    released: dict[str, Entry] = {}
    for entry in ledger.to_terminate(portal):  # newest first: the latest release stands
        released.setdefault(entry.number, entry)
    missing = [number for number in numbers if number not in released]
    if missing:
        why = "; ".join(f"{documents.number(n)} {_why_not(reading, n)}" for n in missing)
        raise NotToTerminateError(
            f"not on the list to terminate of {portal}: {why}; nothing was recorded"
        )
    at = at_text(datetime.now(UTC))
    who, host = os_user(), socket.gethostname()
    ticket = (reading.args.ticket or "").strip()
    entries = [
        Entry(
            at=at,
            os_user=who,
            host=host,
            portal_user="",
            portal=release.portal,
            client=release.client,
            account=release.account,
            service=release.service,
            licence=release.licence,
            number=release.number,
            keep_number=release.keep_number,
            outcome=TERMINATED,
            reason=REASON,
            ticket=ticket,
            command=COMMAND,
            run_dir="",
        )
        for release in (released[number] for number in numbers)
    ]
    with reading.signals.holding():  # a signal waits for the record: whole or none
        ledger.record(entries)
    return entries, released


def _why_not(reading: ledgers.Reading, number: str) -> str:
    """Why `number` is not on the list, from its last entry."""
    found = reading.ledger.entries(Query(number=number, portal=reading.portal), every=True)
    done = [entry for entry in found if entry.outcome in ("done", TERMINATED)]
    if not done:
        return "(never released by the bot here)"
    last = done[0]
    when = ledgers.local_time(last.at)
    if last.outcome == TERMINATED:
        return f"(already marked terminated on {when})"
    return f"(kept in the client's pool on {when})"


def _items(name: str, listed: list[Entry], released: dict[str, Entry]) -> list[dict[str, Any]]:
    moment = LISTS[name][0]
    items = []
    for entry in listed:
        item: dict[str, Any] = {
            "number": documents.number(entry.number),
            "client": entry.client,
            "account": entry.account,
            "service": entry.service,
            "licence": entry.licence,
            moment: entry.at,
            "ticket": entry.ticket,
            "os_user": entry.os_user,
            "portal_user": entry.portal_user,
            "run_dir": entry.run_dir or None,
            "portal": entry.portal,
        }
        if name == "terminated":
            item["released_at"] = released[entry.number].at
        items.append(ledgers.visible_texts(item))
    return items


def document(
    reading: ledgers.Reading, name: str, listed: list[Entry], released: dict[str, Entry]
) -> dict[str, Any]:
    return {
        **ledgers.document("numbers", reading.ledger, ExitCode.OK),
        "list": name,
        "numbers": _items(name, listed, released),
    }


def _say_other_portals(
    reading: ledgers.Reading, name: str, listed: list[Entry], say: Callable[[str], None]
) -> None:
    """Numbers of other portals than MYOPENIP_BASE_URL's are never silently left out."""
    if reading.portal is None or name == "terminated":
        return
    every = reading.ledger.available() if name == "available" else reading.ledger.to_terminate()
    others = len(every) - len(listed)
    if others > 0:
        say(
            f"{others} more on other portals than {reading.portal} (MYOPENIP_BASE_URL): "
            "--every-portal lists them."
        )


def _print(reading: ledgers.Reading, name: str, listed: list[Entry]) -> None:
    here = "" if reading.portal is None else f" ({reading.portal})"
    count = f"{len(listed)} number{'s' if len(listed) != 1 else ''}"

    def say(text: str) -> None:
        reading.out.print(plain(text), soft_wrap=False)  # wrapped at words, not by the terminal

    if name == "terminated":
        say(f"Marked terminated{here}, recorded in the ledger {reading.ledger.name}: {count}.")
    elif not listed:
        what = "to terminate" if name == "to_terminate" else "kept in a client's pool"
        say(f"No number {what}{here} in the ledger {reading.ledger.name}.")
        _say_other_portals(reading, name, listed, say)
        return
    reading.out.print(table(name, listed, every_portal=reading.portal is None))
    if name == "to_terminate":
        say(
            f"{count} to terminate{here}; once terminated: "
            "myopenip numbers --terminated N… [--ticket T]"
        )
    elif name == "available":
        say(f"{count} kept{here}.")


def table(name: str, listed: list[Entry], *, every_portal: bool = False) -> Table:
    """The numbers for a person, at 80 columns: two lines a cell, as `history`'s."""
    words = LISTS[name][1]
    title = {"to_terminate": "To terminate", "available": "Kept", "terminated": "Terminated"}
    table = Table(title=title[name], title_justify="left", show_lines=True)
    table.add_column("Number\nlicence", no_wrap=True)
    table.add_column("Client · service", overflow="fold", ratio=1, min_width=16)
    table.add_column(f"{words}\nby", overflow="fold", min_width=10, max_width=16)
    table.add_column("Ticket", overflow="fold", max_width=16)
    for entry in listed:
        who = entry.os_user + (f" / {entry.portal_user}" if entry.portal_user else "")
        service = entry.service + (f" · {entry.portal}" if every_portal else "")
        table.add_row(
            Text("\n").join([plain(documents.number(entry.number) or "—"), plain(entry.licence)]),
            Text("\n").join(
                [
                    plain(entry.client or entry.account or "—", width=ledgers.CLIENT_TEXT),
                    plain(service),
                ]
            ),
            Text("\n").join([plain(ledgers.local_time(entry.at)), plain(who, width=40)]),
            plain(entry.ticket or "—"),
        )
    return table
