"""What `myopenip history` and `myopenip numbers` share: the ledger of the settings,
opened without the portal (no login, no browser, no Playwright imported); how they
stop on a signal, fail and print; the dates people type; and the CSV a spreadsheet opens
as text.

    run(args, "history", body)   settings read, the ledger opened, `body(Reading)` run;
                                 a bad setting exits 2, a ledger that fails 9, Ctrl-C 130
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import FrameType
from typing import Any

from rich.console import Console

from myopenip import documents
from myopenip.documents import SCHEMA_VERSION
from myopenip.exitcodes import ExitCode
from myopenip.terminal import plain, say_error
from myopenip_bot.config.settings import Settings, load_settings
from myopenip_bot.errors import BotError, UsageError, error_kind, signal_name
from myopenip_bot.i18n import N_, _, format_datetime
from myopenip_bot.ledger import (
    Ledger,
    LedgerError,
    LedgerMissingError,
    at_text,
    default_ledger_path,
    open_ledger,
    portal_key,
)
from myopenip_bot.models import ErrorKind
from myopenip_bot.text import csv_row, json_text, visible
from myopenip_bot.wording import error_lines, reason_text, usage_error

__all__ = [
    "CLIENT_TEXT",
    "Reading",
    "csv_text",
    "local_time",
    "moment_argument",
    "run",
    "shown_time",
    "visible_texts",
]

# How much of a client's name (or a user's) a table shows (JSON and CSV keep it whole).
CLIENT_TEXT = 100


@dataclass
class Reading:
    """One run of `history` or `numbers`: its arguments, the ledger, the consoles."""

    args: argparse.Namespace
    settings: Settings
    ledger: Ledger
    portal: str | None  # portal_key() of MYOPENIP_BASE_URL; None with --every-portal
    out: Console
    err: Console
    signals: _Signals


class _Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised where the command is (a read has nothing to leave at a
    safe point); a KeyboardInterrupt, so that no `except Exception` below takes it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """SIGINT and SIGTERM stop the command at once, except inside `holding()` (the one
    write of `numbers --terminated`): there a signal waits for the write to end."""

    def __init__(self) -> None:
        self._holding = False
        self._pending: int | None = None

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # in-process callers off the main thread keep their own handlers
            return
        before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in before:
            signal.signal(sig, self._handle)
        try:
            yield
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    @contextmanager
    def holding(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending is not None:
            raise _Stopped(self._pending)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending = signum
            return
        raise _Stopped(signum)


def run(
    args: argparse.Namespace,
    command: str,
    body: Callable[[Reading], int],
    *,
    check: Callable[[argparse.Namespace], object] | None = None,
    empty: dict[str, Any] | None = None,
) -> int:
    """Run `body` over the ledger of the settings; returns the exit code. `check` looks at
    the arguments first (UsageError naming the option: exit 2); `empty`: the lists of the
    --json document of a run that failed (`{"entries": []}`)."""
    out = Console(soft_wrap=True)
    err = Console(stderr=True)
    signals = _Signals()
    ledger: Ledger | None = None
    with signals.installed():
        try:
            if check is not None:
                check(args)
            settings = load_settings()
            # A portal named (MYOPENIP_BASE_URL): its entries; none named (billing's
            # machine, say): every portal's, rather than the replica's default URL's.
            named = "base_url" in settings.model_fields_set
            portal = portal_key(settings.base_url) if named and not args.every_portal else None
            where = settings.ledger.get_secret_value() if settings.ledger else None
            try:
                ledger = open_ledger(where, create=False)
            except LedgerMissingError:
                if where or getattr(args, "terminated", None):
                    raise  # a path or a database named that is not there: a typo
                return _nothing_yet(args, command, empty, out)
            try:
                return body(Reading(args, settings, ledger, portal, out, err, signals))
            finally:
                ledger.close()
        except _Stopped as stopped:
            err.print(
                plain(_("Interrupted by %(signal)s.") % {"signal": signal_name(stopped.signum)})
            )
            code = ExitCode.INTERRUPTED + stopped.signum
            _fail_json(args, command, empty, ledger, code, None, stopped.signum)
            return code
        except LedgerError as error:
            say_error(err, _ledger_error_lines(error))
            _fail_json(args, command, empty, ledger, ExitCode.LEDGER_FAILED, error)
            return ExitCode.LEDGER_FAILED
        except BotError as error:
            say_error(err, _error_lines(error))
            code = ExitCode.USAGE if isinstance(error, UsageError) else ExitCode.REFUSED
            _fail_json(args, command, empty, ledger, code, error)
            return code


def _ledger_error_lines(error: LedgerError) -> list[str]:
    """A ledger that could not be used, as a person reads it: what, and what to do."""
    message = reason_text(str(error))
    if message and message[-1] not in ".!?:»":
        message += "."
    return [
        _("The ledger could not be used: %(error)s") % {"error": message},
        _("Check MYOPENIP_LEDGER (unset: this user's own ledger), then run the command again."),
    ]


def _error_lines(error: BotError) -> list[str]:
    """History's and numbers' other errors (no portal is asked): a usage error and what
    to do; a refusal (a number not on billing's list) says itself why."""
    kind = error_kind(error)
    lines = error_lines(error, kind, changed=None)
    return lines if kind is ErrorKind.USAGE else lines[:1]


def _nothing_yet(
    args: argparse.Namespace, command: str, empty: dict[str, Any] | None, out: Console
) -> int:
    """The user's own ledger does not exist yet: no action was ever recorded by this user
    on this machine (nothing is created by reading)."""
    if getattr(args, "json", False):
        payload = document(command, None, ExitCode.OK)
        payload.update(empty or {})
        print(json_text(payload))
    elif not getattr(args, "csv", False):
        out.print(
            plain(
                _(
                    "Nothing recorded yet: no ledger at %(path)s (no action by this user on "
                    "this machine; a team's ledger: MYOPENIP_LEDGER)."
                )
                % {"path": default_ledger_path()}
            )
        )
    return ExitCode.OK


def document(
    command: str,
    ledger: Ledger | None,
    code: int,
    error: BotError | None = None,
    signum: int | None = None,
) -> dict[str, Any]:
    """The head of `history`'s and `numbers`' JSON documents (docs/json.md)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "exit_code": int(code),
        "error": documents.error(error_kind(error).value, type(error).__name__, str(error))
        if error is not None
        else None,
        "interrupted": signal_name(signum) if signum is not None else None,
        "ledger": ledger.name if ledger is not None else None,
    }


def _fail_json(
    args: argparse.Namespace,
    command: str,
    empty: dict[str, Any] | None,
    ledger: Ledger | None,
    code: int,
    error: BotError | None,
    signum: int | None = None,
) -> None:
    if not getattr(args, "json", False):
        return
    payload = document(command, ledger, code, error, signum)
    payload.update(empty or {})
    print(json_text(payload))


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def moment_argument(text: str, option: str, *, end: bool = False) -> str:
    """A date or moment typed on the command line, as the ledger's `at` bound.

    A day (YYYY-MM-DD) is a local day: from its local midnight, or with `end` up to the
    next one (so that `--until 2026-12-07` holds that whole day). An ISO date and time
    without a zone is local; with `end`, inclusive of that moment. UsageError names the
    option."""
    text = text.strip()
    try:
        if _DAY.fullmatch(text):
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return at_text(datetime.combine(day, time()).astimezone())
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise usage_error(
            N_(
                "%(option)s %(text)r: not a date (2026-12-07) nor an ISO date and time "
                "(2026-12-07T09:30, 2026-12-07T09:30:00+01:00)"
            ),
            option=option,
            text=text,
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the local time of this machine
    if end:
        moment += timedelta(microseconds=1)
    return at_text(moment)


def local_time(at: str, seconds: bool = False) -> str:
    """A ledger's UTC moment as this machine's local time, to the minute
    ("2026-12-07 05:27"); the stored text itself when it is not one."""
    try:
        moment = datetime.fromisoformat(at).astimezone()
    except ValueError:
        return at
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def shown_time(at: str) -> str:
    """A ledger's UTC moment as a table shows it: this machine's local time to the minute,
    its zone named, as report.html writes a date (« 7 déc. 2026 à 14:02 UTC », "7 Dec
    2026, 15:02 CET"); the stored text itself when it is not one."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    return format_datetime(moment.replace(tzinfo=moment.tzinfo or UTC).astimezone())


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV a spreadsheet opens as text, as the report's numbers-to-terminate.csv: a
    BOM (Excel reads it as UTF-8), « ; », CRLF, every cell inert (`csv_row`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(csv_row(row) for row in rows)
    return "\ufeff" + buffer.getvalue()


def visible_texts(item: dict[str, Any]) -> dict[str, Any]:
    """`item` with each text made visible (`\\x1b`, `U+202E`), as every JSON the bot
    writes (docs/json.md): the portal's texts are data."""
    return {key: visible(value) if isinstance(value, str) else value for key, value in item.items()}
