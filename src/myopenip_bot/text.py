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

import csv
import json
import json.encoder
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

__all__ = ["csv_cell", "csv_row", "csv_text", "json_text", "shorten", "visible"]

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
_FORMULA_FIRST = frozenset("=+-@\t\r\n")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0x9F else f"U+{code:04X}"


def visible(text: str, *, newlines: bool = False) -> str:
    """`text` with every control, bidi or unencodable character written out visibly;
    with `newlines`, a line break stays one (the bot's own multi-line messages)."""
    if text.isascii() and text.isprintable():  # most texts: nothing to look for
        return text
    return (_UNSAFE_BUT_NEWLINES if newlines else _UNSAFE).sub(_shown, text)


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: visible, and a formula's first character
    prefixed with a quote (OWASP). Refs, numbers and keep values never start so."""
    return csv_row([value])[0]


def csv_row(values: Iterable[object]) -> list[str]:
    """A row of `csv_cell`s, looked over at once: a report's 200,000 rows are mostly
    plain, and one search of the whole row costs a tenth of ten substitutions."""
    cells = ["" if value is None else str(value) for value in values]
    whole = "".join(cells)
    if not (whole.isascii() and whole.isprintable()) and _UNSAFE.search(whole):
        cells = [visible(cell) for cell in cells]
    return ["'" + cell if cell[:1] in _FORMULA_FIRST else cell for cell in cells]


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV file's text as every report of the bot writes it: a BOM (Excel opens it as
    UTF-8), « ; », CRLF, every cell a `csv_cell`."""
    lines: list[str] = []

    class _Sink:
        def write(self, text: str) -> int:
            lines.append(text)
            return len(text)

    writer = csv.writer(_Sink(), delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(csv_row(row) for row in rows)
    return "\ufeff" + "".join(lines)


def shorten(text: str, width: int = 120, *, newlines: bool = False) -> str:
    """For the screen only: a text longer than `width` keeps its start and end, and says
    how long it was (files keep it whole)."""
    text = visible(text, newlines=newlines)
    if len(text) <= width:
        return text
    note = f" … ({len(text):,} characters)"
    keep = max(width - len(note), 10)
    return text[: keep - keep // 4] + "…" + text[-(keep // 4) :] + note


def _one_line_encoder() -> Callable[[Any], str]:
    """A list item's one line, as `json.dumps(item, ensure_ascii=False)` writes it: the C
    encoder made once (`JSONEncoder.encode` makes one per call, half the time of
    200,000 results), else the stdlib's own."""
    encoder = json.JSONEncoder(ensure_ascii=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys,
    # skipkeys, allow_nan), as JSONEncoder.iterencode passes them
    chunks = make(
        None, refuse, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
    )
    return lambda item: "".join(chunks(item, 0))


_ONE_LINE = _one_line_encoder()


def json_text(document: Any, _depth: int = 0) -> str:
    """A JSON document indented by two spaces, except that each item of a list of
    objects (a result, a check) is one line: as readable as `indent=2`, easy to grep,
    and written by the C encoder, so that 200,000 results take a second, not a minute."""
    inner, outer = "  " * (_depth + 1), "  " * _depth
    if isinstance(document, dict) and document:
        members = (
            f"{inner}{json.dumps(key, ensure_ascii=False)}: {json_text(value, _depth + 1)}"
            for key, value in document.items()
        )
        return "{\n" + ",\n".join(members) + f"\n{outer}}}"
    if isinstance(document, list) and document:
        if all(isinstance(item, dict) for item in document):
            items: Iterable[str] = map(_ONE_LINE, document)
        else:
            items = (json_text(item, _depth + 1) for item in document)
        return f"[\n{inner}" + f",\n{inner}".join(items) + f"\n{outer}]"
    return json.dumps(document, ensure_ascii=False)
