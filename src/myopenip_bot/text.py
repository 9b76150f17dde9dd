"""Text the bot does not control (the portal's, a file's), made safe to show and to store.

Whatever the portal shows or a file holds is data. Before it reaches a terminal, a CSV
cell, an HTML page, a log or the journal, characters that could act rather than read —
terminal escapes, bidirectional overrides, characters no encoder accepts — are shown as
what they are (`\\x1b`, `U+202E`). Texts stay whole in files; only the screen shortens.

    visible("Normandie \\x1b[31mLogistique")  ->  "Normandie \\\\x1b[31mLogistique"
    csv_cell("=HYPERLINK(…)")                 ->  "'=HYPERLINK(…)"
    shorten("x" * 10_000, 80)                 ->  "xxx…xxx … (10,000 characters)"
"""

from __future__ import annotations

import re

__all__ = ["csv_cell", "shorten", "visible"]

# C0 and C1 control characters (a tab, a newline and a carriage return too: a value is
# one line; multi-line texts are squashed into one before they get here).
_CONTROLS = "\x00-\x1f\x7f-\x9f"
# Bidirectional controls (Trojan Source), line and paragraph separators, byte order
# marks inside a text, noncharacters, and lone surrogates (no encoder accepts them).
_INVISIBLE = (
    "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
    "\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff"
)
_NONCHARACTERS = "".join(
    chr(plane + last) for plane in range(0x10000, 0x110000, 0x10000) for last in (0xFFFE, 0xFFFF)
)
_UNSAFE = re.compile(f"[{_CONTROLS}{_INVISIBLE}{_NONCHARACTERS}]")
_UNSAFE_BUT_NEWLINES = re.compile(f"(?!\n)[{_CONTROLS}{_INVISIBLE}{_NONCHARACTERS}]")
# A spreadsheet evaluates a cell that starts with one of these (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0x9F else f"U+{code:04X}"


def visible(text: str, *, newlines: bool = False) -> str:
    """`text` with every control, bidi or unencodable character written out visibly;
    with `newlines`, a line break stays one (the bot's own multi-line messages)."""
    return (_UNSAFE_BUT_NEWLINES if newlines else _UNSAFE).sub(_shown, text)


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: visible, and a formula's first character
    prefixed with a quote (OWASP). Refs, numbers and keep values never start so."""
    text = visible("" if value is None else str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def shorten(text: str, width: int = 120, *, newlines: bool = False) -> str:
    """For the screen only: a text longer than `width` keeps its start and end, and says
    how long it was (files keep it whole)."""
    text = visible(text, newlines=newlines)
    if len(text) <= width:
        return text
    note = f" … ({len(text):,} characters)"
    keep = max(width - len(note), 10)
    return text[: keep - keep // 4] + "…" + text[-(keep // 4) :] + note
