"""`myopenip dissociate` checks its arguments before any browser starts."""

from __future__ import annotations

import pytest

from myopenip.cli import build_parser
from myopenip.commands.dissociate import build_request
from myopenip_bot.errors import UsageError
from myopenip_bot.models import Target


def parse(*argv: str) -> object:
    return build_request(build_parser().parse_args(["dissociate", *argv]))


def test_licences_and_numbers_alone_are_separate_targets() -> None:
    request = parse("--service", "srv-10021", "--licence", "fpc367128", "--keep-number")
    # a service ref as given, whatever its shape (the portal's search matches it, case
    # aside); a licence ref upper-cased
    assert request.service_ref == "srv-10021"  # type: ignore[attr-defined]
    assert request.targets == (Target(licence_ref="FPC367128"),)  # type: ignore[attr-defined]
    request = parse("--service", "SRV-10021", "--number", "+33 2 31 45 67 89", "--release-number")
    assert request.targets == (Target(number="0231456789"),)  # type: ignore[attr-defined]
    assert request.keep_number is False  # type: ignore[attr-defined]


def test_licences_and_numbers_given_together_are_paired_in_order() -> None:
    request = parse(
        "--service", "SRV-10021",
        "--licence", "FPC367128", "--number", "02 31 45 67 89",
        "--licence", "FPC367129", "--number", "0231456790",
        "--keep-number",
    )  # fmt: skip
    assert request.targets == (  # type: ignore[attr-defined]
        Target("FPC367128", "0231456789"),
        Target("FPC367129", "0231456790"),
    )


def test_keep_or_release_is_required_never_defaulted(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["dissociate", "--service", "SRV-1", "--licence", "FPC1"])
    assert exit_info.value.code == 2
    assert "--keep-number --release-number" in capsys.readouterr().err


def test_keep_and_release_together_are_refused() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(
            ["dissociate", "--service", "S", "--licence", "L", "--keep-number", "--release-number"]
        )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--number", "12"], "--number '12': not a French ten-digit number"),
        (["--licence", "FPC367128", "--licence", "fpc367128"], "--licence given twice: FPC367128"),
        (["--number", "0231456789", "--number", "02 31 45 67 89"], "--number given twice"),
        (["--licence", "A", "--licence", "B", "--number", "0231456789"], "paired in order"),
        (["--licence", "FPC 367128"], "a ref is one word"),
        ([], "at least one --licence or --number"),
    ],
)
def test_bad_targets_are_refused_naming_the_culprit(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse("--service", "SRV-10021", "--keep-number", *argv)


@pytest.mark.parametrize(
    ("service", "why"),
    [
        ("  ", "is empty"),
        ("SRV 10021", "has a blank inside"),
        ("SRV-\x1b[31m", "holds a control character"),
        ("S" * 65, "is 65 characters long"),
    ],
    ids=["blank", "space-inside", "control-character", "too-long"],
)
def test_a_service_ref_no_portal_can_have_is_refused_saying_why(service: str, why: str) -> None:
    with pytest.raises(UsageError, match=f"--service .*{why}"):
        parse("--service", service, "--licence", "FPC367128", "--keep-number")


@pytest.mark.parametrize("service", ["MC-004217", "MC-7001", "svc/42", "../../x", "Ré-12"])
def test_a_service_ref_of_any_other_shape_is_taken_as_given(service: str) -> None:
    request = parse("--service", service, "--licence", "FPC367128", "--keep-number")
    assert request.service_ref == service  # type: ignore[attr-defined]


@pytest.mark.parametrize("abbreviation", ["--keep", "--release", "--skip", "--lic"])
def test_options_are_never_abbreviated(
    abbreviation: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(
            ["dissociate", "--service", "S", "--licence", "L", "--keep-number", abbreviation]
        )
    assert exit_info.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_skip_refused_is_off_unless_asked() -> None:
    base = ("--service", "SRV-10021", "--licence", "FPC367128", "--keep-number")
    assert parse(*base).skip_refused is False  # type: ignore[attr-defined]
    assert parse(*base, "--skip-refused").skip_refused is True  # type: ignore[attr-defined]


def test_help_and_a_wrong_command_list_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["frobnicate"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    for command in ("portal", "dissociate", "demo"):
        assert command in error
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    shown = capsys.readouterr().out
    for command in ("portal", "dissociate", "demo"):
        assert command in shown


def test_a_ticket_goes_with_every_licence_asked_and_a_bad_one_is_refused() -> None:
    request = parse(
        "--service",
        "SRV-10021",
        "--licence",
        "FPC367128",
        "--number",
        "0231456790",
        "--release-number",
        "--ticket",
        "  INC-1001 ",
    )
    assert {target.ticket for target in request.targets} == {"INC-1001"}
    assert {
        t.ticket for t in parse("--service", "S", "--licence", "FPC367128", "--keep-number").targets
    } == {""}
    for bad, why in (("", "is empty"), ("INC\n1", "control character"), ("I" * 101, "at most 100")):
        with pytest.raises(UsageError, match=why):
            parse("--service", "S", "--licence", "FPC367128", "--keep-number", "--ticket", bad)


def test_version_is_read_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == f"myopenip {version('myopenip-bot')}\n"
