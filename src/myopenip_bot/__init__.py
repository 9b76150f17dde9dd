"""The MyOpenIP dissociation bot: drives the portal's web UI like a person, with guards.

The public surface, for jobs that call the bot from Python rather than the command line:
`run_dissociation(settings, request)` runs one request end to end (browser, saved login,
artifacts); `Runner` is the plan/act/verify workflow on a Playwright page you provide.
"""

from myopenip_bot.errors import (
    AuthenticationError,
    BotError,
    BusinessError,
    SettingsError,
    TechnicalError,
    UsageError,
)
from myopenip_bot.models import (
    DissociationRequest,
    LicenceResult,
    Outcome,
    RunResult,
    Target,
    normalize_number,
)
from myopenip_bot.run import run_dissociation
from myopenip_bot.selectors import Selectors, load_selectors
from myopenip_bot.settings import Settings, load_settings
from myopenip_bot.workflow import Runner

__all__ = [
    "AuthenticationError",
    "BotError",
    "BusinessError",
    "DissociationRequest",
    "LicenceResult",
    "Outcome",
    "RunResult",
    "Runner",
    "Selectors",
    "Settings",
    "SettingsError",
    "Target",
    "TechnicalError",
    "UsageError",
    "load_selectors",
    "load_settings",
    "normalize_number",
    "run_dissociation",
]
