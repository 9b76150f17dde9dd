"""`myopenip history`: what the bot did, from the ledger — by number, licence, service,
client, ticket or dates, newest first — without the portal (no login, no browser)."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from rich.table import Table
from rich.text import Text

from myopenip import documents, ledgers
from myopenip.documents import number_argument
from myopenip.exitcodes import ExitCode, epilog
from myopenip.terminal import numbers_whole, plain
from myopenip_bot.i18n import N_, _, language, ngettext
from myopenip_bot.ledger import SUBMITTING, TERMINATED, Entry, Query
from myopenip_bot.text import json_text
from myopenip_bot.wording import outcome_word, reason_text, usage_error

__all__ = ["DESCRIPTION", "TABLE_LIMIT", "add_arguments", "document", "run"]

DESCRIPTION = N_(
    "What the bot did, from the ledger (docs/ledger.md), newest first: who dissociated "
    "which number, when, for which client and ticket, and how it ended. Needs no portal. "
    "By default the last word of each run on each licence, on the portal of "
    "MYOPENIP_BASE_URL; --all shows every entry (« Valider » about to be clicked, "
    "accepted, …), --every-portal every portal's."
)

# Rows a table shows unless --limit says otherwise (JSON and CSV: all).
TABLE_LIMIT = 50

HEADER = (
    "at",
    "os_user",
    "host",
    "portal_user",
    "portal",
    "client",
    "account",
    "service",
    "licence",
    "user",
    "number",
    "keep_number",
    "outcome",
    "reason",
    "ticket",
    "command",
    "run_dir",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip history` (the command tree lives in myopenip.cli)."""
    parser.description = textwrap.fill(_(DESCRIPTION), width=80, break_on_hyphens=False)
    parser.epilog = epilog("history")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--number", metavar="N", help=_("this number, in any format (+33 2 31 45 67 89)")
    )
    parser.add_argument("--licence", metavar=_("REF"), help=_("this licence (FPC367128)"))
    parser.add_argument("--service", metavar=_("REF"), help=_("this service (SRV-10021)"))
    parser.add_argument(
        "--client",
        metavar=_("NAME"),
        help=_("clients whose name or « Compte client » holds it (case and accents aside)"),
    )
    parser.add_argument("--ticket", metavar="T", help=_("this ticket (INC-1001)"))
    parser.add_argument(
        "--user",
        metavar=_("NAME"),
        help=_("the licences of this user, whole name (case, accents and word order aside)"),
    )
    parser.add_argument(
        "--since",
        metavar=_("DATE"),
        help=_("from this day (YYYY-MM-DD, local) or ISO date and time"),
    )
    parser.add_argument(
        "--until", metavar=_("DATE"), help=_("up to this day, included, or ISO date and time")
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help=_("every entry, not only the last word of each run on each licence"),
    )
    parser.add_argument(
        "--every-portal",
        action="store_true",
        help=_("every portal's entries, not only this one's"),
    )
    parser.add_argument(
        "--limit",
        metavar="N",
        type=_positive,
        help=_("the N newest (the table: %(limit)s unless given; JSON and CSV: all)")
        % {"limit": TABLE_LIMIT},
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=_("print the entries as JSON"))
    output.add_argument(
        "--csv", action="store_true", help=_("print the entries as CSV (a spreadsheet's « ; »)")
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a whole number") % {"text": text}
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(_("%(text)r: at least 1") % {"text": text})
    return value


def build_query(args: argparse.Namespace, portal: str | None) -> Query:
    """The arguments as a ledger query; UsageError names the option at fault."""
    texts: dict[str, str | None] = {}
    for option in ("licence", "service", "client", "ticket", "user"):
        value = getattr(args, option)
        if value is not None and not value.strip():
            raise usage_error(N_("--%(option)s is empty"), option=option)
        texts[option] = value.strip() if value is not None else None
    since = ledgers.moment_argument(args.since, "--since") if args.since else None
    until = ledgers.moment_argument(args.until, "--until", end=True) if args.until else None
    if since and until and since >= until:
        raise usage_error(
            N_("--since %(since)s is not before --until %(until)s"),
            since=args.since,
            until=args.until,
        )
    return Query(
        number=number_argument(args.number) if args.number else None,
        since=since,
        until=until,
        portal=portal,
        **texts,
    )


def run(args: argparse.Namespace) -> int:
    """`myopenip history`, once its arguments are parsed; returns the exit code."""
    return ledgers.run(
        args, "history", _run, check=lambda a: build_query(a, None), empty={"entries": []}
    )


def _run(reading: ledgers.Reading) -> int:
    args = reading.args
    found = reading.ledger.entries(build_query(args, reading.portal), every=args.all)
    if args.json:
        shown = found[: args.limit] if args.limit else found
        print(json_text(document(reading, shown)))
    elif args.csv:
        shown = found[: args.limit] if args.limit else found
        print(ledgers.csv_text(HEADER, (_csv_row(entry) for entry in shown)), end="")
    else:
        _print(reading, found, args.limit or TABLE_LIMIT)
    return ExitCode.OK


def entry_json(entry: Entry) -> dict[str, Any]:
    """An entry as the JSON documents write it (docs/json.md): texts visible (`\\x1b`)."""
    return ledgers.visible_texts(
        {
            "at": entry.at,
            "os_user": entry.os_user,
            "host": entry.host,
            "portal_user": entry.portal_user,
            "portal": entry.portal,
            "client": entry.client,
            "account": entry.account,
            "service": entry.service,
            "licence": entry.licence,
            "user": entry.user,
            "number": documents.number(entry.number),
            "keep_number": entry.keep_number,
            "outcome": entry.outcome,
            "reason": entry.reason or None,
            "ticket": entry.ticket,
            "command": entry.command,
            "run_dir": entry.run_dir or None,
        }
    )


def document(reading: ledgers.Reading, entries: list[Entry]) -> dict[str, Any]:
    return {
        **ledgers.document("history", reading.ledger, ExitCode.OK),
        "entries": [entry_json(entry) for entry in entries],
    }


def keep_text(keep: bool | None) -> str:
    """Whether the number was kept, as a person reads it."""
    return {True: _("keep"), False: _("release"), None: "—"}[keep]


def _csv_row(entry: Entry) -> list[object]:
    keep = {True: "oui", False: "non", None: ""}[entry.keep_number]
    data = entry_json(entry)
    return [keep if name == "keep_number" else data[name] for name in HEADER]


def _print(reading: ledgers.Reading, found: list[Entry], limit: int) -> None:
    out, args = reading.out, reading.args
    if not found:
        if reading.portal is None:
            nothing = _("Nothing in the ledger %(ledger)s matches.")
        else:
            nothing = _("Nothing in the ledger %(ledger)s matches for %(portal)s.")
        said = nothing % {"ledger": reading.ledger.name, "portal": reading.portal}
        out.print(plain(said), soft_wrap=False)
        if reading.portal is not None:
            others = len(reading.ledger.entries(build_query(args, None), every=args.all))
            if others:
                out.print(
                    plain(
                        ngettext(
                            "%(count)s on other portals than %(portal)s (MYOPENIP_BASE_URL): "
                            "--every-portal shows it.",
                            "%(count)s on other portals than %(portal)s (MYOPENIP_BASE_URL): "
                            "--every-portal shows them.",
                            others,
                        )
                        % {"count": others, "portal": reading.portal}
                    ),
                    soft_wrap=False,
                )
        return
    shown = found[:limit]
    out.print(table(shown, every_portal=reading.portal is None))
    counts = {"shown": len(shown), "count": len(found)}
    if len(found) > len(shown):
        if args.all:
            said = _(
                "The %(shown)s newest of %(count)s entries; --limit N shows more (--json and "
                "--csv show all)."
            )
        else:
            said = _(
                "The %(shown)s newest of %(count)s actions; --limit N shows more (--json and "
                "--csv show all)."
            )
    elif args.all:
        said = ngettext("1 entry.", "%(count)s entries, newest first.", len(found))
    else:
        said = ngettext("1 action.", "%(count)s actions, newest first.", len(found))
    out.print(plain(said % counts), soft_wrap=False)


# The ledger's outcomes in French (the JSON and CSV keep the codes; English shows the
# codes themselves, as it always has: "done", "submitting"); a dissociation's: wording's.
_LEDGER_OUTCOMES = {
    SUBMITTING: N_("submitting"),
    TERMINATED: N_("terminated"),
}


def entry_outcome(code: str) -> str:
    """A ledger entry's outcome (done, submitting, terminated, …) as a person reads it."""
    if language() != "fr":
        return code.replace("_", " ")
    if code in _LEDGER_OUTCOMES:
        return _(_LEDGER_OUTCOMES[code])
    return outcome_word(code)


def table(entries: list[Entry], *, every_portal: bool = False) -> Table:
    """The entries for a person, readable at 80 columns: four columns of stacked lines
    (when and who; number, licence and ticket; client, service and the run's reason, when
    it says more than the outcome; keep or release and the outcome)."""
    table = Table(title=_("History"), title_justify="left", show_lines=True)
    table.add_column(_("When\nwho"), overflow="fold", min_width=10, max_width=12)
    table.add_column(_("Number\nlicence\nticket"), overflow="fold", min_width=14, max_width=18)
    table.add_column(_("Client\nservice\nreason"), overflow="fold", ratio=1, min_width=16)
    table.add_column(_("Action\noutcome"), no_wrap=True)
    for entry in entries:
        who = entry.os_user + (f" / {entry.portal_user}" if entry.portal_user else "")
        service = entry.service + (f" · {entry.portal}" if every_portal else "")
        client = [plain(entry.client or entry.account or "—", width=ledgers.CLIENT_TEXT)]
        client.append(plain(service or "—", style="bold"))
        outcome = entry.outcome.replace("_", " ")
        if entry.reason and entry.reason.replace("_", " ") != outcome:
            client.append(plain(numbers_whole(reason_text(entry.reason)), style="italic"))
        outcome = entry_outcome(entry.outcome)
        when = ledgers.shown_time(entry.at)  # wraps at its words in the narrow column
        table.add_row(
            Text("\n").join([plain(when), plain(who, width=ledgers.CLIENT_TEXT)]),
            Text("\n").join(
                plain(value or "—")
                for value in (documents.number(entry.number), entry.licence, entry.ticket)
            ),
            Text("\n").join(client),
            Text("\n").join([plain(keep_text(entry.keep_number)), plain(outcome)]),
        )
    return table
