"""A batch file: `service;licence;keep_number[;number][;ticket]` rows, read and checked whole.

CSV separated by `;`, `,`, a tab or `|` (guessed from the header), UTF-8 with or without
BOM, CRLF or LF, a header row, blank lines ignored; or an Excel `.xlsx` file with the same
columns on its first sheet. The header may use the portal's own words (« Réf. du service »,
« Licence », « Conserver le numéro », « SDA »), in any case and with or without accents;
the columns a report or a plan adds (results.csv, plan.csv) are read and ignored. Every
bad row is reported with its line, column and value before anything else happens (the
first MAX_PROBLEMS, then how many more): the file is done as it says, or not at all.

A file is input the bot does not control: it is read within limits (its size, an .xlsx
file's uncompressed size and shared strings, a value's length), so that no file can make
the bot run out of memory or time; refs and numbers are ASCII digits only, and an Excel
formula without a computed value is refused, never read as an empty cell.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from myopenip_bot.errors import UsageError
from myopenip_bot.models import (
    format_number,
    normalize_number,
    service_ref_problem,
    ticket_problem,
)

__all__ = [
    "COLUMNS",
    "DELIMITERS",
    "IGNORED_COLUMNS",
    "BatchFileError",
    "BatchRow",
    "EmptyBatchFileError",
    "read_batch_file",
]

COLUMNS = ("service", "licence", "keep_number", "number", "ticket")
REQUIRED = ("service", "licence", "keep_number")
# The portal's own words for the columns (screens 3 and 5, the dialog), accepted as
# headers; matched like every header: case, accents and punctuation aside.
ALIASES = {
    "ref du service": "service",
    "reference du service": "service",
    "conserver le numero": "keep_number",
    "sda": "number",
    "numero de ticket": "ticket",
}
# The columns a report (results.csv) or a plan (plan.csv) adds: such a file fed back is a
# batch file, and they are ignored.
IGNORED_COLUMNS = (
    "outcome",
    "reason",
    "service_name",
    "client",
    "licence_type",
    "user",
    "as_approved",
)
# The separators a CSV file may use; the header says which (the one that names the most
# columns, then the most frequent).
DELIMITERS = (";", ",", "\t", "|")
KEEP = {"oui": True, "yes": True, "non": False, "no": False}
_LICENCE = re.compile(r"FPC[0-9]{6}")
# Problems listed in full; the others are counted.
MAX_PROBLEMS = 50
# What a batch file may weigh: far beyond a million rows, far below what would exhaust the
# machine. A bigger file is refused with a line saying which limit it passed.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024  # every part of the zip, inflated
MAX_XLSX_SHARED_STRINGS = 16 * 1024 * 1024  # xl/sharedStrings.xml, held in memory whole
MAX_XLSX_PARTS = 1_000
MAX_VALUE_LENGTH = 1_000  # characters of one value (a ref is 9, a reason a few hundred)
MAX_COLUMNS = 32  # columns read per row (the format has at most six)
# Rows read between two calls of the caller's `check` (a signal stops the read there).
CHECK_EVERY = 5_000


@dataclass(frozen=True)
class BatchRow:
    """One row of the file, checked: the service ref as written, the licence ref
    upper-cased, the number as ten digits."""

    line: int
    service: str
    licence: str
    keep: bool
    number: str | None = None
    ticket: str = ""  # the row's own ticket (the ledger's), over the run's --ticket


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        """ "line 3, column keep_number: 'peut-être' is not oui/non"; a problem of the
        whole file (line 0) names no line."""
        where = [f"line {self.line}"] if self.line else []
        where += [f"column {self.column}"] if self.column else []
        shown = f" {self.value!r}" if self.value else ""
        prefix = f"{', '.join(where)}:" if where else ""
        return f"{prefix}{shown} {self.message}".strip()


class BatchFileError(UsageError):
    """The batch file cannot be done as it is; its problems are listed (MAX_PROBLEMS), then
    a hint when the header was not understood."""

    def __init__(self, path: Path, problems: list[Problem], hint: str | None = None) -> None:
        self.problems = problems
        self.hint = hint
        super().__init__(f"{path}: {self.count()}, nothing was done:\n" + "\n".join(self.lines()))

    def count(self) -> str:
        return f"{len(self.problems):,} problem{'s' if len(self.problems) > 1 else ''}"

    def lines(self) -> list[str]:
        """The problems as listed (the first MAX_PROBLEMS, then how many more), the hint last."""
        listed = [f"  {problem}" for problem in self.problems[:MAX_PROBLEMS]]
        more = len(self.problems) - MAX_PROBLEMS
        if more > 0:
            listed.append(f"  … and {more:,} more problem{'s' if more > 1 else ''}")
        if self.hint:
            listed.append(f"  hint: {self.hint}")
        return listed


class EmptyBatchFileError(BatchFileError):
    """The file holds no row (only a header, or nothing): nothing to do, not an error of
    the file (`myopenip batch` exits 0 saying so)."""


def read_batch_file(path: Path, check: Callable[[], None] | None = None) -> list[BatchRow]:
    """Every row of the file, or BatchFileError listing its problems (nothing is done).

    `check` is called every CHECK_EVERY rows: a signal handler's check stops a long read.
    A service ref may have any shape the portal gives it (the guide shows none): only one
    that no portal's can be is refused here (models.service_ref_problem); the others are
    looked up on the portal, where a dry run says which do not exist.
    """
    reading = _Reading()
    try:
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise _TooBig(
                f"is {path.stat().st_size:,} bytes: a batch file may hold {MAX_FILE_BYTES:,}"
                " at most; split it"
            )
        xlsx = path.suffix.lower() == ".xlsx"
        lines = _xlsx_lines(path) if xlsx else _csv_lines(path, reading)
        table = list(_checked(lines, check))
    except _TooBig as error:
        raise BatchFileError(path, [Problem(0, "", "", str(error))]) from None
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        bad = error.object[error.start : error.end].hex(" ")
        message = f"is not UTF-8 (byte {bad}): save the file as « CSV UTF-8 », or as .xlsx"
        raise BatchFileError(path, [Problem(line, "", "", message)]) from None
    except (OSError, ValueError, csv.Error) as error:
        why = _os_words(error) if isinstance(error, OSError) else str(error)
        raise BatchFileError(path, [Problem(0, "", "", f"cannot be read: {why}")]) from None
    problems: list[Problem] = []
    rows = _rows(table, problems, reading, check)
    if not problems and not rows:
        raise EmptyBatchFileError(
            path, [Problem(0, "", "", "holds no row to do (only a header, or nothing)")]
        )
    if problems:
        raise BatchFileError(path, problems, _header_hint(reading) if reading.bad_header else None)
    return rows


class _TooBig(ValueError):
    """The file passes one of the limits above; the message says which."""


@dataclass
class _Reading:
    """How a CSV file was read, for the hint a header that fails gets."""

    delimiter: str | None = None  # None: an .xlsx file
    bad_header: bool = False


def header_key(name: str) -> str:
    """A header as it is compared: lower case, without accents, punctuation or BOM, one
    space between words ("Réf. du service" -> "ref du service"; "keep_number" stays)."""
    text = unicodedata.normalize("NFKD", name.replace("\ufeff", ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z_]+", " ", text).split())


def column_of(name: str) -> str:
    """The column a header names: one of COLUMNS or IGNORED_COLUMNS, else the header
    itself as compared."""
    key = header_key(name)
    return ALIASES.get(key, key)


_KNOWN = frozenset(COLUMNS + IGNORED_COLUMNS)


def guess_delimiter(header: str) -> str:
    """The separator of a CSV file from its header line: the one that names the most
    known columns, then the most frequent, then the first of DELIMITERS."""

    def score(delimiter: str) -> tuple[int, int, int]:
        try:
            names = next(csv.reader([header], delimiter=delimiter))
        except (csv.Error, StopIteration):
            names = []
        known = len({column_of(name) for name in names} & _KNOWN)
        return known, header.count(delimiter), -DELIMITERS.index(delimiter)

    return max(DELIMITERS, key=score)


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "a tab", ";": "« ; »", ",": "« , »", "|": "« | »"}[delimiter]


def _header_hint(reading: _Reading) -> str:
    read = (
        f"the header was read as columns separated by {_delimiter_name(reading.delimiter)} "
        f"(the separators tried: ; , tab |); "
        if reading.delimiter
        else ""
    )
    return (
        f"{read}the columns are service, licence, keep_number and, optionally, number and "
        "ticket — "
        "or the portal's words « Réf. du service », « Licence », « Conserver le numéro », "
        "« SDA »"
    )


def _checked(
    lines: Iterable[tuple[int, list[str]]], check: Callable[[], None] | None
) -> Iterator[tuple[int, list[str]]]:
    for count, line in enumerate(lines, start=1):
        if check is not None and count % CHECK_EVERY == 0:
            check()
        yield line


def _csv_lines(path: Path, reading: _Reading) -> Iterator[tuple[int, list[str]]]:
    text = path.read_bytes().decode("utf-8-sig")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = guess_delimiter(first)
    reading.delimiter = delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for values in reader:
        yield reader.line_num, values


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows, read twice: once for where its formulas are, once for the
    values Excel computed (a formula without one would otherwise read as empty)."""
    _check_xlsx_limits(path)
    formulas = {(cell.row, cell.column) for cell in _xlsx_cells(path, data_only=False)}
    row_values: dict[int, list[str]] = {}
    current = 0
    for cell in _xlsx_cells(path, data_only=True, formulas=formulas):
        if cell.row != current:
            if current:
                yield current, row_values.pop(current)
            current = cell.row
            row_values[current] = []
        values = row_values[current]
        values += [""] * (cell.column - 1 - len(values))
        values.append(cell.text)
    if current:
        yield current, row_values.pop(current)


@dataclass(frozen=True)
class _Cell:
    row: int
    column: int
    text: str


def _xlsx_cells(
    path: Path, *, data_only: bool, formulas: set[tuple[int, int]] | None = None
) -> Iterator[_Cell]:
    """With data_only false, only the formula cells; with it, every cell's value (a
    formula cell without a computed value refused, as a formula in a CSV file would be)."""
    from openpyxl import load_workbook  # only for Excel files

    try:
        book = load_workbook(path, read_only=True, data_only=data_only)
    except Exception as error:  # openpyxl raises many kinds for a file that is not xlsx
        raise ValueError(f"not an Excel .xlsx file ({type(error).__name__}: {error})") from None
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(max_col=MAX_COLUMNS):
            for cell in row:
                value = getattr(cell, "value", None)
                row_number, column = getattr(cell, "row", 0), getattr(cell, "column", 0)
                if not data_only:
                    if getattr(cell, "data_type", "") == "f":
                        yield _Cell(row_number, column, "")
                    continue
                if value is None and (row_number, column) in (formulas or set()):
                    value = "=(a formula without a computed value)"
                if value is not None:
                    yield _Cell(row_number, column, _cell_text(value))
    finally:
        book.close()


def _check_xlsx_limits(path: Path) -> None:
    """Refuse, before inflating anything, an .xlsx file that would inflate beyond the
    limits (zipfile never inflates a part beyond the size its directory declares)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"not an Excel .xlsx file ({error})") from None
    if len(parts) > MAX_XLSX_PARTS:
        raise _TooBig(f"holds {len(parts):,} parts: an .xlsx batch file holds a few")
    inflated = sum(part.file_size for part in parts)
    if inflated > MAX_XLSX_UNCOMPRESSED:
        raise _TooBig(
            f"inflates to {inflated:,} bytes: an .xlsx batch file may inflate to "
            f"{MAX_XLSX_UNCOMPRESSED:,} at most"
        )
    strings = sum(part.file_size for part in parts if part.filename.endswith("sharedStrings.xml"))
    if strings > MAX_XLSX_SHARED_STRINGS:
        raise _TooBig(
            f"holds {strings:,} bytes of shared strings: an .xlsx batch file may hold "
            f"{MAX_XLSX_SHARED_STRINGS:,} at most"
        )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and float(value).is_integer():
        digits = str(int(value))
        # Excel drops a number's leading zero: 231456789 is 0231456789.
        return "0" + digits if len(digits) == 9 else digits
    return str(value)


def _rows(
    table: Iterable[tuple[int, list[str]]],
    problems: list[Problem],
    reading: _Reading,
    check: Callable[[], None] | None,
) -> list[BatchRow]:
    lines = [(line, [v.strip() for v in values]) for line, values in table]
    lines = [(line, values) for line, values in lines if any(values)]  # blank lines
    if not lines:
        return []
    header_line, header = lines[0]
    names = [column_of(name) for name in header]
    while names and not names[-1]:
        names.pop()  # trailing empty columns (Excel, or a trailing separator)
    for given, name in zip(header, names, strict=False):
        if name not in _KNOWN:
            problems.append(
                Problem(header_line, given, "", f"unknown column; the columns are {COLUMNS}")
            )
    for name in REQUIRED:
        if name not in names:
            problems.append(Problem(header_line, name, "", "missing column"))
    repeated = sorted({name for name in names if names.count(name) > 1})
    for name in repeated:
        problems.append(Problem(header_line, name, "", "column given twice"))
    if problems:
        reading.bad_header = True
        return []
    rows: list[BatchRow] = []
    seen: dict[tuple[str, str], int] = {}
    for count, (line, values) in enumerate(lines[1:], start=1):
        if check is not None and count % CHECK_EVERY == 0:
            check()
        # Only the format's own columns are limited (a plan's user name may be long).
        used = [v for name, v in zip(names, values, strict=False) if name in COLUMNS]
        too_long = next((v for v in used if len(v) > MAX_VALUE_LENGTH), None)
        if too_long is not None:
            shown = too_long[:40] + "…"
            problems.append(
                Problem(line, "", shown, f"a value of {len(too_long):,} characters: too long")
            )
            continue
        extra = [v for v in values[len(names) :] if v]
        if extra:
            problems.append(Problem(line, "", extra[0], "more values than columns"))
            continue
        cells = dict(zip(names, values + [""] * (len(names) - len(values)), strict=False))
        row = _row(line, cells, problems)
        if row is None:
            continue
        key = (row.service.upper(), row.licence)
        if key in seen:
            problems.append(
                Problem(line, "licence", row.licence, f"given twice (also line {seen[key]})")
            )
            continue
        seen[key] = line
        rows.append(row)
    licences: dict[str, int] = {}
    for row in rows:
        if row.licence in licences:
            problems.append(
                Problem(
                    row.line,
                    "licence",
                    row.licence,
                    f"given twice, for two services (also line {licences[row.licence]})",
                )
            )
        licences.setdefault(row.licence, row.line)
    return rows


def _row(line: int, cells: dict[str, str], problems: list[Problem]) -> BatchRow | None:
    before = len(problems)
    service = cells["service"]
    problem = service_ref_problem(service)
    if problem is not None:
        problems.append(Problem(line, "service", service, f"is not a service ref: it {problem}"))
    licence = cells["licence"].upper()
    if not _LICENCE.fullmatch(licence):
        problems.append(
            Problem(line, "licence", cells["licence"], 'is not a licence ref ("FPC" + 6 digits)')
        )
    keep = KEEP.get(cells["keep_number"].lower())
    if keep is None:
        problems.append(
            Problem(line, "keep_number", cells["keep_number"], "is not oui/non (or yes/no)")
        )
    number = None
    if cells.get("number"):
        try:
            number = normalize_number(cells["number"])
        except ValueError:
            problems.append(
                Problem(line, "number", cells["number"], "is not a French ten-digit number")
            )
    ticket = cells.get("ticket", "").strip()
    if ticket:
        problem = ticket_problem(ticket)
        if problem is not None:
            problems.append(Problem(line, "ticket", cells["ticket"], problem))
    if len(problems) > before or keep is None:
        return None
    return BatchRow(
        line=line, service=service, licence=licence, keep=keep, number=number, ticket=ticket
    )


def describe(row: BatchRow) -> str:
    """ "SRV-10021 FPC367128 (02 31 45 67 89) Non" for messages."""
    number = f" ({format_number(row.number)})" if row.number else ""
    return f"{row.service} {row.licence}{number} {'Oui' if row.keep else 'Non'}"


def _os_words(error: OSError) -> str:
    """An OSError as a person says it ("no such file"), not as Python prints it
    ("[Errno 2] No such file or directory: '…'"): the path is said already."""
    if isinstance(error, FileNotFoundError):
        return "no such file (check its name and folder)"
    if isinstance(error, IsADirectoryError):
        return "it is a folder, not a file"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or str(error)
