"""The ledger: one record of every action, by every command that acts, on every machine.

A run appends an entry when « Valider » is about to be clicked and when each outcome is
known; `myopenip history` and `myopenip numbers` read it, without the portal. SQLite
alone (the user's data folder), PostgreSQL for a team (MYOPENIP_LEDGER).
"""

from myopenip_bot.ledger.entries import SUBMITTING, TERMINATED, Entry, Query, at_text, portal_key
from myopenip_bot.ledger.store import (
    SCHEMA_VERSION,
    Ledger,
    LedgerError,
    LedgerMissingError,
    LedgerWriteError,
    default_ledger_path,
    open_ledger,
)

__all__ = [
    "SCHEMA_VERSION",
    "SUBMITTING",
    "TERMINATED",
    "Entry",
    "Ledger",
    "LedgerError",
    "LedgerMissingError",
    "LedgerWriteError",
    "Query",
    "at_text",
    "default_ledger_path",
    "open_ledger",
    "portal_key",
]
