"""What every command's output shares: the checks of an argument people type (a number,
a ref) and the pieces of the JSON documents (docs/json.md: schema version, errors, a
service, a number in its one canonical format)."""

from __future__ import annotations

from typing import Any

from myopenip_bot.errors import UsageError
from myopenip_bot.i18n import N_
from myopenip_bot.models import ServiceInfo, format_number, normalize_number, ticket_problem
from myopenip_bot.wording import usage_error

__all__ = [
    "SCHEMA_VERSION",
    "error",
    "number",
    "number_argument",
    "service",
    "ticket_argument",
]

SCHEMA_VERSION = 1


def number_argument(value: str, option: str = "--number") -> str:
    """A number as typed on the command line, as ten digits; UsageError naming it."""
    try:
        return normalize_number(value)
    except ValueError:
        raise usage_error(
            N_(
                "%(option)s %(value)r: not a French ten-digit number "
                "(0231456789, 02 31 45 67 89 or +33 2 31 45 67 89)"
            ),
            option=option,
            value=value,
        ) from None


def ticket_argument(value: str, option: str = "--ticket") -> str:
    """A ticket as typed (INC-1001, "CHG 42"): stripped, printable, at most TICKET_MAX
    characters; UsageError naming it."""
    problem = ticket_problem(value.strip())
    if problem is not None:
        raise UsageError(f"{option} {value[:40]!r}: {problem}")
    return value.strip()


def number(digits: str | None) -> str | None:
    """A number in the one format of every file the bot writes: "02 31 45 67 89"."""
    return format_number(digits) if digits else None


def service(info: ServiceInfo | None) -> dict[str, Any] | None:
    """A service as the services list showed it."""
    if info is None:
        return None
    return {
        "service": info.ref,
        "name": info.name,
        "client": info.client,
        "account": info.account,
        "site": info.site,
        "type": info.type,
        "state": info.state,
    }


def error(kind: str, type_name: str, message: str) -> dict[str, str]:
    """The error a run stopped on: its kind (what decides the exit code), class, words."""
    return {"kind": kind, "type": type_name, "message": message}
