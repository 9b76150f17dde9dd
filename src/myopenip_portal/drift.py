"""Drift on purpose (`POST /_test/drift`): the portal's own texts under other names.

A real portal changes its wording now and then; QA smoke checks must then fail and name
the control that drifted. The replica can do that on demand, in both markups:

- `rename` {"Valider": "Confirmer", …}: every text of the portal itself — a page's fixed
  texts and accessible names, the scripts' texts, the JSON API's `message` — shows the new
  name wherever it reads the old one. An old name matches whole words only ("Licence" is
  not in "Licences"), case-sensitively, whatever the whitespace between its words; it may
  be the start or the middle of a longer text ("Sélectionner" in "Sélectionner
  FPC367128", "Pensez à résilier le numéro" in the guide's third warning). All renames
  apply at once, longest first, so they never chain.
- `hide` ["Suivant", …]: in a browser, every control whose name is that text, or starts
  with it then a space, disappears (display: none), whenever the page renders it.
- `roles` {"Mes Services": "link", …}: in a browser, every control whose name is that
  text, or starts with it then a space, takes that ARIA role (`role="link"`), whenever
  the page renders it: the same name under another role, as a portal rebuilt with
  another component shows it.
- `numbers` "grouped" | "digits" | "international": how the portal shows a number, in
  the results, the dialog (its rows and its selects' names) and a licence's page:
  "02 31 45 67 89" (the spec's, the default), "0231456789" or "+33 2 31 45 67 89".
  Data stay what they are (the API's `sda` / `number`, `/_test/state`): only the
  shown form (`sda_display`, `number_display`, the pages) changes.

What a drift can never touch, by construction:

- Code. Pages are rewritten only in their text nodes and in the attributes that carry a
  name or a hint (`aria-label`, `placeholder`, `title`, `alt`, …); tags, ids, classes,
  URLs, form field names, option values, `<script>` and `<style>` are left alone. Scripts
  are rewritten only inside their `ui("…")` calls, which mark the script's visible texts.
  JSON answers only in their top-level `message`.
- Data. Every value a template prints (`{{ … }}`) is wrapped by `finalize` in private-use
  sentinels, and a rename never reaches inside them; only values marked as the portal's
  own texts (`UiText`, made by `ui()` in Python or the `ui` filter in templates: titles,
  notices, messages, filter labels, tab names) are renamed, and the data such a text
  quotes (`ui_format`: "Le service {} n'existe pas.") stay protected, in pages and in
  JSON messages alike. The sentinels are stripped from every page and message, drift or
  not, so without a drift every answer is byte for byte what it was.

While a drift is on, the pages load their scripts at `/static/x.js?drift=<version>` (a
new random version at every change): a browser fetches each drift's scripts once, may
cache them, and never runs an older drift's (app.DriftingStatic serves them).
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

# Private-use characters around every value a template prints: never in the data.
OPEN = "\ue000"
CLOSE = "\ue001"
_SENTINELS = re.compile(f"[{OPEN}{CLOSE}]")

# The attributes of a tag that hold a name or a hint a person reads.
NAME_ATTRIBUTES = frozenset(
    {
        "aria-label",
        "aria-description",
        "aria-placeholder",
        "aria-roledescription",
        "aria-valuetext",
        "placeholder",
        "title",
        "alt",
    }
)
# `value` is a name only on these inputs (a button's text); elsewhere it is data or code.
_BUTTON_INPUTS = frozenset({"button", "submit", "reset"})

# A page, token by token: comments, scripts and styles (kept whole), tags, and the text
# between them.
_HTML_TOKEN = re.compile(
    r"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>|<[^>]*>", re.DOTALL | re.IGNORECASE
)
_TAG_NAME = re.compile(r"<\s*([A-Za-z][\w-]*)")
_ATTRIBUTE = re.compile(r"""(\s)([^\s"'>/=]+)(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)""")
# A script's visible texts: the one literal inside ui("…") (double quotes, one line).
_UI_CALL = re.compile(r'(?<![\w$.])ui\(\s*"((?:[^"\\\n]|\\.)*)"\s*\)')

# A page's own scripts (under /static/), whose address gets the drift's version.
_SCRIPT_SRC = re.compile(r'(<script\b[^>]*\bsrc="/static/[^"?#]+\.js)(")')

_HIDE_CSS = "<style>[data-drift-hidden]{display:none!important}</style>"


#: How a number may be shown (`numbers`), the spec's first: "02 31 45 67 89".
NUMBER_FORMATS = ("grouped", "digits", "international")


def show_number(digits: str | None, number_format: str = "grouped") -> str:
    """A number (ten digits) as the portal shows it in `number_format`; "" for none.

    >>> [show_number("0231456789", f) for f in NUMBER_FORMATS]
    ['02 31 45 67 89', '0231456789', '+33 2 31 45 67 89']
    """
    if not digits:
        return ""
    if number_format == "digits":
        return digits
    if number_format == "international" and digits.startswith("0") and len(digits) == 10:
        rest = digits[2:]
        return " ".join(["+33", digits[1], *(rest[i : i + 2] for i in range(0, len(rest), 2))])
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


class UiText(str):
    """A text of the portal itself (a title, a notice, a label): a drift may rename it."""

    __slots__ = ()


def ui(text: str) -> UiText:
    """Mark `text` as the portal's own text (also the templates' `ui` filter)."""
    return text if isinstance(text, UiText) else UiText(text)


def ui_format(template: str, *values: object) -> UiText:
    """The portal's own text quoting data (refs…): `template`'s `{}` filled with the values,
    which a drift never renames (see `finalize`)."""
    return UiText(template.format(*(OPEN + str(value) + CLOSE for value in values)))


def finalize(value: Any) -> Any:
    """Jinja's `finalize`: everything a template prints is data unless it is a `UiText`."""
    if isinstance(value, UiText):
        return value
    if hasattr(value, "__html__"):  # already markup (e.g. `tojson`): keep it unescaped
        return Markup(OPEN) + Markup(value) + Markup(CLOSE)
    text = str(value)
    if OPEN in text or CLOSE in text:
        # Data holding the sentinels themselves (hand-edited, POST /_test/data): written as
        # character references, which a browser reads back as those very characters.
        escaped = str(escape(text)).replace(OPEN, "&#xe000;").replace(CLOSE, "&#xe001;")
        return Markup(OPEN + escaped + CLOSE)
    return OPEN + text + CLOSE


def strip(text: str) -> str:
    """Remove the sentinels (what every page goes through, drift or not)."""
    return _SENTINELS.sub("", text) if OPEN in text or CLOSE in text else text


def _words(text: str) -> list[str]:
    return text.split()


def _normal(text: str) -> str:
    return " ".join(text.split())


def _pattern_for(old: str) -> str:
    """`old` as a regex: its words separated by any whitespace, whole words at its ends."""
    body = r"\s+".join(re.escape(word) for word in _words(old))
    start = r"(?<!\w)" if re.match(r"\w", old) else ""
    end = r"(?!\w)" if re.search(r"\w$", old) else ""
    return start + body + end


def _segments(text: str) -> list[tuple[bool, str]]:
    """`text` cut into (protected, part): protected parts are inside sentinels (data)."""
    parts: list[tuple[bool, str]] = []
    depth = 0
    for piece in re.split(f"([{OPEN}{CLOSE}])", text):
        if piece == OPEN:
            depth += 1
        elif piece == CLOSE:
            depth = max(0, depth - 1)
        elif piece:
            parts.append((depth > 0, piece))
    return parts


@dataclass
class Drift:
    """The current drift: renames, hidden names, other roles and the numbers' format;
    none by default and after a reset."""

    renames: dict[str, str] = field(default_factory=dict)
    hidden: list[str] = field(default_factory=list)
    #: name -> the ARIA role the controls of that name take (set in a browser by drift.js)
    roles: dict[str, str] = field(default_factory=dict)
    #: how numbers are shown (NUMBER_FORMATS); data, not texts: never in `active`
    numbers: str = "grouped"
    # A new random token at every change ("" without drift): the pages load their scripts
    # as /static/x.js?drift=<version>, so a browser fetches each drift's scripts once and
    # may cache them, never mixing two drifts (nor two replica runs).
    version: str = field(default="", init=False)
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False)
    _lookup: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    # ------------------------------------------------------------------ changing it

    @property
    def active(self) -> bool:
        return bool(self.renames or self.hidden or self.roles)

    def update(
        self,
        renames: Mapping[str, str] | None = None,
        hide: Iterable[str] = (),
        numbers: str | None = None,
        roles: Mapping[str, str] | None = None,
    ) -> None:
        """Add these renames (a later one of the same text wins), hidden names and roles
        (a later one of the same name wins); show numbers in the format `numbers` (one of
        NUMBER_FORMATS) when given."""
        added = {_normal(old): new for old, new in (renames or {}).items()}
        names = [_normal(name) for name in hide]
        roled = {_normal(name): role for name, role in (roles or {}).items()}
        if "" in added or "" in names or "" in roled:
            raise ValueError("a text to rename, hide or give a role cannot be empty")
        if not all(re.fullmatch(r"[a-z]+", role) for role in roled.values()):
            raise ValueError("a role is an ARIA role's name, e.g. link")
        if numbers is not None and numbers not in NUMBER_FORMATS:
            raise ValueError(f"a number format is one of {', '.join(NUMBER_FORMATS)}")
        if numbers is not None:
            self.numbers = numbers
        self.renames.update(added)
        self.roles.update(roled)
        self.hidden.extend(name for name in dict.fromkeys(names) if name not in self.hidden)
        self._compile()

    def clear(self) -> None:
        self.renames.clear()
        self.hidden.clear()
        self.roles.clear()
        self.numbers = "grouped"
        self._compile()

    def as_json(self) -> dict[str, Any]:
        return {
            "rename": dict(self.renames),
            "hide": list(self.hidden),
            "roles": dict(self.roles),
            "numbers": self.numbers,
        }

    def number(self, digits: str | None) -> str:
        """A number (ten digits) as the portal shows it now; "" for none."""
        return show_number(digits, self.numbers)

    def _compile(self) -> None:
        self.version = secrets.token_hex(6) if self.active else ""
        self._lookup = dict(self.renames)
        if not self.renames:
            self._regex = None
            return
        olds = sorted(self.renames, key=len, reverse=True)  # the longest name wins
        self._regex = re.compile("|".join(_pattern_for(old) for old in olds))

    # ------------------------------------------------------------------ applying it

    def rename(self, text: str) -> str:
        """`text` (plain, without sentinels) with every rename applied once."""
        if self._regex is None:
            return text
        return self._regex.sub(lambda match: self._lookup[_normal(match[0])], text)

    def text(self, text: str) -> str:
        """A plain text that may hold protected data: renamed outside it, sentinels gone."""
        if self._regex is None:
            return strip(text)
        return "".join(part if kept else self.rename(part) for kept, part in _segments(text))

    def page(self, document: str) -> str:
        """A rendered page: its texts and names renamed, the hiding script added if any."""
        if not self.active:
            return strip(document)
        out: list[str] = []
        position = 0
        for token in _HTML_TOKEN.finditer(document):
            out.append(self._markup_text(document[position : token.start()], attribute=False))
            out.append(self._tag(token[0]))
            position = token.end()
        out.append(self._markup_text(document[position:], attribute=False))
        result = strip("".join(out))
        if self.hidden or self.roles:
            result = self._with_hiding(result)
        return _SCRIPT_SRC.sub(rf"\1?drift={self.version}\2", result)

    def script(self, source: str) -> str:
        """A script: the literal of each `ui("…")` call renamed, nothing else."""
        if self._regex is None:
            return source

        def literal(match: re.Match[str]) -> str:
            try:
                text = json.loads(f'"{match[1]}"')
            except ValueError:
                return match[0]
            renamed = self.rename(text)
            if renamed == text:
                return match[0]
            return "ui(" + json.dumps(renamed, ensure_ascii=False) + ")"

        return _UI_CALL.sub(literal, source)

    def json_message(self, body: Any) -> Any:
        """A JSON answer: its top-level `message` renamed (codes, keys and data untouched),
        without the sentinels around the data it quotes."""
        if not isinstance(body, dict):
            return body
        message = body.get("message")
        if not isinstance(message, str):
            return body
        renamed = self.text(message)
        return body if renamed == message else {**body, "message": renamed}

    # ------------------------------------------------------------------ the page's parts

    def _markup_text(self, raw: str, *, attribute: bool) -> str:
        """HTML text (escaped, maybe holding protected data) with the renames applied."""
        if self._regex is None or not raw:
            return raw
        out: list[str] = []
        for kept, part in _segments(raw):
            if kept:
                out.append(OPEN + part + CLOSE)
                continue
            plain = html.unescape(part)
            renamed = self.rename(plain)
            out.append(part if renamed == plain else html.escape(renamed, quote=attribute))
        return "".join(out)

    def _tag(self, tag: str) -> str:
        """A tag (or a kept comment / script / style): only its name attributes renamed."""
        if tag.startswith(("<!", "</", "<?")):
            return tag
        name = _TAG_NAME.match(tag)
        if name is None or name[1].lower() in ("script", "style"):
            return tag
        input_type = ""
        if name[1].lower() == "input":
            for attribute in _ATTRIBUTE.finditer(tag):
                if attribute[2].lower() == "type":
                    input_type = strip(attribute[4].strip("\"'")).lower()

        def value(attribute: re.Match[str]) -> str:
            key = attribute[2].lower()
            if key not in NAME_ATTRIBUTES and not (key == "value" and input_type in _BUTTON_INPUTS):
                return attribute[0]
            quoted = attribute[4]
            quote = quoted[0] if quoted[0] in "\"'" else ""
            inner = quoted[1:-1] if quote else quoted
            renamed = self._markup_text(inner, attribute=True)
            if renamed == inner:
                return attribute[0]
            quote = quote or '"'
            return f"{attribute[1]}{attribute[2]}{attribute[3]}{quote}{renamed}{quote}"

        return _ATTRIBUTE.sub(value, tag)

    def _with_hiding(self, document: str) -> str:
        """Add the names to hide, the roles to give and the script that does it (drift.js),
        at the end of <head>."""
        names = json.dumps(self.hidden, ensure_ascii=False).replace("<", "\\u003c")
        roles = json.dumps(self.roles, ensure_ascii=False).replace("<", "\\u003c")
        head = (
            f'{_HIDE_CSS}<script id="drift-hide" type="application/json">{names}</script>'
            f'<script id="drift-roles" type="application/json">{roles}</script>'
            '<script src="/static/drift.js"></script>'
        )
        index = document.lower().find("</head>")
        if index < 0:
            return head + document
        return document[:index] + head + document[index:]
