"""What the bot is asked to do and what it reports, independent of any screen."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

_DIGITS = re.compile(r"\d")


def normalize_number(text: str) -> str:
    """Return a French number as ten digits: "+33 2 31 45 67 89" -> "0231456789".

    Raises ValueError naming the text when it is not a French ten-digit number.
    """
    cleaned = re.sub(r"[\s.\-()]", "", text.strip())
    if cleaned.startswith("+33"):
        cleaned = "0" + cleaned[3:]
    elif cleaned.startswith("0033"):
        cleaned = "0" + cleaned[4:]
    if not re.fullmatch(r"0[1-9]\d{8}", cleaned):
        raise ValueError(f"not a French ten-digit number: {text!r}")
    return cleaned


def format_number(digits: str) -> str:
    """Ten digits grouped by two, as the portal shows them: "02 31 45 67 89"."""
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


class Tab(StrEnum):
    UTILISATEURS = "Utilisateurs"
    GROUPEMENTS = "Groupements"


class Outcome(StrEnum):
    DONE = "done"  # dissociated by this run and verified
    ALREADY_DONE = "already_done"  # the licence had no number: never touched
    WOULD_DO = "would_do"  # dry run: the dialog listed it; Annuler was clicked
    REFUSED = "refused"  # business refusal (unknown, mismatch, duplicate, ...)
    FAILED = "failed"  # technical failure, or verification did not confirm


@dataclass(frozen=True)
class Target:
    """One licence asked for, by ref or by number (normalized), optionally both."""

    licence_ref: str | None = None
    number: str | None = None

    def label(self) -> str:
        if self.licence_ref and self.number:
            return f"{self.licence_ref} ({format_number(self.number)})"
        if self.licence_ref:
            return self.licence_ref
        assert self.number is not None
        return format_number(self.number)


@dataclass(frozen=True)
class DissociationRequest:
    """`myopenip dissociate`'s arguments, already validated."""

    service_ref: str
    targets: tuple[Target, ...]
    keep_number: bool
    dry_run: bool = False


@dataclass
class LicenceResult:
    target: Target
    outcome: Outcome
    licence_ref: str | None = None
    number: str | None = None  # the number the licence had when planned
    tab: Tab | None = None
    reason: str | None = None


@dataclass
class RunResult:
    service_ref: str
    keep_number: bool
    dry_run: bool
    results: list[LicenceResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the dialog's own warning paragraphs
    status_messages: list[str] = field(default_factory=list)  # e.g. "Numéro(s) dissocié(s) : 2"
    trace_dir: Path | None = None
    error: str | None = None  # a run-level failure, when the run stopped early

    @property
    def counts(self) -> dict[str, int]:
        return {o.value: sum(r.outcome is o for r in self.results) for o in Outcome}
