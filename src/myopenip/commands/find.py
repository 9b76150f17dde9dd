"""`myopenip find`: answer read-only questions — a client's services, a service's licences,
who holds a number — as a table, JSON, or a batch file to fill in."""

from __future__ import annotations

import argparse
import csv
import io
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from myopenip import documents, startup
from myopenip.documents import SCHEMA_VERSION, number_argument
from myopenip.exitcodes import ExitCode, epilog
from myopenip.terminal import Steps, drift_hint, plain, say_error
from myopenip_bot.errors import BotError, Interrupted, error_kind, signal_name
from myopenip_bot.i18n import N_, _, ngettext
from myopenip_bot.models import service_ref_problem
from myopenip_bot.text import csv_row, json_text
from myopenip_bot.wording import error_lines, usage_error

if TYPE_CHECKING:
    from myopenip_bot.lookup.rules import ListedLicence
    from myopenip_bot.lookup.run import FindQuery, FindResult

__all__ = ["add_arguments", "build_query", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `myopenip find` (the command tree lives in myopenip.cli)."""
    parser.description = textwrap.fill(
        _(
            "Look things up on the portal, read-only (nothing can be changed: no dialog is "
            "ever opened, and any request that is not a read is aborted). --client lists the "
            "client's services (by name, or « Compte client » CC-…); with --number, --licence, "
            "--with-number or --user, the licences of its MetaCentrex services that match. "
            "--service lists a service's licences, both tabs, with number, type, user, site "
            "and state. --number alone finds who holds a number: every MetaCentrex service "
            "« Actif » of the list searched, up to its holder. --csv writes them as a batch "
            "file with keep_number left empty: decide oui or non per row, then give it to "
            "`myopenip batch`."
        ),
        width=80,
    )
    parser.epilog = epilog("find")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--client", metavar=_("NAME"), help=_("client name, or CC-… account"))
    parser.add_argument(
        "--service",
        metavar=_("REF"),
        help=_("the service's ref, as the portal shows it (SRV-10021)"),
    )
    parser.add_argument(
        "--number",
        metavar="SDA",
        help=_(
            "only the licence holding it; alone: searched in every MetaCentrex service « Actif »"
        ),
    )
    parser.add_argument(
        "--licence", metavar=_("REF"), help=_("only this licence (or refs so starting)")
    )
    parser.add_argument("--with-number", action="store_true", help=_("only licences with a number"))
    parser.add_argument(
        "--user", metavar=_("TEXT"), help=_("only licences whose user's name holds it")
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=_("print the answer as JSON"))
    output.add_argument(
        "--csv",
        action="store_true",
        help=_("print the licences as a batch file (keep_number empty)"),
    )
    parser.add_argument("--headed", action="store_true", help=_("show the browser window"))
    startup.add_retry_login(parser)


def build_query(args: argparse.Namespace) -> FindQuery:
    """Check the arguments and turn them into a query; UsageError names the culprit."""
    from myopenip_bot.lookup.rules import LicenceFilter
    from myopenip_bot.lookup.run import FindQuery

    for option, value in (("--client", args.client), ("--service", args.service)):
        if value is not None and not value.strip():
            raise usage_error(N_("%(option)s is empty"), option=option)
    if args.client and args.service:
        raise usage_error(N_("give --client NAME (or CC-…) or --service REF, one of them"))
    if not (args.client or args.service or args.number):
        raise usage_error(
            N_(
                "give --client NAME (or CC-…) or --service REF, or --number SDA alone "
                "(who holds it)"
            )
        )
    number = number_argument(args.number) if args.number else None
    if args.service is not None and (problem := service_ref_problem(args.service.strip())):
        raise usage_error(
            N_("%(option)s %(value)r %(problem)s"),
            option="--service",
            value=args.service,
            problem=problem,
        )
    licence = args.licence.strip().upper() if args.licence else None
    if licence is not None and not (licence.isascii() and licence.isalnum()):
        raise usage_error(
            N_("%(option)s %(value)r: a ref is ASCII letters and digits"),
            option="--licence",
            value=args.licence,
        )
    return FindQuery(
        client=args.client.strip() if args.client else None,
        service=args.service.strip() if args.service else None,
        licences=LicenceFilter(
            with_number=args.with_number,
            number=number,
            licence=licence,
            user=args.user.strip() if args.user else None,
        ),
    )


def run(args: argparse.Namespace) -> int:
    """`myopenip find`, once its arguments are parsed; returns the exit code."""
    return startup.run(_run, args)


def _run(command: startup.Command) -> int:
    from myopenip_bot.lookup.run import run_find

    args, err = command.args, command.err
    try:
        query = build_query(args)
        loaded = command.load()
        with Steps(err) as steps:
            result = run_find(
                loaded.settings, loaded.selectors, query, stop=command.stop, on_step=steps.show
            )
    except Interrupted as stopped:
        err.print(
            _("Interrupted by %(signal)s.") % {"signal": signal_name(stopped.signum)},
            highlight=False,
        )
        return _fail(args, stopped, ExitCode.INTERRUPTED + stopped.signum)
    except BotError as error:
        lines = error_lines(error, error_kind(error), changed=False, hint=drift_hint, lookup=True)
        say_error(err, lines)
        kind = error_kind(error).value
        code = ExitCode.REFUSED if kind in ("business", "drift") else ExitCode.USAGE
        code = ExitCode.TECHNICAL if kind == "technical" else code
        return _fail(args, error, code)
    found = (
        bool(result.licences)
        if query.asks_for_licences or query.licences.user
        else bool(result.services)
    )
    code = ExitCode.OK if found else ExitCode.REFUSED
    if not found and query.client is None and query.service is None:
        err.print(plain(_held_by_none(query, result)), soft_wrap=True)
    if args.json:
        print(json_text(document(result, code)))
    elif args.csv:
        print(_csv(result), end="")
    else:
        _print(command.out, result, query)
    return code


def document(result: FindResult, code: int) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "find",
        "exit_code": int(code),
        "error": None,
        "interrupted": None,
        "client": {"name": result.client[0], "account": result.client[1]}
        if result.client
        else None,
        "services": [documents.service(s) for s in result.services],
        "licences": [
            {
                "service": listed.service.ref,
                "licence": listed.licence,
                "number": documents.number(listed.number),
                "tab": listed.tab.value,
                "type": listed.type,
                "user": listed.user,
                "site": listed.site,
                "state": listed.state,
            }
            for listed in result.licences
        ],
    }


def _csv(result: FindResult) -> str:
    """The licences as a batch file: `keep_number` empty, for a person to decide, `user`
    (« Utilisateur », for the person: a batch ignores it), and `ticket` empty, for the
    ticket each row is done for (the ledger's)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["service", "licence", "keep_number", "number", "user", "ticket"])
    for listed in result.licences:
        if listed.number is None:
            continue  # nothing to dissociate
        number = documents.number(listed.number)
        row = [listed.service.ref, listed.licence, "", number, listed.user, ""]
        writer.writerow(csv_row(row))
    return buffer.getvalue()


def _print(out: Console, result: FindResult, query: FindQuery) -> None:
    if result.client:
        out.print(
            plain(
                _("Client %(name)s (%(account)s)")
                % {"name": result.client[0], "account": result.client[1]}
            ),
            style="bold",
        )
    if not (query.asks_for_licences or query.licences.user):
        table = Table(title=_("Services"), title_justify="left")
        table.add_column(_("Service"), no_wrap=True)
        for column in (_("Name"), _("Type"), _("State"), _("Site")):
            table.add_column(column)
        for s in result.services:
            table.add_row(*(plain(v) for v in (s.ref, s.name, s.type, s.state, s.site)))
        out.print(table)
        if not result.services:
            out.print(_("No service found."))
        return
    # At 80 columns no word is cut: the refs, the number and the state stay on one line,
    # the type and the user wrap at words (never narrower than their longest word); what
    # every row shares (the service, the site) is said once in the title: 36 licences of
    # SRV-10021 read one line each at 120 columns, two at 80, not five.
    services = {listed.service.ref for listed in result.licences}
    sites = {listed.site for listed in result.licences}
    title = _("Licences")
    if len(services) == 1:
        title += " " + _("of %(service)s") % {"service": next(iter(services))}
    if len(sites) == 1 and next(iter(sites)):
        title += " " + _("at %(site)s") % {"site": next(iter(sites))}
    table = Table(title=plain(title), title_justify="left")
    columns: list[tuple[str, Callable[[ListedLicence], str]]] = []
    if len(services) > 1:
        columns.append((_("Service"), lambda listed: listed.service.ref))
    columns += [
        (_("Licence"), lambda listed: listed.licence),
        (_("Number"), lambda listed: documents.number(listed.number) or "—"),
        (_("Type"), lambda listed: listed.type),
        (_("User"), lambda listed: listed.user or "—"),
    ]
    if len(sites) > 1:
        columns.append((_("Site"), lambda listed: listed.site))
    columns.append((_("State"), lambda listed: listed.state))
    wrapping = {_("Type"), _("User"), _("Site")}
    for name, cell in columns:
        texts = [cell(listed) for listed in result.licences]
        if name in wrapping:
            longest = max((len(w) for text in texts for w in text.split()), default=1)
            table.add_column(name, min_width=min(longest, 20))
        else:
            table.add_column(name, no_wrap=True)  # refs, numbers, states: read whole
    for listed in result.licences:
        table.add_row(*(plain(cell(listed)) for _, cell in columns))
    out.print(table)
    if not result.licences:
        out.print(_("No licence matches."))


def _held_by_none(query: FindQuery, result: FindResult) -> str:
    """Why a number alone found no licence: no active service lists it, or its holder's
    licence is not one the other filters keep."""
    number = documents.number(query.licences.number)
    if result.services:
        return _("%(number)s is held in %(service)s, by no licence the filters keep.") % {
            "number": number,
            "service": result.services[0].ref,
        }
    return ngettext(
        "No licence holds %(number)s in the %(count)d MetaCentrex service « Actif » searched.",
        "No licence holds %(number)s in the %(count)d MetaCentrex services « Actif » searched.",
        result.searched,
    ) % {"number": number, "count": result.searched}


def _fail(args: argparse.Namespace, error: BotError, code: int) -> int:
    if getattr(args, "json", False):
        payload = {
            "schema_version": SCHEMA_VERSION,
            "command": "find",
            "exit_code": int(code),
            "error": documents.error(error_kind(error).value, type(error).__name__, str(error)),
            "interrupted": signal_name(error.signum) if isinstance(error, Interrupted) else None,
            "client": None,
            "services": [],
            "licences": [],
        }
        print(json_text(payload))
    return int(code)
