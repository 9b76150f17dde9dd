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
    current = translations(language())
    argparse._ = current.gettext  # type: ignore[attr-defined]
    argparse.ngettext = current.ngettext  # type: ignore[attr-defined]
