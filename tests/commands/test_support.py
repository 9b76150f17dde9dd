"""Support tickets as support receives them: a client's name and a number, a question about
a service's licences. `myopenip find` (read-only) and `myopenip dissociate --client`, as
processes against the replica."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import forked
import pytest
from cli_support import Cli, exit_agrees
from e2e_support import licence, number_state
from terminal_support import Terminal

from myopenip.cli import main
from myopenip.replica import Replica
from myopenip_portal.seed import DEMO_CLIENTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLIENT = "Normandie Logistique"
NUMBER = "02 31 45 67 91"  # FPC367130's, in SRV-10021's Groupements


def find(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    return forked.run(
        [sys.executable, "-m", "myopenip", "find", *args], cwd=cli.cwd, env=cli.env, timeout=180
    )


@pytest.mark.twin(
    "tests/e2e/test_support_markups.py::test_the_first_ticket_by_client_and_number_then_already_done",
)
def test_the_first_ticket_is_done_knowing_only_the_client_and_the_number(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica)
    args = ("--number", NUMBER, "--keep-number", "--yes", "--json")

    done = cli(*args, client=CLIENT)
    again = cli(*args, client=CLIENT)

    assert done.returncode == 0, done.stderr
    (row,) = exit_agrees(done)["results"]
    assert (row["service"], row["licence"], row["number"], row["outcome"]) == (
        "SRV-10021",
        "FPC367130",  # the licence is named, though only its number was given
        NUMBER,
        "done",
    )
    assert row["user"]  # what a person checks before wiping someone's settings
    state = replica.state()
    assert licence(state, "FPC367130")["sda"] is None
    assert number_state(state, "0231456791") == "available"
    assert again.returncode == 0, again.stderr  # a rerun by number: already done
    (rerun,) = exit_agrees(again)["results"]
    assert rerun["outcome"] == "already_done"
    assert "nothing to do" in rerun["reason"]
    assert len(replica.state()["audit"]) == 1


def test_the_second_ticket_is_answered_by_find_and_changes_nothing(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()

    found = find(Cli(tmp_path, replica), "--service", "SRV-10021", "--with-number", "--json")

    assert found.returncode == 0, found.stderr
    payload = exit_agrees(found)
    listed = {row["licence"]: row for row in payload["licences"]}
    numbered = {lc["ref"] for lc in before["licences"] if lc["service_ref"] == "SRV-10021"}
    numbered = {ref for ref in numbered if licence(before, ref)["sda"]}
    assert set(listed) == numbered  # both tabs, only those with a number
    assert listed["FPC367130"]["number"] == NUMBER
    assert {row["tab"] for row in listed.values()} == {"Utilisateurs", "Groupements"}
    assert all(row["type"] and row["state"] for row in listed.values())
    assert replica.state() == before


def test_an_ambiguous_or_misspelt_client_is_refused_with_the_candidates(
    replica: Replica, tmp_path: Path
) -> None:
    replica.test_api("data", {"clients": {"CC-100318": {"name": "Normandie Logistique Sud"}}})
    before = replica.state()
    cli = Cli(tmp_path, replica)

    refused = cli("--number", NUMBER, "--keep-number", "--yes", "--json", client="Normandie")
    looked = find(cli, "--client", "normandie", "--json")
    misspelt = find(cli, "--client", "Normandie Logistiqe", "--json")

    assert refused.returncode == 1, refused.stderr
    message = exit_agrees(refused)["error"]["message"]
    assert "Normandie Logistique (CC-100245)" in message
    assert "Normandie Logistique Sud (CC-100318)" in message
    assert looked.returncode == 1
    assert "CC-100318" in exit_agrees(looked)["error"]["message"]
    assert misspelt.returncode == 1
    assert exit_agrees(misspelt)["error"]["message"] == (
        "no client 'Normandie Logistiqe' in the services list; did you mean "
        "Normandie Logistique (CC-100245) or Normandie Logistique Sud (CC-100318)?"
    )
    assert replica.state() == before


def test_a_find_csv_becomes_a_batch_file_once_keep_is_decided(
    replica: Replica,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in Cli(tmp_path, replica).env.items():
        if name.startswith("MYOPENIP_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    found = find(Cli(tmp_path, replica), "--service", "SRV-10021", "--licence", "FPC36713", "--csv")
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == "service;licence;keep_number;number;user;ticket"
    assert "SRV-10021;FPC367130;;02 31 45 67 91;Salle Réunion Dives;" in lines
    file = tmp_path / "to-release.csv"
    file.write_text(found.stdout, encoding="utf-8")

    code = main(["batch", str(file), "--dry-run", "--journal", str(tmp_path / "j.sqlite")])
    refused = capsys.readouterr().err

    assert code == 2  # keep_number empty: refused, each row named
    assert refused.count("keep_number") >= len(lines) - 1
    decided = [line.replace(";;", ";oui;", 1) + "INC-1001" for line in lines[1:]]
    file.write_text("\n".join([lines[0], *decided]) + "\n", encoding="utf-8")
    from myopenip_bot.batch.file import read_batch_file

    assert [(row.licence, row.ticket) for row in read_batch_file(file)] == [
        (line.split(";")[1], "INC-1001") for line in lines[1:]
    ]


# On a terminal a person reads steps, not log lines, and the events are kept: the run of
# test_dissociate_edges.py::test_terminal_steps_then_one_prompt_with_plan_and_warnings_…


class FindCli(Cli):
    """`myopenip find …` (for a Terminal)."""

    def argv(self, *args: str, service: str = "", client: str | None = None) -> list[str]:
        return [sys.executable, "-m", "myopenip", "find", *args]


def active_services(state: dict[str, object]) -> list[str]:
    """The active MetaCentrex services the demo login sees, by ref."""
    demos = {account for _, account, _ in DEMO_CLIENTS}
    return sorted(
        s["ref"]
        for s in state["services"]  # type: ignore[attr-defined]
        if (s["type"], s["state"]) == ("MetaCentrex", "Actif") and s["account"] in demos
    )


def opened(cli: Cli) -> list[str]:
    """The services the last run opened, in order."""
    run_dir = max(cli.traces.iterdir())
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return [e["service"] for e in events if e["event"] == "service_opened"]


@pytest.mark.twin(
    "tests/e2e/test_support_markups.py::test_a_number_alone_is_searched_in_every_active_service_up_to_its_holder",
)
def test_a_number_alone_names_its_client_service_and_licence(
    replica: Replica, tmp_path: Path
) -> None:
    state = replica.state()
    second = active_services(state)[1]  # past the first service, before the last
    held = next(lc for lc in state["licences"] if lc["service_ref"] == second and lc["sda"])
    service = next(s for s in state["services"] if s["ref"] == second)
    grouped = " ".join(held["sda"][i : i + 2] for i in range(2, 10, 2))
    number = f"+33 (0){held['sda'][1]} {grouped}"  # "+33 (0)2 31 45 67 89"
    cli = Cli(tmp_path, replica)

    found = find(cli, "--number", number, "--json")

    assert found.returncode == 0, found.stderr
    payload = exit_agrees(found)
    assert payload["client"] == {"name": service["client"], "account": service["account"]}
    assert [s["service"] for s in payload["services"]] == [second]
    assert [(lc["service"], lc["licence"]) for lc in payload["licences"]] == [(second, held["ref"])]
    assert opened(cli) == active_services(state)[:2]  # stopped at the holder
    assert replica.state() == state


def test_a_number_held_by_none_is_searched_with_steps_shown_and_exits_1(
    replica: Replica, tmp_path: Path
) -> None:
    active = active_services(replica.state())
    cli = FindCli(tmp_path, replica)
    terminal = Terminal(cli, "--number", "02.99.99.99.99")

    assert terminal.wait() == 1
    assert f"({len(active)} of {len(active)}), Groupements" in terminal.screen  # the steps
    assert (
        f"No licence holds 02 99 99 99 99 in the {len(active)} MetaCentrex services « Actif » "
        "searched." in terminal.flat
    )
    assert opened(cli) == active


def test_a_number_with_a_client_is_searched_in_that_clients_services_only(
    replica: Replica, tmp_path: Path
) -> None:
    cli = Cli(tmp_path, replica)

    other = find(cli, "--client", "CC-100318", "--number", "0033 2 31 45 67 91", "--json")

    assert other.returncode == 1, other.stderr  # the number is Normandie Logistique's
    assert exit_agrees(other)["licences"] == []
    assert opened(cli) == ["SRV-10022"]  # the one MetaCentrex service of CC-100318


def test_ctrl_c_stops_a_number_search_at_once(replica: Replica, tmp_path: Path) -> None:
    cli = FindCli(tmp_path, replica)
    terminal = Terminal(cli, "--number", "0299999999")

    terminal.expect("Looking for 02 99 99 99 99 in SRV-10021 (1 of")
    terminal.type(b"\x03")

    assert terminal.wait(timeout=30) == 130
    assert "Interrupted by SIGINT." in terminal.screen
    assert len(opened(cli)) < len(active_services(replica.state()))  # not to the end


@pytest.mark.twin(
    "tests/e2e/test_support_markups.py::test_a_number_alone_is_searched_in_every_active_service_up_to_its_holder",
    "tests/commands/test_support.py::test_an_ambiguous_or_misspelt_client_is_refused_with_the_candidates",
)
def test_a_client_named_with_its_words_swapped_is_offered_by_its_name(
    replica: Replica, tmp_path: Path
) -> None:
    swapped = find(Cli(tmp_path, replica), "--client", "logistique normandie", "--json")

    assert swapped.returncode == 1
    assert exit_agrees(swapped)["error"]["message"] == (
        "no client 'logistique normandie' in the services list; did you mean "
        "Normandie Logistique (CC-100245)?"
    )
