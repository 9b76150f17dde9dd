"""The one start-up sequence of every command that drives the portal.

run(body, args)     private files (umask 077), two consoles, SIGINT/SIGTERM routed to
                    a StopSignal from the very start, Ctrl-C before that a clean exit
Command.load(...)   settings (MYOPENIP_* and .env, `--headed`), logging, credentials,
                    private folders (the oldest run folders beyond MYOPENIP_KEEP_RUNS
                    removed), the password out of the process environment, the
                    selectors, the check that a person can be asked when needed, and
                    that these credentials were not refused by an earlier run (then:
                    AuthenticationError at once, unless `--retry-login`)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console

from myopenip_bot.config.logs import configure_logging
from myopenip_bot.config.selectors import Selectors, load_selectors
from myopenip_bot.config.settings import Settings, forget_password_environment, load_settings
from myopenip_bot.i18n import N_, _
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.portal.refusals import RefusedLogins
from myopenip_bot.retention import prune_runs
from myopenip_bot.wording import usage_error

__all__ = ["Command", "Loaded", "add_retry_login", "run"]


@dataclass(frozen=True)
class Loaded:
    """What a command works with once started."""

    settings: Settings
    selectors: Selectors


class Command:
    """One run of a command: its arguments, its consoles and its stop signal."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Console()  # results: the summary table, or JSON
        # a terminal wraps the bot's sentences at words; a job's log keeps each on one line
        self.out.soft_wrap = not self.out.is_terminal
        self.err = Console(stderr=True)  # people: progress, prompts, errors
        self.stop = StopSignal()

    def load(self, *, ask: str | None = None, acting: bool = False) -> Loaded:
        """Read and check everything the command needs before any browser starts.

        `ask` says what a person will be asked to confirm ("to dissociate without
        asking"): without a terminal to ask on, the command is refused (UsageError)
        unless `--yes` was given; `acting`: the command may click « Valider » (its record of
        what the portal accepted must be usable). Raises SettingsError / UsageError naming
        the culprit.
        """
        overrides = {"headless": False} if getattr(self.args, "headed", False) else {}
        settings = load_settings(**overrides)
        configure_logging(settings.log_format, settings.log_level)
        username, password = settings.require_credentials()
        settings.prepare_folders(acting=acting)
        if not getattr(self.args, "retry_login", False):
            # Refused before: trying again would only bring the account nearer its lock.
            refusals = RefusedLogins(
                settings.work_dir, settings.base_url, username, password.get_secret_value()
            )
            refusals.check()
        prune_runs(settings.traces_dir, settings.keep_runs - 1)  # and the one this run makes
        selectors = load_selectors(settings.selectors_file)
        forget_password_environment()  # read: no child needs it, no one may read it
        if ask is not None:
            self.require_terminal(ask)
        self.stop.check()  # a signal during start-up
        return Loaded(settings, selectors)

    def require_terminal(self, ask: str) -> None:
        """Refuse (UsageError) a run that would ask a person when there is no terminal to
        ask on, unless `--yes` was given; `ask` says what `--yes` would allow."""
        if not (getattr(self.args, "yes", False) or sys.stdin.isatty()):
            raise usage_error(N_("no terminal to confirm on: pass --yes %(ask)s"), ask=ask)


def add_retry_login(parser: argparse.ArgumentParser) -> None:
    """`--retry-login`, for every command that logs in."""
    parser.add_argument(
        "--retry-login",
        action="store_true",
        help=_("try the login even though the portal refused these credentials before"),
    )


def run(body: Callable[[Command], int], args: argparse.Namespace) -> int:
    """Run a command's `body` with what every command shares; returns its exit code."""
    os.umask(0o077)  # whatever the bot writes (traces, results, state) is its owner's only
    command = Command(args)
    with command.stop.installed():  # from the start: a signal stops at a safe point
        return body(command)
