"""The bot's record of what the portal accepted and has not shown done yet: written,
read back by portal, forgotten, private, shared by every process of a user; a file it
cannot use is a warning, never the end of a run."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from structlog.testing import capture_logs

from myopenip_bot.dissociation.accepted import AcceptedRecords, same_portal
from myopenip_bot.models import LicenceTask, Tab, Target

PORTAL = "http://127.0.0.1:8765"


def accepted(ref: str, number: str) -> LicenceTask:
    return LicenceTask(
        0, Target(licence_ref=ref), keep=False, licence_ref=ref, number=number, tab=Tab.GROUPEMENTS
    )


def test_what_the_portal_accepted_is_read_back_by_any_later_run_until_forgotten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state" / "myopenip" / "accepted.sqlite3"
    AcceptedRecords(path, PORTAL).accepted(
        "MC-004217",
        [accepted("FPC367128", "0231456789"), accepted("FPC367129", "0231456790")],
        "Numéro(s) dissocié(s) : 2",
    )

    later = AcceptedRecords(path, PORTAL + "/")  # the same portal, written otherwise
    earlier = later.earlier()

    assert {ref: (a.number, a.service) for ref, a in earlier.items()} == {
        "FPC367128": ("0231456789", "MC-004217"),
        "FPC367129": ("0231456790", "MC-004217"),
    }
    assert AcceptedRecords(path, "http://other:8765").earlier() == {}
    later.forget(["FPC367128"])
    assert list(AcceptedRecords(path, PORTAL).earlier()) == ["FPC367129"]


def test_the_records_are_private_to_their_owner(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "accepted.sqlite3"

    AcceptedRecords(path, PORTAL).accepted("SRV-10021", [accepted("FPC367128", "0231456789")], None)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_file_that_is_not_the_records_is_never_written_and_only_warned_about(
    tmp_path: Path,
) -> None:
    other = tmp_path / "accepted.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 10)
    before = (other.read_bytes(), garbage.read_bytes())

    with capture_logs() as logs:
        for path in (other, garbage):
            records = AcceptedRecords(path, PORTAL)
            records.accepted("SRV-10021", [accepted("FPC367128", "0231456789")], None)
            assert records.earlier() == {}

    assert (other.read_bytes(), garbage.read_bytes()) == before
    assert {e["event"] for e in logs} == {
        "accepted_records_not_written",
        "accepted_records_unreadable",
    }


def test_a_link_in_place_of_the_records_is_refused_and_its_target_untouched(
    tmp_path: Path,
) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep me", encoding="utf-8")
    path = tmp_path / "accepted.sqlite3"
    path.symlink_to(target)

    with capture_logs() as logs:
        AcceptedRecords(path, PORTAL).accepted("SRV-10021", [accepted("FPC367128", "1")], None)

    assert target.read_text(encoding="utf-8") == "keep me"
    assert [e["event"] for e in logs] == ["accepted_records_not_written"]


def test_a_portal_is_the_same_whatever_the_case_of_its_host_or_a_trailing_slash() -> None:
    assert same_portal("HTTP://Portal.Example:8000/") == "http://portal.example:8000"
    assert same_portal("https://portal/Espace/") == "https://portal/Espace"
