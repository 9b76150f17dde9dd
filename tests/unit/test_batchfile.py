"""Reading a batch file: the separators, encodings and spellings people's tools produce, a
results.csv fed back, an .xlsx; every bad row reported with its line, column and value.

Pure parsing: no browser, no portal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from myopenip.exitcodes import of_batch as batch_exit_code
from myopenip_bot.batch.file import BatchFileError, BatchRow, read_batch_file
from myopenip_bot.batch.journal import JournalRow
from myopenip_bot.batch.report import write_report
from myopenip_bot.batch.runner import BatchResult
from myopenip_bot.errors import UsageError
from myopenip_bot.models import ErrorKind


def write(tmp_path: Path, data: bytes | str, name: str = "batch.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def problems(path: Path) -> list[tuple[int, str, str]]:
    """(line, column, value) of each problem the file has; fails if it has none."""
    with pytest.raises(BatchFileError) as caught:
        read_batch_file(path)
    return [(p.line, p.column, p.value) for p in caught.value.problems]


EXPECTED = [
    BatchRow(line=2, service="SRV-10021", licence="FPC367128", keep=False, number=None),
    BatchRow(line=3, service="SRV-10021", licence="FPC367131", keep=True, number="0231456701"),
]


@pytest.mark.parametrize(
    "text",
    [
        "service;licence;keep_number;number\nSRV-10021;FPC367128;non;\n"
        "SRV-10021;FPC367131;oui;02 31 45 67 01\n",
        "service,licence,keep_number,number\r\nSRV-10021,FPC367128,non,\r\n"
        "SRV-10021,FPC367131,oui,0231456701\r\n",
        "\ufeffservice;licence;keep_number;number\r\nSRV-10021;FPC367128;non\r\n"
        "SRV-10021;FPC367131;oui;+33 2 31 45 67 01\r\n",
        # a trailing separator, spaces around values, quoted values, lower-case licence refs
        "Service ; Licence ; Keep_Number ; Number ;\nSRV-10021 ; fpc367128 ; NON ; ;\n"
        '"SRV-10021";"fpc367131";"oui";"0231456701"\n',
        "service\tlicence\tkeep_number\tnumber\nSRV-10021\tFPC367128\tnon\t\n"
        "SRV-10021\tFPC367131\toui\t02 31 45 67 01\n",
        "service|licence|keep_number|number\nSRV-10021|FPC367128|non|\n"
        "SRV-10021|FPC367131|oui|0231456701\n",
        # the portal's words, in any case, with or without accents
        "Réf. du service;LICENCE;conserver le numero;Sda\nSRV-10021;FPC367128;Non;\n"
        "SRV-10021;FPC367131;Oui;02 31 45 67 01\n",
    ],
    ids=[
        "semicolon-lf",
        "comma-crlf",
        "bom-crlf-short-row",
        "spaces-quotes-case",
        "tab",
        "pipe",
        "french-headers",
    ],
)
def test_separators_encodings_and_line_ends_read_the_same_rows(tmp_path: Path, text: str) -> None:
    assert read_batch_file(write(tmp_path, text)) == EXPECTED


def test_blank_lines_are_ignored_and_lines_keep_their_numbers_in_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\r\nservice;licence;keep_number\r\n\r\nSRV-10021;FPC367128;non\r\n  ;  ;\r\n"
        "\r\nSRV-10021;FPC367131;maybe\r\n\r\n",
    )

    assert problems(path) == [(7, "keep_number", "maybe")]


def test_blank_lines_between_good_rows_give_the_rows_their_file_line(tmp_path: Path) -> None:
    rows = read_batch_file(
        write(tmp_path, "service;licence;keep_number\n\nSRV-10021;FPC367128;non\n\n\n")
    )

    assert rows == [BatchRow(line=3, service="SRV-10021", licence="FPC367128", keep=False)]


@pytest.mark.parametrize(
    ("spelling", "keep"),
    [
        ("oui", True),
        ("Oui", True),
        ("OUI", True),
        ("yes", True),
        ("Yes", True),
        ("non", False),
        ("Non", False),
        ("no", False),
        ("NO", False),
    ],
)
def test_keep_number_is_oui_non_yes_no_in_any_case(
    tmp_path: Path, spelling: str, keep: bool
) -> None:
    (row,) = read_batch_file(
        write(tmp_path, f"service;licence;keep_number\nSRV-10021;FPC367128;{spelling}\n")
    )

    assert row.keep is keep


def test_every_bad_row_is_reported_with_line_column_and_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "service;licence;keep_number;number\n"
        "SRV-10021;FPC367128;oui;\n"
        "SRV-10021;FPC367129;peut-être;\n"  # unknown keep value
        "SRV-10021;FPC36712B;non;\n"  # malformed licence ref
        "SRV-10021;FPC367130;non;12 34\n"  # malformed number
        "SRV 10021;FPC367131;non;\n"  # malformed service ref
        "SRV-10021;FPC367128;non;\n"  # the same licence twice
        "SRV-10021;FPC367132;non;0231456702;extra\n",  # more values than columns
    )

    found = problems(path)

    assert found == [
        (3, "keep_number", "peut-être"),
        (4, "licence", "FPC36712B"),
        (5, "number", "12 34"),
        (6, "service", "SRV 10021"),
        (7, "licence", "FPC367128"),
        (8, "", "extra"),
    ]
    with pytest.raises(BatchFileError) as caught:
        read_batch_file(path)
    message = str(caught.value)
    assert "6 problems, nothing was done" in message
    assert "line 3, column keep_number: 'peut-être'" in message
    assert "also line 2" in message


def test_a_bad_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        read_batch_file(write(tmp_path, "service;licence\nSRV-10021;FPC367128\n"))


def test_the_same_licence_under_two_services_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "service;licence;keep_number\nSRV-10021;FPC367128;oui\nSRV-10022;fpc367128;oui\n",
    )

    assert problems(path) == [(3, "licence", "FPC367128")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("service;licence", [(1, "keep_number", "")]),
        ("service;licence;keep_number;colour", [(1, "colour", "")]),
        ("service;licence;keep_number;licence", [(1, "licence", "")]),
        ("service", [(1, "licence", ""), (1, "keep_number", "")]),
    ],
    ids=["missing", "unknown", "twice", "two-missing"],
)
def test_a_bad_header_names_each_column(
    tmp_path: Path, header: str, expected: list[tuple[int, str, str]]
) -> None:
    assert problems(write(tmp_path, f"{header}\nSRV-10021;FPC367128;oui;x\n")) == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"\r\n\r\n", b"\xef\xbb\xbf", b"service;licence;keep_number\r\n\r\n"],
    ids=["empty", "blank-lines", "bom-only", "header-only"],
)
def test_a_file_without_rows_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(BatchFileError, match="no row"):
        read_batch_file(write(tmp_path, data))


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        (
            "batch.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
            "line 1: is not UTF-8",
        ),
        ("batch.csv", bytes(range(256)) * 8, r"line 2: is not UTF-8"),
        ("batch.xlsx", b"service;licence;keep_number\nSRV-10021;FPC367128;oui\n", "cannot be read"),
        ("batch.xlsx", b"PK\x03\x04 a broken zip", "cannot be read"),
    ],
    ids=["png-as-csv", "random-bytes", "csv-named-xlsx", "broken-zip"],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused_not_a_crash(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    with pytest.raises(BatchFileError, match=says):
        read_batch_file(write(tmp_path, data, name))


def test_a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    # Excel's "CSV" export on Windows writes cp1252: a person must be told where to look,
    # not a byte offset.
    data = "service;licence;keep_number\nSRV-10021;FPC367128;oui\nSRV-10021;FPC367129;Non é\n"
    path = write(tmp_path, data.encode("cp1252"))

    ((line, _column, _value),) = problems(path)

    assert line == 3


def test_a_missing_file_is_refused_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(BatchFileError, match="cannot be read"):
        read_batch_file(tmp_path / "nowhere.csv")


# -- Excel ----------------------------------------------------------------------------------


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_an_xlsx_file_reads_like_a_csv_and_a_number_cell_gets_its_leading_zero_back(
    tmp_path: Path,
) -> None:
    path = write_xlsx(
        tmp_path / "batch.xlsx",
        [
            ["Service", "Licence", "Keep_number", "Number"],
            ["SRV-10021", "FPC367128", "Non", None],
            ["SRV-10021", "fpc367131", "oui", 231456701],  # Excel dropped the leading 0
            [None, None, None, None],  # a blank row
            ["SRV-10021", "FPC367132", "yes", "02 31 45 67 02"],
            ["SRV-10021", "FPC367133", "no", 231456703.0],
        ],
    )

    assert read_batch_file(path) == [
        BatchRow(line=2, service="SRV-10021", licence="FPC367128", keep=False, number=None),
        BatchRow(line=3, service="SRV-10021", licence="FPC367131", keep=True, number="0231456701"),
        BatchRow(line=5, service="SRV-10021", licence="FPC367132", keep=True, number="0231456702"),
        BatchRow(line=6, service="SRV-10021", licence="FPC367133", keep=False, number="0231456703"),
    ]


def test_a_bad_xlsx_row_is_reported_with_its_excel_row_number(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "batch.xlsx",
        [
            ["service", "licence", "keep_number", "number"],
            ["SRV-10021", "FPC367128", "non", None],
            ["SRV-10021", "FPC367131", "peut-être", 12345],
        ],
    )

    assert problems(path) == [(3, "keep_number", "peut-être"), (3, "number", "12345")]


# -- results.csv fed back -------------------------------------------------------------------


def journal_row(line: int, licence: str, keep: bool, number: str | None, state: str) -> JournalRow:
    return JournalRow(
        service="SRV-10021",
        licence=licence,
        line=line,
        keep=keep,
        number=number,
        state=state,
        planned_number=number or "0231456799",
        tab="Utilisateurs",
        submissions=1 if state == "done" else 0,
        reason=None if state == "done" else 'the portal said « non »; "quoted"; a;b',
        answer=None,
        screenshot=None,
        client="Normandie Logistique",
        run=1,
    )


def test_results_csv_fed_back_as_a_file_reads_the_same_rows(tmp_path: Path) -> None:
    result = BatchResult(
        rows=[
            journal_row(2, "FPC367128", False, None, "done"),
            journal_row(3, "FPC367131", True, "0231456701", "refused"),
            journal_row(4, "FPC367132", False, "0231456702", "failed"),
        ]
    )
    folder = tmp_path / "report"
    write_report(
        result, folder, file=tmp_path / "in.csv", journal=tmp_path / "j.sqlite", exit_code=0
    )

    rows = read_batch_file(folder / "results.csv")

    # The number read (as the portal showed it), grouped by two as in every file.
    assert [(r.service, r.licence, r.keep, r.number) for r in rows] == [
        ("SRV-10021", "FPC367128", False, "0231456799"),
        ("SRV-10021", "FPC367131", True, "0231456701"),
        ("SRV-10021", "FPC367132", False, "0231456702"),
    ]
    text = (folder / "results.csv").read_text(encoding="utf-8-sig")
    assert "02 31 45 67 99" in text
    assert "0231456799" not in text


def test_a_dry_runs_plan_is_a_batch_file_of_the_rows_it_would_do_with_their_numbers(
    tmp_path: Path,
) -> None:
    def planned(line: int, licence: str, number: str | None, state: str) -> JournalRow:
        return JournalRow(
            service="SRV-10021",
            licence=licence,
            line=line,
            keep=line % 2 == 0,
            number=None,
            state=state,
            planned_number=number,
            tab="Utilisateurs",
            submissions=0,
            reason=None,
            answer=None,
            screenshot=None,
            client="=HYPERLINK(0)",  # data, never a formula
            run=1,
            service_name="MetaCentrex Siège Caen",
            licence_type="Licence utilisateur essentiel",
            user="x" * 5_000,  # longer than a ref may be: the plan is still a batch file
        )

    result = BatchResult(
        rows=[
            planned(2, "FPC367128", "0231456789", "planned"),
            planned(3, "FPC367129", None, "refused"),
            planned(4, "FPC367131", "0231456701", "planned"),
        ],
        dry_run=True,
        would_do={"FPC367128", "FPC367131"},
        tickets={("SRV-10021", "FPC367131"): "INC-2002"},  # its own; the others: --ticket
        ticket="INC-1001",
    )
    folder = tmp_path / "report"
    write_report(result, folder, file=tmp_path / "in.csv", journal=None, exit_code=1)

    rows = read_batch_file(folder / "plan.csv")

    assert [(r.licence, r.keep, r.number, r.ticket) for r in rows] == [
        ("FPC367128", True, "0231456789", "INC-1001"),
        ("FPC367131", True, "0231456701", "INC-2002"),
    ]
    header, first = (folder / "plan.csv").read_text(encoding="utf-8-sig").splitlines()[:2]
    assert header.split(";") == [
        "service",
        "licence",
        "keep_number",
        "number",
        "service_name",
        "client",
        "licence_type",
        "user",
        "ticket",
    ]
    assert first.split(";")[3:7] + first.split(";")[-1:] == [
        "02 31 45 67 89",
        "MetaCentrex Siège Caen",
        "'=HYPERLINK(0)",
        "Licence utilisateur essentiel",
        "INC-1001",
    ]
    assert "sqlite" not in (folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "service", ["SRV-10021", "MC-004217", "MC-7003", "mc-7003", "svc/42", "../../x", "Ré-12"]
)
def test_a_service_ref_of_any_shape_is_read_as_written(tmp_path: Path, service: str) -> None:
    """The guide shows no service ref: its shape is the portal's, looked up there."""
    path = write(tmp_path, f"service;licence;keep_number\n{service};fpc367128;oui\n")

    assert read_batch_file(path) == [
        BatchRow(line=2, service=service, licence="FPC367128", keep=True, number=None)
    ]


@pytest.mark.parametrize(
    ("service", "why"),
    [
        ('""', "is empty"),
        ("SRV 10021", "has a blank inside"),
        ("SRV-\x0710021", "holds a control character"),
        ("S" * 65, "is 65 characters long"),
    ],
    ids=["empty", "blank-inside", "control-character", "too-long"],
)
def test_a_service_no_portal_can_have_fails_the_file_check_saying_why(
    tmp_path: Path, service: str, why: str
) -> None:
    path = write(
        tmp_path,
        f"service;licence;keep_number\nSRV-10021;FPC367128;oui\n{service};FPC367131;non\n",
    )

    with pytest.raises(BatchFileError) as caught:
        read_batch_file(path)

    ((line, column),) = [(p.line, p.column) for p in caught.value.problems]
    assert (line, column) == (3, "service")
    assert f"is not a service ref: it {why}" in str(caught.value)


def test_one_service_written_in_two_cases_is_one_service_for_duplicates(tmp_path: Path) -> None:
    path = write(
        tmp_path, "service;licence;keep_number\nMC-7001;FPC367128;oui\nmc-7001;FPC367128;non\n"
    )

    assert problems(path) == [(3, "licence", "FPC367128")]


def test_a_problem_of_the_whole_file_names_no_line(tmp_path: Path) -> None:
    with pytest.raises(BatchFileError) as caught:
        read_batch_file(write(tmp_path, ""))

    assert str(caught.value).endswith(":\n  holds no row to do (only a header, or nothing)")


def test_a_refused_login_exits_2_even_with_rows_left_to_do() -> None:
    # 3 would tell a scheduler to run again at once: each rerun would spend one more of
    # the account's login attempts before it locks.
    rows = [
        journal_row(2, "FPC367128", False, None, "done"),
        journal_row(3, "FPC367131", True, "0231456701", "pending"),
        journal_row(4, "FPC367132", False, "0231456702", "failed"),
    ]
    refused = BatchResult(rows=rows, error="refused", error_kind=ErrorKind.AUTHENTICATION)
    failed = BatchResult(rows=rows, error="503", error_kind=ErrorKind.TECHNICAL)

    assert batch_exit_code(refused) == 2
    assert batch_exit_code(failed) == 3
    assert batch_exit_code(BatchResult(rows=rows[:1])) == 0


def test_a_signal_exits_128_plus_it_only_while_rows_are_left_to_resume() -> None:
    settled = [
        journal_row(2, "FPC367128", False, None, "done"),
        journal_row(3, "FPC367131", True, "0231456701", "refused"),
    ]
    left = [*settled, journal_row(4, "FPC367132", False, "0231456702", "pending")]

    assert batch_exit_code(BatchResult(rows=left, interrupted=15)) == 143
    # Every row settled before the signal was acted upon: the code says how they ended.
    assert batch_exit_code(BatchResult(rows=settled, interrupted=15)) == 1
    assert batch_exit_code(BatchResult(rows=settled[:1], interrupted=2)) == 0


def test_rows_in_progress_exit_6_and_are_left_for_the_rerun() -> None:
    done = journal_row(2, "FPC367128", False, None, "done")
    working = journal_row(3, "FPC367131", True, "0231456701", "in_progress")
    refused = journal_row(4, "FPC367132", False, "0231456702", "refused")

    assert batch_exit_code(BatchResult(rows=[done, working])) == 6
    assert batch_exit_code(BatchResult(rows=[done, working, refused])) == 1  # a person first
    assert not working.final  # a rerun reads it again (done, or in progress still)
    assert batch_exit_code(BatchResult(rows=[done, working], interrupted=15)) == 143


def test_a_ticket_column_gives_each_row_its_ticket_and_a_bad_one_is_named(tmp_path: Path) -> None:
    good = write(
        tmp_path,
        "service;licence;keep_number;Numéro de ticket\n"
        "SRV-10021;FPC367128;non; INC-1001 \n"
        "SRV-10021;FPC367129;oui;\n",
    )
    bad = write(
        tmp_path,
        "service;licence;keep_number;ticket\n"
        "SRV-10021;FPC367128;non;INC\x07-1\n"
        f"SRV-10021;FPC367129;non;{'T' * 101}\n",
        name="bad.csv",
    )

    assert [(row.licence, row.ticket) for row in read_batch_file(good)] == [
        ("FPC367128", "INC-1001"),
        ("FPC367129", ""),  # the run's --ticket, if any
    ]
    assert [(line, column) for line, column, _ in problems(bad)] == [
        (2, "ticket"),
        (3, "ticket"),
    ]
