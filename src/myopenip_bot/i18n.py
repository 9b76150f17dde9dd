"""The language a person reads: French or English, from gettext catalogs (Babel).

language()      MYOPENIP_LANG=fr|en; unset (or empty), the locale: the first of LC_ALL,
                LC_MESSAGES, LANG that is set decides (one starting with `fr` → French);
                otherwise English (MYOPENIP_LANG=de: English, and unknown_language()
                is the warning the command prints once)
_ / ngettext    a message of the bot in that language (English is the msgid)
N_              marks a message for extraction where it is defined (tables of texts),
                translated where it is shown (`_(MEANING)`)

In the library, so that what it writes for a person (the batch's report.html, the smoke's
messages) is in the same language as the command's screen without the library importing
the command line (myopenip.i18n adds argparse's words; myopenip_bot.wording, the
library's reasons and outcomes as a person reads them).

The catalogs: src/myopenip_bot/locale/<lang>/LC_MESSAGES/myopenip.po, written with
`pybabel extract/update` (`make catalogs`), compiled to .mo by the set-up
(scripts/bootstrap.sh). A .mo missing or older than its .po (a .po just edited) is
compiled in memory from the .po, so the words shown are always the .po's.

Machine outputs never go through here: JSON keys and codes, CSV headers, exit codes,
event names and selector keys are the same in every language.
"""

from __future__ import annotations

import gettext as _gettext
import io
import os
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "_",
    "babel_locale",
    "format_datetime",
    "format_int",
    "format_rate",
    "language",
    "ngettext",
    "translations",
    "unknown_language",
]

DOMAIN = "myopenip"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "fr")
_BABEL_LOCALES = {"en": "en_GB", "fr": "fr_FR"}


def language(environ: Mapping[str, str] | None = None) -> str:
    """ "fr" or "en": MYOPENIP_LANG when set, else the locale's messages, else English."""
    env = os.environ if environ is None else environ
    chosen = env.get("MYOPENIP_LANG", "").strip().lower()
    if chosen:
        return "fr" if chosen.startswith("fr") else "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "").strip()
        if value:  # POSIX: the first one set wins, even when it is not French
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def unknown_language(environ: Mapping[str, str] | None = None) -> str | None:
    """The warning to print when MYOPENIP_LANG names neither French nor English (`de`):
    in English, the language then used; None when it is unset, `fr…` or `en…`."""
    env = os.environ if environ is None else environ
    chosen = env.get("MYOPENIP_LANG", "").strip()
    if not chosen or chosen.lower().startswith(LANGUAGES):
        return None
    return (  # its repr: a control character in it is shown, not obeyed
        f"myopenip: warning: MYOPENIP_LANG={chosen[:40]!r} is not a language of the bot "
        f"({', '.join(LANGUAGES)}): English is used"
    )


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalog of `lang` (English: the msgids themselves)."""
    if lang == "en":
        return _gettext.NullTranslations()
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as file:
            return _gettext.GNUTranslations(file)
    if po.is_file():
        return _gettext.GNUTranslations(io.BytesIO(_compile(po)))
    return _gettext.NullTranslations()


def _compile(po: Path) -> bytes:
    """The .mo of `po`, made in memory (Babel's own compiler, as `pybabel compile`)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as file:
        catalog = read_po(file)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _current() -> _gettext.NullTranslations:
    return translations(language())


def _(message: str) -> str:
    """`message` in the person's language."""
    return _current().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or the plural of a message, as the language counts `n`."""
    return _current().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks `message` for the catalog; translated later, where it is shown."""
    return message


def babel_locale() -> str:
    """The Babel locale of the person's language (fr_FR, en_GB)."""
    return _BABEL_LOCALES[language()]


def format_datetime(moment: datetime) -> str:
    """A date and time as a person reads it: « 6 déc. 2026 à 17:26 UTC », "6 Dec 2026,
    17:26 UTC" (the moment is shown in its own time zone, named)."""
    from babel.dates import format_datetime as babel_format

    zone = moment.tzname() or ""
    if language() == "fr":
        text = babel_format(moment, "d MMM y 'à' HH:mm", tzinfo=moment.tzinfo, locale="fr_FR")
    else:
        text = babel_format(moment, "d MMM y, HH:mm", tzinfo=moment.tzinfo, locale="en_GB")
    return f"{text} {zone}".strip()


def format_int(value: int) -> str:
    """A whole number as the language groups its digits (12 345, 12,345)."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=babel_locale()))


def format_rate(value: float) -> str:
    """A rate with one decimal, as the language writes it (2.5, 2,5)."""
    from babel.numbers import format_decimal

    return str(format_decimal(round(value, 1), format="0.0", locale=babel_locale()))
