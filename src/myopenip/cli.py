"""Entry point of `myopenip`: one command tree; `portal` runs the replica, the others the bot.

Each command's options come from its own module (`add_arguments`), and its work from a
thin `run(args)` over the library; heavy imports (Playwright, the replica's server) wait
until a command needs them.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from myopenip import i18n
from myopenip.exitcodes import ExitCode
from myopenip_bot.i18n import N_, _, language, unknown_language


class _Parser(argparse.ArgumentParser):
    """argparse without abbreviations (`--keep` is not `--keep-number`), exiting 2 on errors."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def format_help(self) -> str:
        """argparse's help; in French, its section headings with French typography
        ("options :"), which argparse writes itself after the translated words."""
        text = super().format_help()
        if language() == "fr":
            text = re.sub(r"^(\S[^\n]*\S):$", "\\1\u00a0:", text, flags=re.M)
        return text

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            ExitCode.USAGE,
            _("%(prog)s: error: %(message)s\n") % {"prog": self.prog, "message": message},
        )


# Every command: its name, its one-line help, and the module holding its options
# (`add_arguments`) and its work (`run`). Only the module of the command run is imported:
# a one-shot does not pay for the replica's web server, nor the replica for Playwright.
COMMANDS = (
    ("portal", N_("serve the local MyOpenIP replica until stopped"), "myopenip_portal.cli"),
    (
        "dissociate",
        N_("dissociate numbers from licences of one MetaCentrex service"),
        "myopenip.commands.dissociate",
    ),
    (
        "find",
        N_("look up a client's services, licences and numbers, read-only"),
        "myopenip.commands.find",
    ),
    (
        "batch",
        N_("dissociate the numbers a .csv or .xlsx file lists, unattended"),
        "myopenip.commands.batch",
    ),
    (
        "history",
        N_("what the bot did, from the ledger: by number, client, ticket…, without the portal"),
        "myopenip.commands.history",
    ),
    (
        "numbers",
        N_("billing's list of released numbers to terminate, and the numbers kept"),
        "myopenip.commands.numbers",
    ),
    (
        "smoke",
        N_("check every screen and selector on the portal, read-only"),
        "myopenip.commands.smoke",
    ),
    (
        "demo",
        N_("serve the replica on a free port and run the bot against it"),
        "myopenip.commands.demo",
    ),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """`myopenip` and its commands; the options of the one `argv` names (of every one
    when `argv` is None)."""
    parser = _Parser(
        prog="myopenip",
        description=_("MyOpenIP dissociation bot, and a local replica of the portal to try it on."),
        epilog=_("`myopenip COMMAND --help` tells more about each command.")
        + "\n"
        + _("Language: MYOPENIP_LANG=fr or en (else the locale: LANG=fr_FR.UTF-8 is French)."),
    )
    parser.add_argument("--version", action=_Version, help=_("show the version and exit"))
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        metavar=_("COMMAND"),
        parser_class=_Parser,
    )
    named = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    for name, summary, module_name in COMMANDS:
        sub = commands.add_parser(name, help=_(summary))
        if argv is None or name == named:
            module = importlib.import_module(module_name)
            sub.description = getattr(module, "DESCRIPTION", None)
            module.add_arguments(sub)
            if module_name == "myopenip_portal.cli":  # the replica writes English only
                from myopenip import portal_words

                portal_words.translate(sub)
            sub.set_defaults(handler=_handler(module, sub))
    return parser


def _handler(module: Any, parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """The command's `run(args)` (the replica's takes its parser too, for its errors)."""
    if module.__name__ == "myopenip_portal.cli":
        return lambda args: int(module.run(args, parser))
    return lambda args: int(module.run(args))


class _Version(argparse._VersionAction):
    """`--version`, its number read from the package's metadata only when asked (reading
    it costs every other command about 30 ms of its start)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        self.version = f"%(prog)s {_version()}"
        super().__call__(parser, *args, **kwargs)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("myopenip-bot")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    i18n.install()  # argparse's own words in the person's language
    warning = unknown_language()
    if warning is not None:  # MYOPENIP_LANG=de: said once, in English, and English it is
        sys.stderr.write(warning + "\n")
    try:
        given = sys.argv[1:] if argv is None else list(argv)
        args = build_parser(given).parse_args(given)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except KeyboardInterrupt:  # Ctrl-C before a command could set up its own handling
        sys.stderr.write(_("myopenip: interrupted before anything was done") + "\n")
        return 130
