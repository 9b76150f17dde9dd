"""argparse's own words (usage, options, its errors) in the person's language.

The language and the catalog are the library's (myopenip_bot.i18n: the batch's report and
the smoke's messages use them too); the command line adds argparse to them.
"""

from __future__ import annotations

import argparse

from myopenip_bot.i18n import language, translations

__all__ = ["install"]


def install() -> None:
    """Give argparse the person's language (its `usage:`, `options`, its errors): argparse
    looks its words up through its module's `_` and `ngettext` (gettext's, domain
    `messages`); the bot's catalog holds them (myopenip/argparse_words.py)."""
    # Looked up at each word, in the language of that moment: a process that runs
    # commands in turn (a test, a caller) never keeps the language of an earlier one.
    argparse._ = _argparse_gettext  # type: ignore[attr-defined]
    argparse.ngettext = _argparse_ngettext  # type: ignore[attr-defined]


def _argparse_gettext(message: str) -> str:
    return translations(language()).gettext(message)


def _argparse_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)
