"""A ledger filled as runs fill it, and `myopenip history`/`numbers` run in-process over it
(imported by name: tests/support is on sys.path).

The entries, on the portal PORTAL unless said:
    a one-shot releases 02 31 45 67 89 (FPC367128) for INC-1001: submitting, in_progress, done
    a batch keeps 02 31 45 67 90 (FPC367129) of « Société Générale Île-de-France», INC-2002,
        at 22:30 UTC on 2 December: 23:30 in Paris, still the 2nd there
    the same batch is refused FPC367132 (client: rich markup; reason: terminal escapes)
    a batch releases 02 31 45 67 03 (FPC367133) of a client named by a CSV formula, inc-1001
    a batch releases 02 31 45 67 04 (FPC367134) of a client with a very long name
    another portal's one-shot releases 02 31 45 67 89 too
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import jsonschema
import pytest
from hostile_values import ESCAPES, FORMULAS, RICH
from schemas import schema

from myopenip.cli import main
from myopenip_bot.ledger import Entry, open_ledger

PORTAL = "http://127.0.0.1:8765"
OTHER_PORTAL = "https://myopenip.example"
LONG_CLIENT = "Groupement Hospitalier Territorial " * 6 + ESCAPES
ONE_SHOT = "traces/20261201-080000-dissociate-SRV-10021"
BATCH = "traces/20261203-100000-batch-plan"

_BASE = Entry(
    at="2026-12-01T08:00:00.000000Z",
    os_user="alice",
    host="ws-support-12",
    portal_user="demo",
    portal=PORTAL,
    client="Normandie Logistique",
    account="CC-100245",
    service="SRV-10021",
    licence="FPC367128",
    number="0231456789",
    keep_number=False,
    outcome="done",
    reason="",
    ticket="INC-1001",
    command="dissociate",
    run_dir=ONE_SHOT,
)


def entry(**fields: Any) -> Entry:
    return replace(_BASE, **fields)


def _released_one_shot() -> list[Entry]:
    return [
        entry(
            at="2026-12-01T08:00:01.000000Z",
            outcome="submitting",
            reason="« Valider » is about to be clicked",
        ),
        entry(
            at="2026-12-01T08:00:02.000000Z",
            outcome="in_progress",
            reason="accepted (« Traitement en cours »); being read back",
        ),
        entry(at="2026-12-01T08:00:05.000000Z", outcome="done", reason="done"),
    ]


def _batch() -> list[Entry]:
    batch = {"command": "batch", "run_dir": BATCH, "os_user": "svc-batch", "host": "vm-sched"}
    return [
        entry(
            at="2026-12-02T22:30:00.000000Z",
            client="Société Générale Île-de-France",
            account="CC-200001",
            service="SRV-20001",
            licence="FPC367129",
            number="0231456790",
            keep_number=True,
            ticket="INC-2002",
            reason="done",
            **batch,
        ),
        entry(
            at="2026-12-03T10:00:00.000000Z",
            client=RICH,
            account="CC-300003",
            service="SRV-30003",
            licence="FPC367132",
            number="0299999901",
            keep_number=True,
            outcome="refused",
            reason=f"FPC367132's number is 02 99 99 99 01, not 02 31 45 67 02 {ESCAPES}",
            ticket="INC-3003",
            **batch,
        ),
        entry(
            at="2026-12-03T10:00:01.000000Z",
            client=FORMULAS[0],
            account="CC-400004",
            service="SRV-40004",
            licence="FPC367133",
            number="0231456703",
            ticket="inc-1001",
            reason="done",
            **batch,
        ),
        entry(
            at="2026-12-04T09:00:00.000000Z",
            client=LONG_CLIENT,
            account="CC-500005",
            service="SRV-50005",
            licence="FPC367134",
            number="0231456704",
            ticket="INC-5005",
            reason="done",
            **batch,
        ),
    ]


def _other_portal() -> list[Entry]:
    return [
        entry(
            at="2026-12-05T09:00:00.000000Z",
            portal=OTHER_PORTAL,
            portal_user="bob",
            os_user="bob",
            run_dir="traces/20261205-090000-dissociate-SRV-10021",
            reason="done",
        )
    ]


def sample_entries() -> list[Entry]:
    return [*_released_one_shot(), *_batch(), *_other_portal()]


def fill(url: str, entries: list[Entry] | None = None) -> None:
    """Write `entries` (the sample's when None) into the ledger `url`, as runs write them."""
    with open_ledger(url) as ledger:
        for one in sample_entries() if entries is None else entries:
            ledger.record([one])


@dataclass
class Ran:
    code: int
    out: str
    err: str
    json: dict[str, Any] | None


Run = Callable[..., Ran]


def runner(
    command: str,
    ledger_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Run:
    """`myopenip COMMAND ARGS` in-process over `ledger_url`, 80 columns, no portal
    credentials at all; every --json document validated against its schema."""
    for name in list(os.environ):
        if name.startswith("MYOPENIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MYOPENIP_LANG", "en")  # the suite reads English, whatever LANG says
    monkeypatch.setenv("MYOPENIP_LEDGER", ledger_url)
    monkeypatch.setenv("MYOPENIP_BASE_URL", PORTAL + "/")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str) -> Ran:
        code = main([command, *args])
        captured = capsys.readouterr()
        payload = json.loads(captured.out) if "--json" in args and captured.out else None
        if payload is not None:
            checked = schema(command)
            jsonschema.Draft202012Validator.check_schema(checked)
            jsonschema.Draft202012Validator(checked).validate(payload)
            assert payload["exit_code"] == code
        return Ran(code, captured.out, captured.err, payload)

    return run
