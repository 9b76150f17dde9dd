"""The ledger's observer (myopenip_bot.ledger.observer) over a real ledger, on both back
ends: what a run tells it is on disk (committed) when the call returns; a write that fails
stops the run before its next « Valider » and nothing more of that run is written; with
PostgreSQL, another machine acting on the service stops it before its click.

Plain LicenceTask and Target values stand for the runner's: no browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ledger_support import PORTAL, allow_writes, fail_writes, is_postgres
from structlog.testing import capture_logs

from myopenip_bot.ledger import Entry, LedgerWriteError, Query, open_ledger
from myopenip_bot.ledger.observer import LedgerObserver, RunContext, ServiceLockedError
from myopenip_bot.models import LicenceTask, Outcome, ServiceInfo, Tab, Target

SERVICE = ServiceInfo(
    ref="SRV-10021", name="Siège", client="Société Générale « Normandie »", account="CC-0012"
)


def context(run_dir: Path, *, dry_run: bool = False, ticket: str = "INC-1001") -> RunContext:
    return RunContext.of(
        portal=PORTAL,
        portal_user="support.n2",
        command="dissociate",
        run_dir=run_dir,
        dry_run=dry_run,
        ticket=ticket,
    )


def task(
    ref: str | None,
    number: str | None = "0231456789",
    *,
    keep: bool = False,
    target: Target | None = None,
) -> LicenceTask:
    """A licence found (`ref`) with its number, planned."""
    return LicenceTask(
        index=0,
        target=target or Target(licence_ref=ref),
        keep=keep,
        licence_ref=ref,
        number=number,
        tab=Tab.UTILISATEURS if ref else None,
    )


def written(ledger_url: str) -> list[Entry]:
    """Every entry, oldest first, read by another connection (what is committed)."""
    with open_ledger(ledger_url) as ledger:
        return ledger.entries(Query(), every=True)[::-1]


def said(ledger_url: str) -> list[tuple[str, str, str]]:
    return [(e.licence, e.outcome, e.reason) for e in written(ledger_url)]


@pytest.fixture
def observer(ledger_url: str, tmp_path: Path) -> Iterator[LedgerObserver]:
    ledger = open_ledger(ledger_url)
    watching = LedgerObserver(ledger, context(tmp_path / "run"), service=SERVICE.ref)
    watching.service_found(SERVICE)
    yield watching
    watching.close()
    ledger.close()


def test_submitting_is_on_disk_when_it_returns_with_every_field(
    observer: LedgerObserver, ledger_url: str, tmp_path: Path
) -> None:
    tasks = [task("FPC1", "0231456789"), task("FPC2", "0231456790", keep=True)]
    observer.submitting(tasks, None)
    first, second = written(ledger_url)
    assert first.outcome == second.outcome == "submitting"
    assert first.reason == "« Valider » is about to be clicked"
    assert (first.licence, first.number, first.keep_number) == ("FPC1", "0231456789", False)
    assert (second.licence, second.number, second.keep_number) == ("FPC2", "0231456790", True)
    assert (first.client, first.account, first.service) == (
        "Société Générale « Normandie »",
        "CC-0012",
        "SRV-10021",
    )
    assert (first.portal, first.portal_user, first.ticket) == (PORTAL, "support.n2", "INC-1001")
    assert (first.command, first.run_dir) == ("dissociate", str(tmp_path / "run"))
    assert first.os_user
    assert first.host
    assert first.at == second.at
    assert first.at.endswith("Z")


def test_accepted_is_written_in_progress_with_the_portals_status(
    observer: LedgerObserver, ledger_url: str
) -> None:
    tasks = [task("FPC1")]
    observer.submitting(tasks, None)
    observer.accepted(tasks, "Numéro(s) dissocié(s) : 1")
    observer.accepted(tasks, None)
    assert said(ledger_url)[1:] == [
        ("FPC1", "in_progress", "accepted (« Numéro(s) dissocié(s) : 1 »); being read back"),
        ("FPC1", "in_progress", "accepted (the portal's answer); being read back"),
    ]


def test_each_outcome_is_written_with_its_reason_and_its_ticket(
    observer: LedgerObserver, ledger_url: str
) -> None:
    by_row = Target(licence_ref="FPC3", ticket="CHG-7")  # a batch row's own ticket
    by_number = Target(number="0231450000")  # asked by number, never found: its number
    settled = [
        task("FPC1").settle(Outcome.DONE, "dissociated and read back"),
        task("FPC2", None).settle(Outcome.ALREADY_DONE, "no number: never touched"),
        task("FPC3", target=by_row).settle(Outcome.UNKNOWN, "the answer was never read"),
        task(None, None, target=by_number).settle(Outcome.REFUSED, "not listed"),
        task("FPC5").settle(Outcome.SKIPPED, "the run stopped first"),  # found: it says so
        task(None, None, target=Target("FPC6")).settle(Outcome.SKIPPED, "never looked for"),
        task("FPC7"),  # not settled yet: nothing to say
    ]
    observer.settled(settled)
    found = written(ledger_url)
    assert [(e.licence, e.number, e.outcome, e.reason, e.ticket) for e in found] == [
        ("FPC1", "0231456789", "done", "dissociated and read back", "INC-1001"),
        ("FPC2", "", "already_done", "no number: never touched", "INC-1001"),
        ("FPC3", "0231456789", "unknown", "the answer was never read", "CHG-7"),
        ("", "0231450000", "refused", "not listed", "INC-1001"),
        ("FPC5", "0231456789", "not_attempted", "the run stopped first", "INC-1001"),
    ]
    observer.settled([task("FPC6", None, target=Target("FPC6"))])  # nothing settled
    assert len(written(ledger_url)) == len(found)


def test_a_failing_write_stops_the_run_once_and_nothing_more_is_written(
    observer: LedgerObserver, ledger_url: str
) -> None:
    tasks = [task("FPC1")]
    observer.submitting(tasks, None)
    fail_writes(ledger_url, "disk full")
    with pytest.raises(LedgerWriteError, match=r"disk full.*1 entry was not recorded"):
        observer.accepted(tasks, "ok")
    allow_writes(ledger_url)  # the ledger could write again: the run does not
    with capture_logs() as logs:
        observer.settled([tasks[0].settle(Outcome.DONE, "read back")])  # no second raise
    assert [log["event"] for log in logs] == ["ledger_entries_not_written"]
    assert logs[0]["licences"] == ["FPC1"]
    with pytest.raises(LedgerWriteError, match="disk full"):  # never a click unrecorded
        observer.submitting([task("FPC2")], None)
    observer.accepted([task("FPC2")], "ok")
    assert said(ledger_url) == [("FPC1", "submitting", "« Valider » is about to be clicked")]


def test_a_submitting_that_cannot_be_written_raises_before_the_click(
    observer: LedgerObserver, ledger_url: str
) -> None:
    fail_writes(ledger_url, "no space left")
    with capture_logs() as logs, pytest.raises(LedgerWriteError, match="no space left"):
        observer.submitting([task("FPC1")], None)
    assert [log["event"] for log in logs] == ["ledger_write_failed"]
    assert written(ledger_url) == []


def test_a_service_another_machine_acts_on_stops_the_run_before_its_click(
    observer: LedgerObserver, ledger_url: str
) -> None:
    with open_ledger(ledger_url) as other_machine:
        assert other_machine.try_lock_service(PORTAL, SERVICE.ref)
        if is_postgres(ledger_url):
            with pytest.raises(ServiceLockedError, match=r"team ledger .*SRV-10021.*nothing"):
                observer.submitting([task("FPC1")], None)
            assert written(ledger_url) == []
            other_machine.unlock_service(PORTAL, SERVICE.ref)
        observer.submitting([task("FPC1")], None)  # once it is done, or always on SQLite
        assert [e.outcome for e in written(ledger_url)] == ["submitting"]


def test_a_dry_run_takes_no_lock(ledger_url: str, tmp_path: Path) -> None:
    with open_ledger(ledger_url) as ledger, open_ledger(ledger_url) as other_machine:
        dry = LedgerObserver(ledger, context(tmp_path, dry_run=True), service=SERVICE.ref)
        dry.service_found(SERVICE)
        dry.submitting([task("FPC1")], None)
        assert other_machine.try_lock_service(PORTAL, SERVICE.ref)
        dry.submitting([task("FPC2")], None)  # held by another: a dry run goes on
        dry.settled([task("FPC1").settle(Outcome.WOULD_DO, "listed in the dialog")])
        dry.close()
        entries = written(ledger_url)
        assert [(e.outcome, e.command) for e in entries][-1] == (
            "would_do",
            "dissociate --dry-run",
        )
        assert ledger.to_terminate() == []


def test_the_lock_is_let_go_with_its_service_and_when_the_run_ends(
    observer: LedgerObserver, ledger_url: str
) -> None:
    held = is_postgres(ledger_url)
    with open_ledger(ledger_url) as other_machine:

        def free(ref: str) -> bool:
            taken = other_machine.try_lock_service(PORTAL, ref)
            if taken:
                other_machine.unlock_service(PORTAL, ref)
            return taken

        observer.submitting([task("FPC1")], None)
        observer.submitting([task("FPC2")], None)  # the same service: held already
        assert free("SRV-10021") is not held
        observer.start_service("SRV-20000")  # a batch's worker goes on to another
        assert free("SRV-10021")
        observer.submitting([task("FPC9")], None)
        assert free("SRV-20000") is not held
        observer.service_found(ServiceInfo(ref="SRV-30000"))  # found another: let go
        assert free("SRV-20000")
        observer.submitting([task("FPC10")], None)
        assert free("SRV-30000") is not held
        observer.close()
        assert free("SRV-30000")
    assert [e.service for e in written(ledger_url)] == [
        "SRV-10021",
        "SRV-10021",
        "SRV-20000",
        "SRV-30000",
    ]
