"""The French catalog: every message of the source in it and translated, no sentence a
person reads left outside it, argparse's words all there, and the rules that choose
the language (pure rules on plain data; the commands' own output: tests/commands/
test_language.py)."""

from __future__ import annotations

import argparse
import ast
import importlib.util
import itertools
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from myopenip_bot import i18n
from myopenip_bot.models import ErrorKind
from myopenip_bot.wording import error_lines, reason_text, step_text, typography

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src" / "myopenip_bot" / "locale" / "fr" / "LC_MESSAGES" / "myopenip.po"


def _catalogs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("catalogs", ROOT / "scripts" / "catalogs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalogs"] = module
    spec.loader.exec_module(module)
    return module


catalogs = _catalogs()


@pytest.fixture(scope="module")
def source() -> object:
    """The messages `pybabel extract` finds in the source (babel.cfg)."""
    return catalogs.extract()


def test_every_message_of_the_source_has_a_french_translation(source: object) -> None:
    assert catalogs.problems(source, PO) == []


def test_the_check_fails_on_a_missing_an_untranslated_or_a_misfilled_message(
    source: object, tmp_path: Path
) -> None:
    text = PO.read_text(encoding="utf-8")
    untranslated = text.replace('msgstr "prévu"', 'msgstr ""')
    missing = text.replace('msgid "planned"\nmsgstr "prévu"\n', "")
    misfilled = text.replace('msgstr "Code de sortie %(code)d"', 'msgstr "Code de sortie"')
    assert len({text, untranslated, missing, misfilled}) == 4  # each edit found its line
    found = {}
    edits = {"untranslated": untranslated, "missing": missing, "misfilled": misfilled}
    for name, edited in edits.items():
        po = tmp_path / f"{name}.po"
        po.write_text(edited, encoding="utf-8")
        found[name] = catalogs.problems(source, po)

    assert [line.split(": ", 1)[1] for line in found["untranslated"]] == [
        "no translation: 'planned'"
    ]
    assert [line.split(": ", 1)[1] for line in found["missing"]] == [
        "not in the catalog (run `make catalogs`): 'planned'"
    ]
    assert len(found["misfilled"]) == 1
    assert "placeholders [] instead of ['%(code)d']" in found["misfilled"][0]


def test_every_word_argparse_looks_up_is_in_the_catalog(source: object) -> None:
    """argparse's words are the running Python's: a new one there is a test failure here."""
    tree = ast.parse(Path(argparse.__file__).read_text(encoding="utf-8"))
    wanted = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            strings = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id in ("_", "ngettext") and strings and isinstance(strings[0], str):
                wanted.add(strings[0])
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in source if m.id}  # type: ignore[attr-defined]
    assert wanted - ids == set()
    assert "usage: " in wanted  # the walk found argparse's words


# -- nothing a person reads outside the catalog ---------------------------------------------

# The modules translated: every command's screens (the replica's help: portal_words.py).
TRANSLATED = [
    "src/myopenip/cli.py",
    "src/myopenip/terminal.py",
    "src/myopenip/startup.py",
    "src/myopenip/documents.py",
    "src/myopenip/progress.py",
    "src/myopenip/commands/dissociate.py",
    "src/myopenip/commands/batch.py",
    "src/myopenip/commands/find.py",
    "src/myopenip/commands/smoke.py",
    "src/myopenip/commands/history.py",
    "src/myopenip/commands/numbers.py",
    "src/myopenip/commands/demo.py",
    "src/myopenip/ledgers.py",
    "src/myopenip_bot/smoke/junit.py",
    "src/myopenip_bot/wording.py",
]
# Calls whose text argument a person reads.
SHOWN = {"print", "add_column", "Table", "Text", "status", "UsageError", "ArgumentTypeError"}
SHOWN_KEYWORDS = {"help", "title", "description", "epilog", "metavar"}
MARKERS = {"_", "N_", "ngettext", "usage_error"}


def _words_outside_markers(node: ast.AST) -> list[str]:
    """The string literals with words in `node`, outside a _() / N_() / ngettext() call."""
    found: list[str] = []

    def visit(child: ast.AST) -> None:
        if isinstance(child, ast.Call):
            name = getattr(child.func, "id", getattr(child.func, "attr", ""))
            if name in MARKERS:
                return
            if name in ("plain", "safe", "format_number", "signal_name", "join", "get"):
                return  # data: the portal's or the file's texts, refs, numbers
        if isinstance(child, ast.Dict):  # `% {"count": n}`: its keys are names
            for value in child.values:
                visit(value)
            return
        if isinstance(child, ast.Subscript):  # row["licence"]: a key
            visit(child.value)
            return
        if isinstance(child, ast.Compare):  # column == "Number": a test, not a text
            return
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            text = child.value
            # two letters in a row: a word (not "—", "\n", "· ", "[red]", a style name)
            stripped = text.replace("[red]", "").replace("[/red]", "").replace("[/yellow]", "")
            stripped = stripped.replace("[yellow]", "").replace("[bold]", "").replace("[/bold]", "")
            if any(a.isalpha() and b.isalpha() for a, b in itertools.pairwise(stripped)):
                found.append(text)
            return
        for grandchild in ast.iter_child_nodes(child):
            visit(grandchild)

    visit(node)
    return found


# Literal words a person reads that are the same in every language: the portal's button
# and answers, refs, styles.
SAME_IN_EVERY_LANGUAGE = {
    "Oui",
    "Non",
    "red",
    "green",
    "cyan",
    "yellow",
    "dim",
    "bold red",
    "bold",
    "progress.data.speed",
    "progress.remaining",
    "right",
    "left",
    "myopenip",
    "myopenip demo",  # the command's name, as the demo's first line
    "%(prog)s",
    "SDA",  # the portal's word for a number, as --number's metavar
}


@pytest.mark.parametrize("path", TRANSLATED)
def test_no_sentence_a_person_reads_bypasses_the_catalog(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    bypassing = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        arguments: list[ast.AST] = []
        if name in SHOWN:
            arguments += node.args
        arguments += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        for argument in arguments:
            for text in _words_outside_markers(argument):
                if text not in SAME_IN_EVERY_LANGUAGE:
                    bypassing.append(f"line {argument.lineno}: {text!r}")
    assert bypassing == []


def test_every_help_of_the_replicas_parser_is_in_the_catalog_and_french(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The replica writes English only; `myopenip portal --help` shows its words translated
    (myopenip/portal_words.py): a new option of the replica fails here until it is there."""
    from myopenip import portal_words
    from myopenip_portal.cli import build_parser

    monkeypatch.setenv("MYOPENIP_LANG", "fr")
    parser = build_parser()
    english = [parser.description or ""] + [
        action.help for action in parser._actions if action.help and action.dest != "help"
    ]
    untranslated = [text for text in english if portal_words.text(text) == text]
    assert untranslated == []
    assert "portails réels : " in portal_words.text(
        next(text for text in english if text.startswith("behave like"))
    )


# -- choosing the language --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "fr_CA.UTF-8"}, "fr"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "en_GB.UTF-8"}, "fr"),
        ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "en"),  # LC_ALL wins
        ({"LC_ALL": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
        ({"LC_ALL": "", "LANG": "fr_FR.UTF-8"}, "fr"),  # empty: not set
        ({"MYOPENIP_LANG": "en", "LANG": "fr_FR.UTF-8"}, "en"),
        ({"MYOPENIP_LANG": "fr", "LC_ALL": "C"}, "fr"),
        ({"MYOPENIP_LANG": "FR"}, "fr"),
        ({"MYOPENIP_LANG": "de", "LANG": "fr_FR.UTF-8"}, "en"),  # neither: English
    ],
)
def test_the_language_is_myopenip_lang_else_the_locale_else_english(
    environ: dict[str, str], language: str
) -> None:
    assert i18n.language(environ) == language


@pytest.mark.parametrize("value", ["", "fr", "FR", "fr_FR.UTF-8", "en", "en_GB"])
def test_a_language_of_the_bot_or_none_asks_for_no_warning(value: str) -> None:
    assert i18n.unknown_language({"MYOPENIP_LANG": value}) is None


def test_an_unknown_myopenip_lang_is_named_in_an_english_warning_saying_english_is_used() -> None:
    warning = i18n.unknown_language({"MYOPENIP_LANG": "de", "LANG": "fr_FR.UTF-8"})
    assert warning == (
        "myopenip: warning: MYOPENIP_LANG='de' is not a language of the bot (en, fr): "
        "English is used"
    )
    shown = i18n.unknown_language({"MYOPENIP_LANG": "x\x1b[31m"})
    assert shown is not None
    assert "\x1b" not in shown  # a control character is shown escaped, not obeyed


def test_french_typography_puts_non_breaking_spaces_where_french_wants_them() -> None:
    assert typography("Le portail : « Actif » ; vraiment ? oui !") == (
        "Le portail\u00a0: «\u00a0Actif\u00a0»\u00a0; vraiment\u00a0? oui\u00a0!"
    )
    assert typography("http://x:8080") == "http://x:8080"  # no blank before: untouched


def test_the_librarys_reasons_and_steps_read_in_french_and_stay_as_they_are_in_english(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reason = (
        "not attempted: the service SRV-10024 is « Suspendu »: only a service « Actif » can "
        "have its numbers dissociated"
    )
    unknown = "something the table does not know: FPC1"
    assert reason_text(reason) == reason  # English: as written (MYOPENIP_LANG=en, conftest)
    monkeypatch.setenv("MYOPENIP_LANG", "fr")

    assert reason_text(reason) == (
        "non tenté\u00a0: le service SRV-10024 est «\u00a0Suspendu\u00a0»\u00a0: seuls les "
        "numéros d'un service «\u00a0Actif\u00a0» peuvent être dissociés"
    )
    assert reason_text(unknown) == unknown
    assert step_text("finding the service SRV-10021") == "recherche du service SRV-10021"
    assert step_text("an unknown step") == "an unknown step"


def test_an_error_ends_its_sentence_before_the_next_one_on_the_same_line() -> None:
    """A reason without a full stop is followed by "Nothing was changed …": joined on one
    line, it must not read as one run-on sentence."""
    lines = error_lines("no licence FPC1 in SRV-10021", ErrorKind.BUSINESS, changed=False)
    assert lines[0] == "Request refused: no licence FPC1 in SRV-10021."
    assert lines[1] == "Nothing was changed on the portal."
    ended = error_lines("the service is « Suspendu »", ErrorKind.BUSINESS, changed=None)
    assert ended[0] == "Request refused: the service is « Suspendu »"


def test_a_po_newer_than_its_mo_is_read_from_the_po(tmp_path: Path) -> None:
    """A .po just edited (its .mo older, or none): its words, compiled in memory."""
    translations = i18n.translations("fr")
    assert translations.gettext("dissociated") == "dissocié"
    assert translations.ngettext("expected %s argument", "expected %s arguments", 2) == (
        "%s arguments attendus"
    )
    compiled = i18n._compile(PO)
    assert compiled[:4] in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde")  # a .mo's magic


def test_the_report_template_writes_no_word_outside_the_catalog() -> None:
    """report.html.j2: every word of the page in `_()` or a trans block, but the portal's
    own words (quoted as the portal shows them) and the markup."""
    template = (ROOT / "src/myopenip_bot/batch/templates/report.html.j2").read_text("utf-8")
    text = re.sub(r"<style>.*?</style>", " ", template, flags=re.S)
    text = re.sub(r"{% trans.*?{% endtrans %}", " ", text, flags=re.S)
    text = re.sub(r"{{.*?}}|{%.*?%}", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"« [^»]* »", " ", text)  # the portal's words
    assert re.findall(r"[A-Za-zÀ-ÿ]{2,}", text) == []


def test_a_non_breaking_space_never_breaks_a_line_on_the_terminal() -> None:
    """« Valider » stays whole in a narrow table cell (myopenip.terminal tells rich)."""
    from rich.console import Console
    from rich.table import Table

    from myopenip.terminal import plain

    console = Console(width=30, record=True, force_terminal=False)
    table = Table()
    table.add_column("État", width=16)
    table.add_row(plain(typography("relu avant son « Valider »")))
    console.print(table)

    cells = [line.strip("│ ") for line in console.export_text().splitlines()]
    assert "«\u00a0Valider\u00a0»" in cells


def test_argparse_speaks_the_language_of_the_moment_not_of_an_earlier_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process that runs a French command, then another (a test worker, a caller), does
    not leave argparse French for the next parser."""
    from myopenip.i18n import install

    monkeypatch.setenv("MYOPENIP_LANG", "fr")
    install()
    assert argparse._("show this help message and exit") == "afficher cette aide et quitter"  # type: ignore[attr-defined]
    monkeypatch.setenv("MYOPENIP_LANG", "en")
    assert argparse._("show this help message and exit") == "show this help message and exit"  # type: ignore[attr-defined]
