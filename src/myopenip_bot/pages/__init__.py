"""Page objects, one per portal screen: locators as properties, verbs that act, queries that read.

None of them prints, asserts or decides: they return data or the next page object, and
raise SessionExpiredError / TechnicalError when the portal shows its login or an error page.
"""

from myopenip_bot.pages._base import MAX_PAGES, prepare_page, squash
from myopenip_bot.pages._reads import reading, watch_reads
from myopenip_bot.pages._table import aria_names
from myopenip_bot.pages.dialog import AnswerKind, DialogRow, DissociationDialog, SubmitAnswer
from myopenip_bot.pages.licences import LicenceResultsPage, LicenceRow, shows_working
from myopenip_bot.pages.login import LoginPage
from myopenip_bot.pages.navigation import Navigation
from myopenip_bot.pages.service import ServiceSettingsPage
from myopenip_bot.pages.services import ServiceRow, ServicesPage

__all__ = [
    "MAX_PAGES",
    "AnswerKind",
    "DialogRow",
    "DissociationDialog",
    "LicenceResultsPage",
    "LicenceRow",
    "LoginPage",
    "Navigation",
    "ServiceRow",
    "ServiceSettingsPage",
    "ServicesPage",
    "SubmitAnswer",
    "aria_names",
    "prepare_page",
    "reading",
    "shows_working",
    "squash",
    "watch_reads",
]
