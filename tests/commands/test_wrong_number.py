"""A wrong number never reads as done, and a run says what comes next (issue 29): real
processes, a real Chromium, the replica; the ledger, where a test is about it, on each
back end (SQLite, a throw-away PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Cli, exit_agrees
from e2e_support import licence

from myopenip.replica import Replica
from myopenip_bot.ledger import Query, open_ledger
from myopenip_bot.ledger.entries import local_minute
from myopenip_bot.models import format_number

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The guide's own words, as the end of a run quotes them.
BILLING = (
    "« Pensez à résilier le numéro depuis vos offres contractées pour arrêter sa facturation »"
)
REASSIGN = "« il devra dissocier son numéro de la licence actuelle pour l'affecter à la nouvelle »"


def said(text: str) -> str:
    """`text` as one line, whatever the terminal's width folded."""
    return " ".join(text.split())


def run_folders(cli: Cli) -> set[Path]:
    return {path.parent for path in cli.traces.glob("*/result.json")}


def test_a_number_another_clients_licence_holds_is_refused_and_a_kept_one_goes_to_the_pool(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica)
    # Another client's number, still assigned (the issue's « 02 33 26 42 19 »).
    other = next(
        lc for lc in replica.state()["licences"] if lc["service_ref"] == "SRV-10022" and lc["sda"]
    )

    kept = cli("--licence", "FPC367130", "--keep-number", "--yes")
    before = replica.state()
    wrong = cli("--number", format_number(other["sda"]), "--release-number", "--yes", "--json")
    after = replica.state()
    again = cli("--licence", "FPC367130", "--keep-number", "--yes", "--json")

    assert kept.returncode == 0, kept.stderr[-3000:]
    assert (
        "Now in the client's pool: 02 31 45 67 91. Next, on the portal: give it to the new "
        f"licence (the guide's second step: {REASSIGN}); `myopenip numbers --available` "
        "lists the numbers kept."
    ) in said(kept.stdout)
    assert not list(cli.traces.glob("*/numbers-to-terminate.csv"))  # nothing released
    assert wrong.returncode == 1, wrong.stderr[-3000:]
    (row,) = exit_agrees(wrong)["results"]
    assert (row["outcome"], row["reason"]) == (
        "refused",
        f"no licence of SRV-10021 holds {format_number(other['sda'])}: check the number (it "
        "may be another service's or another client's)",
    )
    assert after == before  # nothing changed: the other client's number still assigned
    assert licence(after, other["ref"])["sda"] == other["sda"]
    # A rerun of the done ticket by its licence: already done, since the first run.
    assert again.returncode == 0, again.stderr[-3000:]
    (rerun,) = exit_agrees(again)["results"]
    assert rerun["outcome"] == "already_done"
    assert rerun["reason"].startswith("FPC367130 has no number: 02 31 45 67 91 dissociated on ")
    assert len(replica.state()["audit"]) == 1


def test_a_rerun_by_number_of_a_done_ticket_is_already_done_since_the_first_run(
    replica: Replica, tmp_path: Path, ledger_url: str
) -> None:
    cli = Cli(tmp_path, replica, ledger=ledger_url)
    args = ("--number", "02 31 45 67 89", "--release-number", "--yes", "--ticket", "INC-1001")

    done = cli(*args)
    (first,) = run_folders(cli)
    again = cli(*args, "--json")

    assert done.returncode == 0, done.stderr[-3000:]
    assert licence(replica.state(), "FPC367128")["sda"] is None
    text = said(done.stdout)
    assert f"In quarantine, still billed: 02 31 45 67 89. {BILLING}" in text
    assert "billing's list is `myopenip numbers --to-terminate`" in text
    # as a batch's report holds it: a BOM, « ; », CRLF
    assert (first / "numbers-to-terminate.csv").read_bytes().decode("utf-8") == (
        "\ufeffnumber;service;client;licence\r\n"
        "02 31 45 67 89;SRV-10021;Normandie Logistique;FPC367128\r\n"
    )
    assert again.returncode == 0, again.stderr[-3000:]
    with open_ledger(ledger_url) as ledger:
        found = ledger.entries(Query(number="0231456789", ticket="INC-1001", licence="FPC367128"))
    # newest first: the rerun's (its licence the one the number was taken from), the first's
    assert [e.outcome for e in found] == ["already_done", "done"]
    entry = found[1]
    (rerun,) = exit_agrees(again)["results"]
    assert (rerun["outcome"], rerun["reason"]) == (
        "already_done",
        "no licence of SRV-10021 holds 02 31 45 67 89 any more: dissociated from FPC367128 on "
        f"{local_minute(entry.at)} by {entry.os_user} (ticket INC-1001); nothing to do",
    )
    assert len(replica.state()["audit"]) == 1
    assert len(run_folders(cli)) == 2
    assert not list((run_folders(cli) - {first}).pop().glob("numbers-to-terminate.csv"))
