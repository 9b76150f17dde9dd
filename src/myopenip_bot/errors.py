"""The bot's exceptions: business refusals are never retried, technical failures may be.

    BotError
    ├── UsageError                 bad command-line input or settings          (exit 2)
    │   ├── SettingsError          a setting, the selectors file, a folder or the browser
    │   │   └── BrowserNotFoundError   no Chromium to launch
    │   └── AuthenticationError    credentials refused or account locked; never retried
    ├── BusinessError              the portal's data refuses the request; never retried (exit 1)
    │   ├── ServiceNotFoundError   no service, or several, match the given ref
    │   ├── ServiceNotActiveError  the service's state is not « Actif »: nothing can change
    │   ├── LicenceNotFoundError   no licence, or several, match a ref or number
    │   ├── NumberMismatchError    --number is not the licence's current number
    │   ├── PlanRefusedError       a licence of the request refused: nothing done
    │   └── ReadBackMismatchError  the dialog does not list exactly the plan (cancelled)
    ├── DriftError                 the portal does not show a control or text where
    │                              selectors/ says it is; never retried        (exit 1)
    ├── TechnicalError             the portal or browser failed: timeout, 5xx; retried
    │                              under the retry policy (portal.retry)        (exit 3)
    │   ├── TransientError         one request failed (5xx, network): may be sent again
    │   ├── BrowserFailure         Playwright itself failed (timeout, browser gone, net::ERR_…),
    │   │                          translated by `myopenip_bot.failures`, the one map
    │   └── SessionExpiredError    the login page showed mid-run (the runner logs in again)
    └── Interrupted                SIGINT / SIGTERM: the run stopped at a safe point (128 + N)

`myopenip_bot.dissociation.results.exit_code` turns a run's outcomes into the process exit code.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from myopenip_bot.models import ErrorKind

if TYPE_CHECKING:
    from myopenip_bot.models import RunResult


class BotError(Exception):
    """Base of every error the bot raises on purpose."""

    #: the run folder (traces, screenshots) of the run that failed, when one was kept
    run_dir: Path | None = None
    #: what the run had established when it stopped (per-licence outcomes), when it had begun
    result: RunResult | None = None


class UsageError(BotError):
    """Bad command-line input."""


class SettingsError(UsageError):
    """A setting, the selectors file, a folder or the browser is unusable; the message names it."""


class BrowserNotFoundError(SettingsError):
    """No usable Chromium was found."""


class AuthenticationError(UsageError):
    """The portal refused the credentials or the account is locked; never retried."""


class BusinessError(BotError):
    """The portal's data refuses the request; retrying would not help."""


class ServiceNotFoundError(BusinessError):
    """No service, or more than one, has the given ref."""


class ServiceNotActiveError(BusinessError):
    """The service is « Suspendu », « Résilié » or any state but « Actif »."""


class LicenceNotFoundError(BusinessError):
    """No licence, or more than one, matches the given ref or number."""


class NumberMismatchError(BusinessError):
    """The number given does not match the licence's current number."""


class PlanRefusedError(BusinessError):
    """A licence of a person's request was refused when planning: nothing is done (all or
    nothing); the run reports it rather than raising it."""


class ReadBackMismatchError(BusinessError):
    """The dissociation dialog does not list exactly the planned numbers."""


class DriftError(BotError):
    """The page has settled without a control the selectors name: the portal differs from
    selectors/ (`myopenip smoke` says how). Neither business nor technical: never retried,
    and a batch stops at once. `key` is the selectors entry (e.g. "dialog.submit")."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}")


class TechnicalError(BotError):
    """The portal or the browser failed (timeout, HTTP 5xx, unreachable); may be retried."""


class TransientError(TechnicalError):
    """One request got a 5xx, 408 or 429, or no answer at all: sending it again may work."""


class BrowserFailure(TechnicalError):
    """Playwright failed: a timeout, a page or browser gone, a network error. Raised only by
    `myopenip_bot.failures`, which holds the one map from Playwright's errors to this one;
    `why` is the first line of Playwright's message, `timed_out` whether it was a timeout,
    `step` what the bot was doing, when the code that called Playwright said it."""

    def __init__(
        self, message: str, *, why: str, step: str | None = None, timed_out: bool = False
    ) -> None:
        self.why = why
        self.step = step
        self.timed_out = timed_out
        super().__init__(message)


class SessionExpiredError(TechnicalError):
    """The portal showed its login page mid-run; the runner logs in again and redoes the step."""


class Interrupted(BotError):
    """A signal (SIGINT, SIGTERM) asked the run to stop; it stopped at a safe point."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal_name(signum)}")


def signal_name(signum: int) -> str:
    """ "SIGTERM" for 15; the number itself for a signal Python does not name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def first_line(error: BaseException | str) -> str:
    """The first non-empty line of an error's message (Playwright's carry a call log)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if lines:
        return lines[0]
    return type(error).__name__ if isinstance(error, BaseException) else "no reason given"


# Chromium's network errors (net::ERR_…), as a person would say them; the code stays at
# the end of the message, for whoever searches it.
_NET_ERROR = re.compile(r"net::(ERR_[A-Z0-9_]+)(?: at (\S+))?")
_NET_WORDS = {
    "ERR_CONNECTION_REFUSED": "nothing answers there (is the portal up, and the URL right?)",
    "ERR_NAME_NOT_RESOLVED": "its host name is not known (check the URL, or the DNS)",
    "ERR_NAME_RESOLUTION_FAILED": "its host name could not be looked up (DNS)",
    "ERR_ADDRESS_UNREACHABLE": "the address cannot be reached from this machine",
    "ERR_ADDRESS_INVALID": "the address is not valid (check the URL)",
    "ERR_INTERNET_DISCONNECTED": "this machine has no network",
    "ERR_CONNECTION_TIMED_OUT": "it did not answer in time",
    "ERR_TIMED_OUT": "it did not answer in time",
    "ERR_CONNECTION_RESET": "the connection was cut",
    "ERR_CONNECTION_CLOSED": "the connection was closed before an answer",
    "ERR_EMPTY_RESPONSE": "it closed the connection without an answer",
    "ERR_UNSAFE_PORT": "the browser refuses to use that port (check the URL's port)",
    "ERR_PROXY_CONNECTION_FAILED": "the proxy does not answer",
    "ERR_TOO_MANY_REDIRECTS": "it redirects in a loop",
}


def network_failure(message: str, *, where: bool = True) -> str | None:
    """What a browser's network error means, in words ("cannot reach URL: nothing answers
    there … (net::ERR_CONNECTION_REFUSED)"; without `where`, from "nothing" on), or None
    when `message` holds none."""
    match = _NET_ERROR.search(message)
    if match is None:
        return None
    code, url = match.group(1), match.group(2)
    if code.startswith(("ERR_CERT_", "ERR_SSL_")):
        words = "its certificate or TLS set-up is not accepted"
    else:
        words = _NET_WORDS.get(code, "the browser could not load it")
    said = f"{words} (net::{code})"
    return f"cannot reach {url or 'the portal'}: {said}" if where else said


def error_kind(error: BotError) -> ErrorKind:
    """The kind of a run-level failure, which decides the exit code."""
    if isinstance(error, AuthenticationError):
        return ErrorKind.AUTHENTICATION
    if isinstance(error, UsageError):
        return ErrorKind.USAGE
    if isinstance(error, BusinessError):
        return ErrorKind.BUSINESS
    if isinstance(error, DriftError):
        return ErrorKind.DRIFT
    return ErrorKind.TECHNICAL
