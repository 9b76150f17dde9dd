"""The smoke checks, each declared once: its screen, the selectors key it proves, what it
proves, and whether the rest of the walk needs it (a gate). The walk (smoke.walk) runs
them by these objects; `CHECKS` lists them in the guide's order.

Each check is named after its screen and the selector key it proves, so that a failure
says what drifted and what the screen shows instead, the best candidate first:

    Dissociation dialog: dialog.submit: no button named "Valider" in the dialog
    "Dissocier vos numéros"; found button "Confirmer"

A check ends in one of four ways. *passed*; *failed*: the portal does not show what the
selectors say (the failure names the key, keeps a screenshot of its screen and the
closest controls, which `--propose` turns into a fix); *error*: the check could not run —
the portal could not be reached, the login got no answer or was refused, a check it needs
failed, or a signal stopped the walk; *skipped*: only for a state the portal cannot show
here (« Suivant » with one page of results, « Licences sans numéro » when no ticked
licence lacks a number), with why. A check that could not run is never a skip: a CI
reporter must not show an unreachable portal as green.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from myopenip_bot.config.selectors import Control
from myopenip_bot.i18n import N_
from myopenip_bot.models import Tab

__all__ = [
    "CHECKS",
    "READ_ONLY",
    "TABS",
    "After",
    "CheckResult",
    "CheckSpec",
    "Dialog",
    "Drift",
    "Login",
    "NavigationChecks",
    "NotRun",
    "Searches",
    "ServiceSettings",
    "Services",
    "Skip",
    "Status",
    "TabChecks",
    "declared",
]

LOGIN = "Login"
NAVIGATION = "Navigation"
SERVICES = "Paramétrage / Monitoring"
SERVICE = "Service settings"
DIALOG = "Dissociation dialog"
AFTER = "After Annuler"
GUARD = "Read-only guard"


@dataclass(frozen=True)
class CheckSpec:
    screen: str
    key: str  # the selectors entry it proves, e.g. "dialog.submit"
    what: str  # in English (smoke.json); a person reads it through wording.check_text
    #: the rest of the walk needs it: when it does not pass, the walk stops there
    gate: bool = field(default=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.screen}: {self.key}"


def _on(screen: str, key: str, what: str, gate: bool = False) -> CheckSpec:
    """The check of `key` on `screen`; a `gate` when the rest of the walk needs it."""
    return CheckSpec(screen, key, what, gate)


def declared(group: type) -> tuple[CheckSpec, ...]:
    """The checks a class declares, in the order it declares them (a mapping's too)."""
    found: list[CheckSpec] = []
    for value in vars(group).values():
        items = value.values() if isinstance(value, dict) else (value,)
        found += [item for item in items if isinstance(item, CheckSpec)]
    return tuple(found)


class Login:
    heading = _on(LOGIN, "login.heading", N_("the heading"), gate=True)
    username = _on(LOGIN, "login.username", N_('the field "Identifiant"'), gate=True)
    password = _on(LOGIN, "login.password", N_('the field "Mot de passe"'), gate=True)
    submit = _on(
        LOGIN, "login.submit", N_('the button "Se connecter", and a login through it'), True
    )
    error = _on(LOGIN, "login.error", N_("the alert of a refused login"))


class NavigationChecks:
    services_menu = _on(
        NAVIGATION, "navigation.services_menu", N_('the button "Mes Services"'), True
    )
    services_settings = _on(
        NAVIGATION, "navigation.services_settings", N_('its link "Paramétrage / Monitoring"'), True
    )
    logout = _on(NAVIGATION, "navigation.logout", N_('the button "Se déconnecter"'))


class Services:
    heading = _on(SERVICES, "services.heading", N_("the heading"), gate=True)
    filters = _on(SERVICES, "services.filters", N_("the seven filters, labelled as the columns"))
    ref_filter = _on(SERVICES, "services.ref_filter", N_('the filter "Réf. du service"'), True)
    search = _on(SERVICES, "services.search", N_('the button "Rechercher"'), gate=True)
    table = _on(SERVICES, "services.table", N_("the services table"), gate=True)
    columns = _on(SERVICES, "texts.service_columns", N_("the column headers"))
    next_page = _on(
        SERVICES, "services.next_page", N_('the link "Suivant" when there are more pages')
    )
    with_licences = _on(
        SERVICES, "texts.service_type_with_licences", N_("a MetaCentrex service"), True
    )
    active = _on(SERVICES, "texts.service_state_active", N_("an « Actif » one"), gate=True)
    ref_hint = _on(
        SERVICES, "hints.service_ref", N_("its ref reads as the hint says (a hint only)")
    )
    empty = _on(SERVICES, "hints.empty_services", N_("a search that finds nothing concludes"))
    configure = _on(SERVICES, "services.configure", N_('its link "Paramétrer >"'), gate=True)


class ServiceSettings:
    tablist = _on(SERVICE, "service.tablist", N_("the tab list"), gate=True)
    tabs: ClassVar[dict[Tab, CheckSpec]] = {
        tab: _on(
            SERVICE,
            f"service.tabs.{tab.value}",
            f'the tab "{tab.value}", selected by a click',
            True,
        )
        for tab in (Tab.UTILISATEURS, Tab.GROUPEMENTS)
    }
    tab_panel = _on(SERVICE, "service.tab_panel", N_("the tab panel"))


@dataclass(frozen=True)
class TabChecks:
    """The checks of one tab's search form and results, named after the tab."""

    filters: CheckSpec
    licence_filter: CheckSpec
    number_filter: CheckSpec
    search: CheckSpec
    table: CheckSpec
    columns: CheckSpec
    select_all: CheckSpec
    row_checkbox: CheckSpec
    licence_cell: CheckSpec
    next_page: CheckSpec
    actions: CheckSpec

    @classmethod
    def of(cls, tab: Tab) -> TabChecks:
        screen = f"{tab.value} tab"
        return cls(
            _on(screen, "licences.filters", N_("the eleven filters, labelled as the spec says")),
            _on(screen, "licences.licence_filter", N_('the filter "Licence"'), gate=True),
            _on(screen, "licences.number_filter", N_('the filter "SDA"')),
            _on(screen, "licences.search", N_('the button "Rechercher"'), gate=True),
            _on(screen, "licences.table", N_("the results table"), gate=True),
            _on(screen, "texts.licence_columns", N_("the column headers")),
            _on(screen, "licences.select_all", N_('the header checkbox "Tout sélectionner"')),
            _on(screen, "licences.row_checkbox", N_('a checkbox "Sélectionner FPC…" per row')),
            _on(screen, "texts.licence_cell", N_('each "Licence" cell reads "FPC… type"')),
            _on(screen, "licences.next_page", N_('the link "Suivant" when there are more pages')),
            _on(screen, "licences.actions", N_('"Actions" disabled while nothing is ticked')),
        )

    def specs(self) -> tuple[CheckSpec, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


TABS = {tab: TabChecks.of(tab) for tab in (Tab.UTILISATEURS, Tab.GROUPEMENTS)}


class Searches:
    empty = _on(SERVICE, "hints.empty_results", N_("a licence search that finds nothing concludes"))
    by_ref = _on(SERVICE, "texts.licence_ref", N_("the licence to check is found by its ref"), True)
    by_number = _on(SERVICE, "hints.number_filter_format", N_("it is found by its number too"))
    loading = _on(SERVICE, "hints.loading", N_("a loading text (a hint: never required)"))
    technical_error = _on(SERVICE, "hints.technical_error", N_("an error page's wording (a hint)"))
    in_progress = _on(
        SERVICE, "hints.in_progress", N_("« État » of a licence being dissociated (a hint)")
    )
    licence_page = _on(SERVICE, "hints.licence_page", N_("its row links to its own page (a hint)"))
    licence_options = _on(
        SERVICE, "hints.licence_options", N_("its own page shows its « Options » (a hint)")
    )


class Dialog:
    actions = _on(
        DIALOG, "licences.actions", N_('"Actions" enabled once a licence is ticked'), True
    )
    dissociate = _on(
        DIALOG, "licences.dissociate", N_('its menu item "Dissocier vos numéros"'), True
    )
    dialog = _on(DIALOG, "dialog.dialog", N_('the dialog "Dissocier vos numéros"'), gate=True)
    heading = _on(DIALOG, "dialog.heading", N_('its heading "Numéros à dissocier"'))
    row = _on(DIALOG, "texts.dialog_row", N_('its row "FPC… 02 31 …" for the ticked licence'))
    keep_select = _on(DIALOG, "dialog.keep_select", N_('the choice "Conserver le numéro …"'))
    keep_yes = _on(DIALOG, "texts.keep_yes", N_('its option "Oui", preselected'))
    keep_no = _on(DIALOG, "texts.keep_no", N_('its option "Non"'))
    any_keep_select = _on(DIALOG, "dialog.any_keep_select", N_("one choice per number"))
    warnings = _on(DIALOG, "dialog.warnings", N_("the three warning paragraphs"))
    warning_texts = _on(DIALOG, "dialog.warning_texts", N_("the warnings word for word"))
    ended_options = _on(
        DIALOG, "texts.ended_options", N_("the warnings name each option the dissociation ends")
    )
    without_number = _on(
        DIALOG, "texts.without_number", N_('"Licences sans numéro" for a licence without')
    )
    cancel = _on(DIALOG, "dialog.cancel", N_('the button "Annuler"'), gate=True)
    submit = _on(DIALOG, "dialog.submit", N_('the button "Valider" (never clicked)'))
    error = _on(DIALOG, "dialog.error", N_("the alert of a refusal"))


class After:
    cancel = _on(AFTER, "dialog.cancel", N_("Annuler closes the dialog"), gate=True)
    untick = _on(AFTER, "licences.row_checkbox", N_("the tick can be removed; Actions is disabled"))
    status = _on(AFTER, "licences.status", N_('the status "Numéro(s) dissocié(s) : N"'))
    status_text = _on(AFTER, "texts.status_dissociated", N_("its text"))


READ_ONLY = _on(GUARD, "network.read_only", N_("no request that changes data was sent"))

CHECKS: tuple[CheckSpec, ...] = (
    *declared(Login),
    *declared(NavigationChecks),
    *declared(Services),
    *declared(ServiceSettings),
    *TABS[Tab.UTILISATEURS].specs(),
    *TABS[Tab.GROUPEMENTS].specs(),
    *declared(Searches),
    *declared(Dialog),
    *declared(After),
    READ_ONLY,
)


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the portal differs from selectors/: a drift, named by its key
    ERROR = "error"  # could not run: unreachable, no login, a check it needs failed, a signal
    SKIPPED = "skipped"  # a state the portal cannot show here (a small account): with why


@dataclass
class CheckResult:
    spec: CheckSpec
    status: Status
    message: str = ""
    seconds: float = 0.0
    #: a screenshot of the screen where the check failed
    screenshot: Path | None = None
    #: the control that was not there (as selectors/ has it), and its placeholders' values
    control: Control | None = None
    values: dict[str, str] = field(default_factory=dict)
    #: what the screen shows instead, (role, name) the best first, names as the portal gives them
    candidates: tuple[tuple[str, str], ...] = ()
    #: the entry of selectors/ that drifted when it is a text, not a control of the file
    #: ("texts.licence_columns.number", `control` then its column header)
    entry: str | None = None
    #: False for a check the walk never reached (an error saying why)
    ran: bool = True

    @property
    def id(self) -> str:
        return self.spec.id


class Drift(Exception):
    """The portal does not show what the selectors say: the message names it; `control`
    (with its placeholders' `values`) is what was looked for, `candidates` what shows;
    `entry` the text entry of selectors/ it stands for, when it is one (a column header)."""

    def __init__(
        self,
        message: str,
        control: Control | None = None,
        values: dict[str, str] | None = None,
        candidates: tuple[tuple[str, str], ...] = (),
        entry: str | None = None,
    ) -> None:
        super().__init__(message)
        self.control = control
        self.values = values or {}
        self.candidates = candidates
        self.entry = entry


class Skip(Exception):
    """The state that shows this control cannot be reached here: the message says why."""


class NotRun(Exception):
    """The check could not run (no login, a check it needs failed): the message says why."""
