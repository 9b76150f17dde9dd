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
from myopenip_bot.errors import BusinessError
from myopenip_bot.i18n import N_, _, ngettext
from myopenip_bot.ledger import TERMINATED, Entry, Query, at_text
from myopenip_bot.ledger.observer import os_user
from myopenip_bot.text import json_text
from myopenip_bot.wording import typography, usage_error

__all__ = ["DESCRIPTION", "NotToTerminateError", "add_arguments", "run"]

DESCRIPTION = N_(
    "Billing's list, from the ledger (docs/ledger.md): --to-terminate (the default) lists "
    "the numbers the bot released (« Conserver le numéro » = Non) that are not marked "
    "terminated yet, over every run of every machine sharing the ledger; --terminated N… "
    "marks them done once their contract is terminated (all or none: each must be on the "
    "list); --available lists the numbers kept in their client's pool. Needs no portal; "
    "only the portal of MYOPENIP_BASE_URL unless --every-portal."
)

COMMAND = "numbers --terminated"
REASON = "terminated by billing"

# Each list: its name in the JSON, the key of its moment, its words.
LISTS = {
    "to_terminate": ("released_at", N_("Released\nby")),
    "available": ("kept_at", N_("Kept\nby")),
    "terminated": ("terminated_at", N_("Terminated\nby")),
}
COLUMNS = ("number", "service", "client", "licence")  # as numbers-to-terminate.csv
MORE_COLUMNS = ("ticket", "account", "os_user", "portal_user", "run_dir", "portal")


class NotToTerminateError(BusinessError):
    """A number given to --terminated is not on the list to terminate: nothing recorded."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip numbers` (the command tree lives in myopenip.cli)."""
    parser.description = textwrap.fill(_(DESCRIPTION), width=80, break_on_hyphens=False)
    parser.epilog = epilog("numbers")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--to-terminate",
        action="store_true",
        help=_("the numbers released and not marked terminated (the default)"),
    )
    which.add_argument(
        "--available", action="store_true", help=_("the numbers kept in their client's pool")
    )
    which.add_argument(
        "--terminated",
        nargs="+",
        metavar="N",
        help=_("mark these numbers terminated (any format; each must be on the list)"),
    )
    parser.add_argument("--ticket", metavar="T", help=_("with --terminated: billing's ticket"))
    parser.add_argument(
        "--every-portal",
        action="store_true",
        help=_("every portal's numbers, not only this one's"),
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=_("print them as JSON"))
    output.add_argument(
        "--csv", action="store_true", help=_("print them as CSV, for a spreadsheet (« ; »)")
    )


def list_name(args: argparse.Namespace) -> str:
    if args.terminated:
        return "terminated"
    return "available" if args.available else "to_terminate"


def check(args: argparse.Namespace) -> list[str]:
    """The arguments checked (UsageError naming the option); the numbers to mark."""
    if args.ticket is not None and not args.terminated:
        raise usage_error(N_("--ticket goes with --terminated (the ticket of the termination)"))
    if args.ticket is not None and not args.ticket.strip():
        raise usage_error(N_("--%(option)s is empty"), option="ticket")
    if args.terminated and args.every_portal:
        raise usage_error(
            N_(
                "--terminated marks numbers of the portal of MYOPENIP_BASE_URL: --every-portal "
                "only lists"
            )
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
        whys = [(documents.number(n), _why_not(reading, n)) for n in missing]
        why = "; ".join(f"{number} {english}" for number, (english, _shown) in whys)
        error = NotToTerminateError(
            f"not on the list to terminate of {portal}: {why}; nothing was recorded"
        )
        shown = typography("; ").join(f"{number} {said}" for number, (_english, said) in whys)
        error.shown = _(  # type: ignore[attr-defined]
            "not on the list to terminate of %(portal)s: %(why)s; nothing was recorded"
        ) % {"portal": portal, "why": shown}
        raise error
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


def _why_not(reading: ledgers.Reading, number: str) -> tuple[str, str]:
    """Why `number` is not on the list, from its last entry: in English (the JSON, the
    logs) and as a person reads it."""
    found = reading.ledger.entries(Query(number=number, portal=reading.portal), every=True)
    done = [entry for entry in found if entry.outcome in ("done", TERMINATED)]
    if not done:
        why = N_("(never released by the bot here)")
    elif done[0].outcome == TERMINATED:
        why = N_("(already marked terminated on %(when)s)")
    else:
        why = N_("(kept in the client's pool on %(when)s)")
    values = {"when": ledgers.local_time(done[0].at)} if done else {}
    return why % values, _(why) % values


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
            ngettext(
                "%(count)s more on other portals than %(portal)s (MYOPENIP_BASE_URL): "
                "--every-portal lists it.",
                "%(count)s more on other portals than %(portal)s (MYOPENIP_BASE_URL): "
                "--every-portal lists them.",
                others,
            )
            % {"count": others, "portal": reading.portal}
        )


def _print(reading: ledgers.Reading, name: str, listed: list[Entry]) -> None:
    here = "" if reading.portal is None else f" ({reading.portal})"
    values = {"count": len(listed), "here": here, "ledger": reading.ledger.name}

    def say(text: str) -> None:
        reading.out.print(plain(text), soft_wrap=False)  # wrapped at words, not by the terminal

    if name == "terminated":
        say(
            ngettext(
                "Marked terminated%(here)s, recorded in the ledger %(ledger)s: %(count)s number.",
                "Marked terminated%(here)s, recorded in the ledger %(ledger)s: %(count)s numbers.",
                len(listed),
            )
            % values
        )
    elif not listed:
        if name == "to_terminate":
            say(_("No number to terminate%(here)s in the ledger %(ledger)s.") % values)
        else:
            say(_("No number kept in a client's pool%(here)s in the ledger %(ledger)s.") % values)
        _say_other_portals(reading, name, listed, say)
        return
    reading.out.print(table(name, listed, every_portal=reading.portal is None))
    if name == "to_terminate":
        said = ngettext(
            "%(count)s number to terminate%(here)s; once terminated: "
            "myopenip numbers --terminated N… [--ticket T]",
            "%(count)s numbers to terminate%(here)s; once terminated: "
            "myopenip numbers --terminated N… [--ticket T]",
            len(listed),
        )
        say(said % values)
    elif name == "available":
        say(
            ngettext(
                "%(count)s number kept%(here)s.", "%(count)s numbers kept%(here)s.", len(listed)
            )
            % values
        )


def table(name: str, listed: list[Entry], *, every_portal: bool = False) -> Table:
    """The numbers for a person, at 80 columns: two lines a cell, as `history`'s."""
    title = {
        "to_terminate": _("To terminate"),
        "available": _("Kept"),
        "terminated": _("Terminated"),
    }
    table = Table(title=title[name], title_justify="left", show_lines=True)
    table.add_column(_("Number\nlicence"), no_wrap=True)
    table.add_column(_("Client · service"), overflow="fold", ratio=1, min_width=16)
    table.add_column(_(LISTS[name][1]), overflow="fold", min_width=10, max_width=16)
    table.add_column(_("Ticket"), overflow="fold", max_width=16)
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
            Text("\n").join([plain(ledgers.shown_time(entry.at)), plain(who, width=40)]),
            plain(entry.ticket or "—"),
        )
    return table
