"""Page objects, one per portal screen: locators as properties, verbs that act, queries that read.

None of them prints, asserts or decides: they return data or the next page object, and
raise SessionExpiredError / TechnicalError when the portal shows its login or an error page.
Whether a control is there, and when a page has settled, is `Presence`'s to say, for the
page objects and the smoke checks alike; `explain` says what shows instead of a control.
"""

from myopenip_bot.pages._base import MAX_PAGES, squash
from myopenip_bot.pages._closest import Absence, explain, named, parse_snapshot, rank
from myopenip_bot.pages._paging import more_pages, text_beside
from myopenip_bot.pages._reads import reading, watch_reads
from myopenip_bot.pages._table import aria_names, read_rows
from myopenip_bot.pages.dialog import (
    AnswerKind,
    DialogRow,
    DissociationDialog,
    ReadOnlyDialog,
    SubmitAnswer,
)
from myopenip_bot.pages.licence_page import (
    LicencePage,
    OpeningLicencePage,
    options_read,
    read_options,
)
from myopenip_bot.pages.licences import LicenceResultsPage, LicenceRow, shows_working
from myopenip_bot.pages.login import LoginPage
from myopenip_bot.pages.navigation import Navigation
from myopenip_bot.pages.presence import Missing, Presence, prepare_page
from myopenip_bot.pages.service import ServiceSettingsPage
from myopenip_bot.pages.services import ServiceRow, ServicesPage

__all__ = [
    "MAX_PAGES",
    "Absence",
    "AnswerKind",
    "DialogRow",
    "DissociationDialog",
    "LicencePage",
    "LicenceResultsPage",
    "LicenceRow",
    "LoginPage",
    "Missing",
    "Navigation",
    "OpeningLicencePage",
    "Presence",
    "ReadOnlyDialog",
    "ServiceRow",
    "ServiceSettingsPage",
    "ServicesPage",
    "SubmitAnswer",
    "aria_names",
    "explain",
    "more_pages",
    "named",
    "options_read",
    "parse_snapshot",
    "prepare_page",
    "rank",
    "read_options",
    "read_rows",
    "reading",
    "shows_working",
    "squash",
    "text_beside",
    "watch_reads",
]
