"""Entry point of `myopenip`: one command tree; `portal` runs the replica, the others the bot.

Each command's options come from its own module (`add_arguments`), and its work from a
thin `run(args)` over the library; heavy imports (Playwright, the replica's server) wait
until a command needs them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from myopenip.exitcodes import ExitCode


class _Parser(argparse.ArgumentParser):
    """argparse without abbreviations (`--keep` is not `--keep-number`), exiting 2 on errors."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


# Every command: its name, its one-line help, and the module holding its options
# (`add_arguments`) and its work (`run`). Only the module of the command run is imported:
# a one-shot does not pay for the replica's web server, nor the replica for Playwright.
COMMANDS = (
    ("portal", "serve the local MyOpenIP replica until stopped", "myopenip_portal.cli"),
    (
        "dissociate",
        "dissociate numbers from licences of one MetaCentrex service",
        "myopenip.commands.dissociate",
    ),
    (
        "find",
        "look up a client's services, licences and numbers, read-only",
        "myopenip.commands.find",
    ),
    (
        "batch",
        "dissociate the numbers a .csv or .xlsx file lists, unattended",
        "myopenip.commands.batch",
    ),
    (
        "history",
        "what the bot did, from the ledger: by number, client, ticket…, without the portal",
        "myopenip.commands.history",
    ),
    (
        "numbers",
        "billing's list of released numbers to terminate, and the numbers kept",
        "myopenip.commands.numbers",
    ),
    (
        "smoke",
        "check every screen and selector on the portal, read-only",
        "myopenip.commands.smoke",
    ),
    (
        "demo",
        "serve the replica on a free port and run the bot against it",
        "myopenip.commands.demo",
    ),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """`myopenip` and its commands; the options of the one `argv` names (of every one
    when `argv` is None)."""
    parser = _Parser(
        prog="myopenip",
        description="MyOpenIP dissociation bot, and a local replica of the portal to try it on.",
        epilog="`myopenip COMMAND --help` tells more about each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    named = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    for name, summary, module_name in COMMANDS:
        sub = commands.add_parser(name, help=summary)
        if argv is None or name == named:
            module = importlib.import_module(module_name)
            sub.description = getattr(module, "DESCRIPTION", None)
            module.add_arguments(sub)
            sub.set_defaults(handler=_handler(module, sub))
    return parser


def _handler(module: Any, parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The command's `run(args)` (the replica's takes its parser too, for its errors)."""
    if module.__name__ == "myopenip_portal.cli":
        return lambda args: int(module.run(args, parser))
    return lambda args: int(module.run(args))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("myopenip-bot")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        given = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(given).parse_args(given)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except KeyboardInterrupt:  # Ctrl-C before a command could set up its own handling
        sys.stderr.write("myopenip: interrupted before anything was done\n")
        return 130
