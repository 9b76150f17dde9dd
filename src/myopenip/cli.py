"""Entry point of `myopenip`: one command tree; `portal` runs the replica, the others the bot.

Each command's options come from its own module (`add_arguments`), and its work from a
thin `run(args)` over the library; heavy imports (Playwright, the replica's server) wait
until a command needs them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from myopenip.exitcodes import ExitCode


class _Parser(argparse.ArgumentParser):
    """argparse without abbreviations (`--keep` is not `--keep-number`), exiting 2 on errors."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """`myopenip` and every command, with their options."""
    from myopenip.commands import batch as batchcli
    from myopenip.commands import demo, find
    from myopenip.commands import dissociate as bot_cli
    from myopenip.commands import smoke as smoke_cli
    from myopenip_portal import cli as portal_cli

    parser = _Parser(
        prog="myopenip",
        description="MyOpenIP dissociation bot, and a local replica of the portal to try it on.",
        epilog="`myopenip COMMAND --help` tells more about each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
    portal = commands.add_parser(
        "portal",
        help="serve the local MyOpenIP replica until stopped",
        description=portal_cli.DESCRIPTION,
    )
    portal_cli.add_arguments(portal)
    portal.set_defaults(handler=lambda args: _run_portal(args, portal))
    dissociate = commands.add_parser(
        "dissociate", help="dissociate numbers from licences of one MetaCentrex service"
    )
    bot_cli.add_arguments(dissociate)
    dissociate.set_defaults(handler=bot_cli.run)
    find_parser = commands.add_parser(
        "find", help="look up a client's services, licences and numbers, read-only"
    )
    find.add_arguments(find_parser)
    find_parser.set_defaults(handler=find.run)
    batch = commands.add_parser(
        "batch", help="dissociate the numbers a .csv or .xlsx file lists, unattended"
    )
    batchcli.add_arguments(batch)
    batch.set_defaults(handler=batchcli.run)
    smoke = commands.add_parser(
        "smoke", help="check every screen and selector on the portal, read-only"
    )
    smoke_cli.add_arguments(smoke)
    smoke.set_defaults(handler=smoke_cli.run)
    demo_parser = commands.add_parser(
        "demo",
        help="serve the replica on a free port and run the bot against it",
        description=demo.DESCRIPTION,
    )
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(handler=_run_demo)
    return parser


def _run_portal(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from myopenip_portal.cli import run

    return run(args, parser)


def _run_demo(args: argparse.Namespace) -> int:
    from myopenip.commands.demo import run

    return run(args)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("myopenip-bot")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except KeyboardInterrupt:  # Ctrl-C before a command could set up its own handling
        sys.stderr.write("myopenip: interrupted before anything was done\n")
        return 130
