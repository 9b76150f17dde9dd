"""The gettext catalogs of the bot (Babel): extract, update, compile, check.

    python scripts/catalogs.py update    pybabel extract + update: the .po gets the new
                                         messages (untranslated) and loses the gone ones
    python scripts/catalogs.py compile   the .mo of every .po (the set-up runs it)
    python scripts/catalogs.py check     fails (exit 1) when the source has a message the
                                         .po lacks, the .po keeps one the source no longer
                                         has, or a message has no translation (or a fuzzy
                                         one, or one whose placeholders differ): make lint

The messages: babel.cfg (the CLI package src/myopenip, the library's words a person reads,
the batch report's template).
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "myopenip_bot" / "locale"
DOMAIN = "myopenip"
PYBABEL = Path(sys.executable).with_name("pybabel")
# %(name)s, %s, %r, %d: what `%` fills in; a translation must keep the same ones.
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdr]")


def extract(pot: Path | None = None) -> Catalog:
    """The messages the source marks, as `pybabel extract` finds them (written to `pot`
    when given)."""
    with tempfile.TemporaryDirectory() as folder:
        pot = pot or Path(folder) / f"{DOMAIN}.pot"
        subprocess.run(
            [
                str(PYBABEL),
                "--quiet",
                "extract",
                "-F",
                "babel.cfg",
                "-k",
                "N_",
                "--no-location",
                "--sort-output",
                "--project=myopenip-bot",
                "-o",
                str(pot),
                ".",  # babel.cfg's paths are relative to it; hidden folders (.venv) skipped
            ],
            cwd=ROOT,
            check=True,
        )
        with pot.open("rb") as file:
            catalog = read_po(file)
    if len(catalog) < 10:  # babel.cfg matched no file: a check of nothing would pass
        raise SystemExit(f"pybabel extract found {len(catalog)} messages: see babel.cfg")
    return catalog


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Babel's parser prints a warning for every plural message of a language whose CLDR
    plural forms differ from the .po's header (French: 3 in CLDR, 2 in gettext's
    tradition and here); the header's are the ones used."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def catalogs() -> list[Path]:
    return sorted(LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def problems(source: Catalog, po: Path) -> list[str]:
    """What is wrong with `po` against the messages of `source`."""
    with po.open("rb") as file, quiet():
        catalog = read_po(file)
    found: list[str] = []
    wanted = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in source
        if message.id
    }
    have = {
        message.id if isinstance(message.id, str) else message.id[0]: message
        for message in catalog
        if message.id
    }
    for msgid in sorted(wanted - set(have)):
        found.append(f"{po}: not in the catalog (run `make catalogs`): {msgid!r}")
    for msgid in sorted(set(have) - wanted):
        found.append(f"{po}: no longer in the source (run `make catalogs`): {msgid!r}")
    for msgid, message in sorted(have.items()):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if not all(strings) or message.fuzzy:
            found.append(f"{po}: no translation{' (fuzzy)' if message.fuzzy else ''}: {msgid!r}")
            continue
        expected = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for string in strings:
            got = sorted(set(PLACEHOLDER.findall(string)))
            # French's singular may name no count (« la ligne »): only the plural must
            if got != expected and not (
                len(strings) > 1 and string is strings[0] and set(got) <= set(expected)
            ):
                found.append(f"{po}: placeholders {got} instead of {expected}: {msgid!r}")
    return found


def update() -> None:
    with tempfile.TemporaryDirectory() as folder:
        pot = Path(folder) / f"{DOMAIN}.pot"
        extract(pot)
        subprocess.run(
            [
                str(PYBABEL),
                "--quiet",
                "update",
                "-D",
                DOMAIN,
                "-i",
                str(pot),
                "-d",
                str(LOCALE),
                "--ignore-obsolete",
                "--no-fuzzy-matching",
                "--width=100",  # the width the catalog is written at: no rewrapping diffs
            ],
            cwd=ROOT,
            check=True,
        )


def compile_all() -> None:
    """pybabel compile (its plural-forms warnings hidden, see quiet(); shown on a failure)."""
    done = subprocess.run(
        [str(PYBABEL), "--quiet", "compile", "-D", DOMAIN, "-d", str(LOCALE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(done.returncode)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        source = extract()
        found = [line for po in catalogs() for line in problems(source, po)]
        for line in found:
            sys.stderr.write(line + "\n")
        if not catalogs():
            sys.stderr.write(f"no catalog under {LOCALE}\n")
            return 1
        return 1 if found else 0
    else:
        sys.stderr.write(__doc__ or "")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
