"""`myopenip portal --help` in the person's language. The replica (myopenip_portal)
imports nothing of the bot, so it writes its options' help in English; its words are
marked here for the bot's catalog, and the command tree translates its parser once the
replica has built it (`python -m myopenip_portal --help` stays English). A test checks
that every help of its parser is here."""

from __future__ import annotations

import argparse
import re

from myopenip_bot.i18n import N_, _

__all__ = ["WORDS", "translate"]

WORDS = (
    N_("Serve the local MyOpenIP replica (a faithful, stateful copy of the portal)."),
    N_("address to listen on"),
    N_("0 picks a free port"),
    N_("SQLite file (default: in memory)"),
    N_("demo data and fault draws"),
    N_("the demo login"),
    N_("the demo password"),
    N_("serve /_test/ (tests only)"),
    N_("delay each request (jittered)"),
    N_("fraction of requests answered 503"),
    N_("seconds a session lives"),
    N_("fraction of dissociations committed whose response is never delivered"),
    N_("no built-in delay of a search (150 ms) or of the dialog's preview (450 ms)"),
    N_("log every request"),
    N_("the front end: classic (default) or aria (other URLs and markup, same roles)"),
    N_("top up the --bulk-services services to N numbered licences each (default 0: none)"),
    N_(
        "with --licences-per-service: how many active MetaCentrex services of different "
        "clients to top up (default 2: SRV-10022 and SRV-10023; more are added)"
    ),
)
# A help the replica words with a value in it: its pattern, and its message.
_WITH_VALUES = (
    (
        re.compile(r"behave like other real portals: (?P<quirks>.+) \(default: none\)"),
        N_("behave like other real portals: %(quirks)s (default: none)"),
    ),
)


def text(english: str) -> str:
    """One of the replica's texts in the person's language (as written when unknown)."""
    translated = _(english)
    if translated != english:
        return translated
    for pattern, message in _WITH_VALUES:
        match = pattern.fullmatch(english)
        if match is not None:
            return _(message) % match.groupdict()
    return english


def translate(parser: argparse.ArgumentParser) -> None:
    """The replica's parser, its description and its options' help translated."""
    if parser.description:
        parser.description = text(parser.description)
    for action in parser._actions:
        if action.help and action.help != argparse.SUPPRESS:
            action.help = text(action.help)
