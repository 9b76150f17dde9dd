"""Hostile files: nothing a batch file or a planted link holds can crash, stall or mislead
the bot, or make it write where it should not. In-process: no browser, no portal."""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from myopenip.cli import main
from myopenip_bot.batch.file import (
    MAX_PROBLEMS,
    MAX_XLSX_SHARED_STRINGS,
    MAX_XLSX_UNCOMPRESSED,
    BatchFileError,
    read_batch_file,
)

HEADER = "service;licence;keep_number;number\n"


@pytest.fixture
def batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str]]:
    """`myopenip batch ARGS` in-process, in tmp_path, with credentials set; (code, stderr)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MYOPENIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MYOPENIP_USERNAME", "demo")
    monkeypatch.setenv("MYOPENIP_PASSWORD", "demo")
    monkeypatch.setenv("MYOPENIP_BASE_URL", "http://127.0.0.1:9")  # never reached

    def run(*args: str) -> tuple[int, str]:
        code = main(["batch", *args])
        captured = capsys.readouterr()
        return code, captured.err

    return run


def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "batch.csv"
    path.write_text(HEADER + "SRV-10021;FPC367128;non;\n", encoding="utf-8")
    return path


# -- large and bad files --------------------------------------------------------------


def test_50000_bad_rows_list_the_first_problems_then_count_the_rest(tmp_path: Path) -> None:
    # (make bench reads 200,000 bad rows: bench/limits.py, its output's size and time)
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "SRV-10021;FPC36712X;peut-être;\n" * 50_000, encoding="utf-8")

    with pytest.raises(BatchFileError) as caught:
        read_batch_file(path)

    message = str(caught.value)
    assert len(caught.value.problems) == 100_000
    assert message.count("\n  line ") == MAX_PROBLEMS
    assert "… and 99,950 more problems" in message
    assert len(message) < 10_000


def test_full_width_digits_are_not_digits_in_refs_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        HEADER + "SRV-10021;FPC３６７１２８;non;\nSRV-10021;FPC367129;non;０２３１４５６７９０\n",
        encoding="utf-8",
    )

    with pytest.raises(BatchFileError) as caught:
        read_batch_file(path)

    assert [(p.line, p.column) for p in caught.value.problems] == [(2, "licence"), (3, "number")]


def test_a_value_longer_than_any_ref_is_refused_naming_its_length(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(HEADER + f"SRV-10021;FPC367128;non;{'0' * 50_000}\n", encoding="utf-8")

    with pytest.raises(BatchFileError, match="50,000 characters"):
        read_batch_file(path)


# -- .xlsx files --------------------------------------------------------------------------


def xlsx_with_part(path: Path, name: str, size: int, chunk: bytes) -> Path:
    """A zip holding the parts of a workbook and `name` inflating to `size` bytes."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["service", "licence", "keep_number"])
    template = path.with_suffix(".template.xlsx")
    book.save(template)
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
        with target.open(name, "w", force_zip64=True) as part:
            written = 0
            while written < size:
                part.write(chunk)
                written += len(chunk)
    return path


@pytest.mark.parametrize(
    ("part", "size", "chunk", "limit"),
    [
        (
            "xl/worksheets/sheet1.xml",
            MAX_XLSX_UNCOMPRESSED + (1 << 20),
            b" " * (1 << 20),
            "inflates",
        ),
        (
            "xl/sharedStrings.xml",
            MAX_XLSX_SHARED_STRINGS + (1 << 20),
            b"x" * (1 << 20),
            "shared strings",
        ),
        (
            "xl/sharedStrings.xml",
            MAX_XLSX_SHARED_STRINGS * 2,
            b"<si><t>x</t></si>" * 4096,
            "shared strings",
        ),
    ],
    ids=["inflates-beyond-the-limit", "one-huge-shared-string", "millions-of-shared-strings"],
)
def test_an_xlsx_bomb_is_refused_before_anything_is_inflated(
    tmp_path: Path, part: str, size: int, chunk: bytes, limit: str
) -> None:
    path = xlsx_with_part(tmp_path / "bomb.xlsx", part, size, chunk)
    assert path.stat().st_size < 8 * 1024 * 1024  # a small file

    with pytest.raises(BatchFileError, match=limit) as caught:
        read_batch_file(path)

    assert caught.value.problems[0].line == 0


def test_an_xlsx_formula_without_a_computed_value_is_refused_not_read_as_empty(
    tmp_path: Path,
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["service", "licence", "keep_number", "number"])
    sheet.append(["SRV-10021", "FPC367128", "non", '=CONCATENATE("02","31456789")'])
    path = tmp_path / "formula.xlsx"
    book.save(path)  # openpyxl saves formulas without a computed value, as scripts do

    with pytest.raises(BatchFileError) as caught:
        read_batch_file(path)

    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, "number")
    assert "formula without a computed value" in problem.value


# -- links planted where the bot writes -------------------------------------------------


def test_a_report_folder_that_is_a_link_is_refused_and_its_target_untouched(
    tmp_path: Path, batch: Callable[..., tuple[int, str]]
) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "report").symlink_to(target)

    code, err = batch(str(good_file(tmp_path)), "--dry-run", "--report", "report")

    assert code == 2
    assert "symbolic link" in err
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("name", ["report.html", "results.csv"])
def test_report_files_that_are_links_are_refused_and_their_targets_untouched(
    tmp_path: Path, batch: Callable[..., tuple[int, str]], name: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    victim.chmod(0o644)
    report = tmp_path / "report"
    report.mkdir()
    (report / name).symlink_to(victim)

    code, err = batch(str(good_file(tmp_path)), "--dry-run", "--report", str(report))

    assert code == 2
    assert "symbolic link" in err
    assert victim.read_text(encoding="utf-8") == "precious"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644


@pytest.mark.parametrize("planted", ["j.sqlite", "j.sqlite.lock", "j.sqlite-wal"])
def test_a_journal_or_companion_that_is_a_link_is_refused_and_its_target_untouched(
    tmp_path: Path, batch: Callable[..., tuple[int, str]], planted: str
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (tmp_path / planted).symlink_to(victim)

    code, err = batch(str(good_file(tmp_path)), "--yes", "--journal", "j.sqlite")

    assert code == 2
    assert "symbolic link" in err
    assert victim.read_text(encoding="utf-8") == "precious"


def test_a_journal_path_that_is_not_a_regular_file_gets_no_lock_beside_it(
    tmp_path: Path, batch: Callable[..., tuple[int, str]]
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    code, err = batch(str(good_file(tmp_path)), "--yes", "--journal", str(fifo))

    assert code == 2
    assert "not a regular file" in err
    assert not (tmp_path / "pipe.lock").exists()
