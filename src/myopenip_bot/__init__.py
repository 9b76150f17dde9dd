"""The MyOpenIP dissociation bot: drives the portal's web UI like a person, with guards.

The public surface, for jobs that call the bot from Python rather than the command line:
`run_dissociation(settings, request)` runs one request end to end (browser, saved login,
artifacts); `Runner(Portal(page, selectors, settings))` is the plan/act/verify workflow
on a Playwright page you provide; an `Observer` is told what a run does.

The library knows nothing of the terminal (the application, `myopenip`, parses
arguments, prints and exits). Its layers, each importing only those below it:

    dissociation/, batch/, smoke/    what the bot does (runner, journal, checks)
    portal/                          steps under one retry policy, listings
    pages/                           one page object per portal screen
    browser/, config/                Chromium, sessions, artifacts; settings, selectors
    errors, models, text, files,     the shared vocabulary
    interrupts
"""

from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.config.settings import Settings, load_settings
from myopenip_bot.dissociation.observer import Observer
from myopenip_bot.dissociation.run import run_dissociation
from myopenip_bot.dissociation.runner import Runner
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
    LicenceTask,
    Outcome,
    RunResult,
    Target,
    normalize_number,
)
from myopenip_bot.portal.portal import Portal

__all__ = [
    "AuthenticationError",
    "BotError",
    "BusinessError",
    "DissociationRequest",
    "LicenceTask",
    "Observer",
    "Outcome",
    "Portal",
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
