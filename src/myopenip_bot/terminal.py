"""Data on a terminal: never markup, every character visible, long texts shortened.

The portal's texts and the files' contents reach the screen inside rich tables and
messages, where `[bold red]…[/]` would be styling and `[link=…]` a link. Everything that
is not the bot's own wording goes through `plain` (a rich Text, never parsed as markup)
or `safe` (escaped, to sit inside the bot's own markup).
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text

from myopenip_bot.text import shorten

__all__ = ["SCREEN_TEXT", "plain", "safe"]

# How much of one text the screen shows (files keep every text whole).
SCREEN_TEXT = 300


def plain(value: object, width: int = SCREEN_TEXT, style: str = "") -> Text:
    """`value` as a rich Text: shown as it is written, never as markup."""
    return Text(shorten(str(value), width, newlines=True), style=style)


def safe(value: object, width: int = SCREEN_TEXT) -> str:
    """`value` escaped, to embed in the bot's own markup (`f"[red]{safe(x)}[/red]"`)."""
    return escape(shorten(str(value), width, newlines=True))
