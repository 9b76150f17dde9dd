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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each public name lives: imported on first use (PEP 562), so that importing a
# small part of the library (models, errors) does not start Playwright's import.
_HOMES = {
    "AuthenticationError": "myopenip_bot.errors",
    "BotError": "myopenip_bot.errors",
    "BusinessError": "myopenip_bot.errors",
    "SettingsError": "myopenip_bot.errors",
    "TechnicalError": "myopenip_bot.errors",
    "UsageError": "myopenip_bot.errors",
    "DissociationRequest": "myopenip_bot.models",
    "LicenceTask": "myopenip_bot.models",
    "Outcome": "myopenip_bot.models",
    "RunResult": "myopenip_bot.models",
    "Target": "myopenip_bot.models",
    "normalize_number": "myopenip_bot.models",
    "Selectors": "myopenip_bot.config.selectors",
    "load_selectors": "myopenip_bot.config.selectors",
    "Settings": "myopenip_bot.config.settings",
    "load_settings": "myopenip_bot.config.settings",
    "Observer": "myopenip_bot.dissociation.observer",
    "run_dissociation": "myopenip_bot.dissociation.run",
    "Runner": "myopenip_bot.dissociation.runner",
    "Portal": "myopenip_bot.portal.portal",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'myopenip_bot' has no attribute {name!r}")


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
