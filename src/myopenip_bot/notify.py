"""Telling a person how a run ended: one message, sent with Apprise to MYOPENIP_NOTIFY.

The application gives plain data (a `Notice`: the command, its exit code and what it
means, counts by outcome, the report's folder, the portal); `message` makes the title
and body, `send` delivers them. Never a secret: the notify URLs may hold tokens and
passwords, so they are never logged or shown (only their schemes: "json", "mailto");
the portal's address loses any credentials; portal texts are data (made `visible`).
A notification that fails is logged (`notification_failed`) and changes nothing else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import structlog

from myopenip_bot.text import visible

if TYPE_CHECKING:
    from apprise import Apprise

    from myopenip_bot.config.settings import Settings

__all__ = [
    "Notice",
    "NotifyOn",
    "check_urls",
    "meaning_of",
    "message",
    "schemes",
    "send",
    "should_send",
    "split_urls",
    "tell",
]

log = structlog.get_logger(__name__)

# Seconds Apprise may wait for a receiver to connect, then to answer: a nightly job's
# last step must not hang on a mail server or a webhook that is down.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
# A message stays readable: the first words of a long error, never a whole page.
_DETAIL_WIDTH = 500
_SPLIT = re.compile(r"[\s,]+")


class NotifyOn(StrEnum):
    ALWAYS = "always"
    PROBLEMS = "problems"  # any exit code but 0


@dataclass(frozen=True)
class Notice:
    """How a run ended, as plain data: what the message says."""

    command: str  # "batch", "smoke", …
    exit_code: int
    meaning: str  # the exit code's meaning (myopenip.exitcodes.MEANINGS)
    counts: Mapping[str, int] = field(default_factory=dict)  # rows (checks) by outcome
    folder: str | None = None  # the report or run folder
    portal: str | None = None  # the portal's address
    subject: str | None = None  # what the run worked on: the batch file, a service
    subject_label: str = "File"
    detail: str | None = None  # the error that stopped the run, its first line


def split_urls(text: str) -> list[str]:
    """The Apprise URLs of MYOPENIP_NOTIFY: separated by spaces or commas."""
    return [url for url in _SPLIT.split(text) if url]


def schemes(urls: Sequence[str]) -> list[str]:
    """What may be said of the URLs: their schemes, each once ("json", "mailto")."""
    found: list[str] = []
    for url in urls:
        scheme = url.split("://", 1)[0].lower() if "://" in url else "?"
        if scheme not in found:
            found.append(scheme)
    return found


def check_urls(urls: Sequence[str]) -> None:
    """Raise ValueError naming each URL Apprise cannot use, by its position and
    scheme only (a URL may hold a token)."""
    import apprise

    bad = [
        f"the {_ordinal(n)} ({schemes([url])[0]}://…)"
        for n, url in enumerate(urls, 1)
        if apprise.Apprise.instantiate(url) is None
    ]
    if bad:
        raise ValueError(
            f"not an Apprise URL: {', '.join(bad)} (see https://github.com/caronc/apprise/wiki)"
        )


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def should_send(on: NotifyOn, exit_code: int) -> bool:
    """Whether a run that ended with `exit_code` is told (`problems`: any code but 0)."""
    return on is NotifyOn.ALWAYS or exit_code != 0


def meaning_of(meanings: Sequence[tuple[str, str]], exit_code: int) -> str:
    """The meaning of `exit_code` in a command's table of MEANINGS (a signal's code,
    128 + its number, is the row "130/143")."""
    for codes, meaning in meanings:
        if str(exit_code) in codes.split("/") or (exit_code > 128 and "/" in codes):
            return meaning
    return "an exit code this command does not document"


def message(notice: Notice) -> tuple[str, str]:
    """The title and plain-text body of the notification."""
    what = "nothing to report" if notice.exit_code == 0 else _first_words(notice.meaning, 60)
    title = f"myopenip {notice.command}: exit {notice.exit_code} — {what}"
    lines = [f"Exit code {notice.exit_code}: {_clean(notice.meaning)}"]
    if notice.counts:
        counts = ", ".join(
            f"{_clean(str(outcome)).replace('_', ' ')}: {count}"
            for outcome, count in notice.counts.items()
        )
        lines.append(f"Counts: {counts} (total {sum(notice.counts.values())})")
    if notice.subject:
        lines.append(f"{notice.subject_label}: {_clean(notice.subject)}")
    if notice.detail:
        lines.append(f"Error: {_clean(notice.detail)[:_DETAIL_WIDTH]}")
    if notice.folder:
        lines.append(f"Report: {_clean(notice.folder)}")
    if notice.portal:
        lines.append(f"Portal: {_clean(without_credentials(notice.portal))}")
    return _clean(title), "\n".join(lines)


def without_credentials(url: str) -> str:
    """`url` without a user, a password, a query or a fragment (where tokens hide)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an address that could not be read)"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def _first_words(text: str, width: int) -> str:
    text = _clean(text)
    first = re.split(r"[:;(]", text, maxsplit=1)[0].strip()
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


def _clean(text: str) -> str:
    return visible(" ".join(text.split()))


def send(urls: Sequence[str], notice: Notice, *, on: NotifyOn = NotifyOn.PROBLEMS) -> bool:
    """Send `notice` to every URL if `on` says so; True if it was sent to all of them.

    Never raises: a receiver that is down or slow is a `notification_failed` warning,
    which leaves the run's exit code as it was.
    """
    if not urls or not should_send(on, notice.exit_code):
        return False
    told = schemes(urls)
    title, body = message(notice)
    try:
        with _apprise_quiet():
            sent = bool(
                _apprise(urls).notify(
                    title=title,
                    body=body,
                    body_format="text",
                    notify_type="success" if notice.exit_code == 0 else "failure",
                )
            )
    except Exception as error:  # Apprise's plugins raise what their libraries raise
        log.warning(
            "notification_failed",
            schemes=told,
            exit_code=notice.exit_code,
            error=type(error).__name__,
        )
        return False
    if not sent:
        log.warning(
            "notification_failed",
            schemes=told,
            exit_code=notice.exit_code,
            error="a receiver did not accept the message (down, refused or timed out)",
        )
        return False
    log.info("notification_sent", schemes=told, exit_code=notice.exit_code)
    return True


def tell(settings: Settings | None, notice: Notice) -> None:
    """Send `notice` as the settings say (MYOPENIP_NOTIFY, MYOPENIP_NOTIFY_ON); nothing
    when the settings could not be read (no URL is known then)."""
    if settings is not None:
        send(settings.notify_urls, notice, on=settings.notify_on)


def _apprise(urls: Sequence[str]) -> Apprise:
    import apprise

    asset = apprise.AppriseAsset(async_mode=False)
    sender = apprise.Apprise(asset=asset)
    for url in urls:
        plugin: Any = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:
            continue  # settings checked it at start-up; a plugin gone since: not sent
        plugin.socket_connect_timeout = CONNECT_TIMEOUT
        plugin.socket_read_timeout = READ_TIMEOUT
        sender.add(plugin)
    return sender


@contextmanager
def _apprise_quiet() -> Iterator[None]:
    """Apprise's own log lines name hosts, and at debug level whole URLs: not ours to
    show. Its logger is silenced while it sends; `send` logs the outcome itself."""
    logger = logging.getLogger("apprise")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate
