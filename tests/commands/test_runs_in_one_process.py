"""A Python caller running the bot twice in one process gets two runs that share nothing:
each run's events in its own folder."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from e2e_support import replica_settings
from playwright.sync_api import Browser

from myopenip.replica import Replica
from myopenip_bot.config.logs import configure_logging
from myopenip_bot.config.settings import LogFormat, TraceMode
from myopenip_bot.dissociation.run import run_dissociation
from myopenip_bot.models import DissociationRequest, Target


@pytest.fixture(autouse=True)
def logging_configured() -> Iterator[None]:
    """As a Python caller sets it up (the commands do it at start)."""
    configure_logging(LogFormat.JSON, "info", stream=io.StringIO())
    yield
    structlog.reset_defaults()


@pytest.mark.twin(
    "tests/unit/test_logs.py::test_each_run_writes_its_events_to_its_own_folder_and_masks_only_its_secrets",
    "tests/commands/test_dissociate_edges.py::test_terminal_steps_then_one_prompt_with_plan_and_warnings_no_changes_nothing_events_kept",
    "tests/unit/test_artifacts.py::test_run_folders_are_unique_even_within_one_second_and_private",
)
def test_two_dissociations_in_one_process_write_their_events_to_their_own_folders(
    browser: Browser, replica: Replica, tmp_path: Path
) -> None:
    settings = replica_settings(replica, traces_dir=tmp_path / "traces", trace=TraceMode.OFF)
    folders = []
    for licences in (["FPC367127"], ["FPC367128", "FPC367129"]):
        request = DissociationRequest(
            service_ref="SRV-10021",
            targets=tuple(Target(licence_ref=ref) for ref in licences),
            keep_number=False,
            dry_run=True,
        )
        result = run_dissociation(settings, request, browser=browser)
        assert result.trace_dir is not None
        folders.append(result.trace_dir)

    first, second = (
        [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
        for folder in folders
    )
    assert folders[0] != folders[1]
    # One run each, the first's file untouched by the second.
    assert [e["targets"] for e in first if e["event"] == "run_started"] == [1]
    assert [e["targets"] for e in second if e["event"] == "run_started"] == [2]
    assert [e["event"] for e in first].count("session_started") == 1
    assert [e["event"] for e in second].count("session_started") == 1
