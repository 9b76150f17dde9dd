"""A batch file: `service;licence;keep_number[;number]` rows, read and checked whole.

CSV with `;` or `,`, UTF-8 with or without BOM, CRLF or LF, a header row, blank lines
ignored; or an Excel `.xlsx` file with the same columns on its first sheet. Every bad row
is reported with its line, column and value before anything else happens: the file is
done as it says, or not at all.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from myopenip_bot.errors import UsageError
from myopenip_bot.models import format_number, normalize_number

__all__ = ["COLUMNS", "BatchFileError", "BatchRow", "read_batch_file"]

COLUMNS = ("service", "licence", "keep_number", "number")
REQUIRED = ("service", "licence", "keep_number")
# The columns results.csv adds: a report fed back as a file has them, and they are ignored.
REPORT_COLUMNS = ("outcome", "reason")
KEEP = {"oui": True, "yes": True, "non": False, "no": False}
_LICENCE = re.compile(r"FPC\d{6}")
_SERVICE = re.compile(r"[A-Z0-9][A-Z0-9_.-]*")


@dataclass(frozen=True)
class BatchRow:
    """One row of the file, checked: refs upper-cased, the number as ten digits."""

    line: int
    service: str
    licence: str
    keep: bool
    number: str | None = None


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        shown = f" {self.value!r}" if self.value else ""
        return f"{where}:{shown} {self.message}"


class BatchFileError(UsageError):
    """The batch file cannot be done as it is; every problem is listed."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {problem}" for problem in problems)
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        super().__init__(f"{path}: {count}, nothing was done:\n{listed}")


def read_batch_file(path: Path) -> list[BatchRow]:
    """Every row of the file, or BatchFileError listing every problem (nothing is done)."""
    try:
        table = list(_xlsx_lines(path) if path.suffix.lower() == ".xlsx" else _csv_lines(path))
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        bad = error.object[error.start : error.end].hex(" ")
        message = f"is not UTF-8 (byte {bad}): save the file as « CSV UTF-8 », or as .xlsx"
        raise BatchFileError(path, [Problem(line, "", "", message)]) from None
    except (OSError, ValueError, csv.Error) as error:
        raise BatchFileError(path, [Problem(0, "", "", f"cannot be read: {error}")]) from None
    problems: list[Problem] = []
    rows = _rows(table, problems)
    if not problems and not rows:
        problems.append(Problem(0, "", "", "holds no row to do (only a header, or nothing)"))
    if problems:
        raise BatchFileError(path, problems)
    return rows


def _csv_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    text = path.read_bytes().decode("utf-8-sig")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for values in reader:
        yield reader.line_num, values


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # only for Excel files

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not xlsx
        raise ValueError(f"not an Excel .xlsx file ({type(error).__name__}: {error})") from None
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(value) for value in values]
    finally:
        book.close()


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


def _rows(table: Iterable[tuple[int, list[str]]], problems: list[Problem]) -> list[BatchRow]:
    lines = [(line, [v.strip() for v in values]) for line, values in table]
    lines = [(line, values) for line, values in lines if any(values)]  # blank lines
    if not lines:
        return []
    header_line, header = lines[0]
    names = [name.lower().lstrip("\ufeff") for name in header]
    while names and not names[-1]:
        names.pop()  # trailing empty columns (Excel, or a trailing separator)
    for name in names:
        if name not in COLUMNS + REPORT_COLUMNS:
            problems.append(
                Problem(header_line, name, "", f"unknown column; the columns are {COLUMNS}")
            )
    for name in REQUIRED:
        if name not in names:
            problems.append(Problem(header_line, name, "", "missing column"))
    repeated = sorted({name for name in names if names.count(name) > 1})
    for name in repeated:
        problems.append(Problem(header_line, name, "", "column given twice"))
    if problems:
        return []
    rows: list[BatchRow] = []
    seen: dict[tuple[str, str], int] = {}
    for line, values in lines[1:]:
        extra = [v for v in values[len(names) :] if v]
        if extra:
            problems.append(Problem(line, "", extra[0], "more values than columns"))
            continue
        cells = dict(zip(names, values + [""] * (len(names) - len(values)), strict=False))
        row = _row(line, cells, problems)
        if row is None:
            continue
        key = (row.service, row.licence)
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
    service = cells["service"].upper()
    if not _SERVICE.fullmatch(service):
        problems.append(Problem(line, "service", cells["service"], "is not a service ref"))
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
    if len(problems) > before or keep is None:
        return None
    return BatchRow(line=line, service=service, licence=licence, keep=keep, number=number)


def describe(row: BatchRow) -> str:
    """ "SRV-10021 FPC367128 (02 31 45 67 89) Non" for messages."""
    number = f" ({format_number(row.number)})" if row.number else ""
    return f"{row.service} {row.licence}{number} {'Oui' if row.keep else 'Non'}"
