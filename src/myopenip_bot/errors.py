"""The bot's exceptions: business refusals are never retried, technical failures may be.

    BotError
    ├── UsageError                 bad command-line input or settings          (exit 2)
    │   ├── SettingsError          a MYOPENIP_* setting or the selectors file is invalid
    │   └── AuthenticationError    credentials refused or account locked; never retried
    ├── BusinessError              the portal's data refuses the request       (exit 1)
    │   ├── ServiceNotFoundError   no service, or several, match the given ref
    │   ├── LicenceNotFoundError   no licence, or several, match a ref or number
    │   ├── NumberMismatchError    --number is not the licence's current number
    │   └── ReadBackMismatchError  the dialog does not list exactly the plan (cancelled)
    └── TechnicalError             the portal or browser failed: timeout, 5xx  (exit 3)
        ├── BrowserNotFoundError   no Chromium to launch
        └── SessionExpiredError    the login page showed mid-run (the runner logs in again)

Exit 0 means every licence is done or already done; exit 2 matches argparse's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
    """A setting or the selectors file is invalid; the message names it."""


class BusinessError(BotError):
    """The portal's data refuses the request; retrying would not help."""


class ServiceNotFoundError(BusinessError):
    """No service, or more than one, has the given ref."""


class LicenceNotFoundError(BusinessError):
    """No licence, or more than one, matches the given ref or number."""


class NumberMismatchError(BusinessError):
    """The number given does not match the licence's current number."""


class ReadBackMismatchError(BusinessError):
    """The dissociation dialog does not list exactly the planned numbers."""


class AuthenticationError(UsageError):
    """The portal refused the credentials or the account is locked; never retried."""


class TechnicalError(BotError):
    """The portal or the browser failed (timeout, HTTP 5xx, unreachable); may be retried."""


class BrowserNotFoundError(TechnicalError):
    """No usable Chromium was found."""


class SessionExpiredError(TechnicalError):
    """The portal showed its login page mid-run; the runner logs in again and redoes the step."""
