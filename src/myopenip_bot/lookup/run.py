"""A lookup end to end: a browser session, read-only, and what it found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from myopenip_bot.browser.session import BotSession
from myopenip_bot.config.selectors import Selectors
from myopenip_bot.config.settings import Settings
from myopenip_bot.errors import BotError, ServiceNotFoundError
from myopenip_bot.interrupts import StopSignal
from myopenip_bot.lookup.finder import Finder
from myopenip_bot.lookup.rules import LicenceFilter, ListedLicence
from myopenip_bot.models import ServiceInfo
from myopenip_bot.smoke.guard import NetworkGuard

__all__ = ["FindQuery", "FindResult", "run_find"]


@dataclass(frozen=True)
class FindQuery:
    """What a person asks: a client (name or « Compte client »), or a service, and which
    of their licences."""

    client: str | None = None
    service: str | None = None  # neither: a number alone, held by any active service
    licences: LicenceFilter = field(default_factory=LicenceFilter)

    @property
    def asks_for_licences(self) -> bool:
        """Whether licences are asked for, not only a client's services."""
        wanted = self.licences
        return bool(self.service or wanted.number or wanted.licence or wanted.with_number)


@dataclass
class FindResult:
    """What the portal showed: the client meant, its services, the licences kept."""

    client: tuple[str, str] | None = None  # (name, « Compte client »)
    services: list[ServiceInfo] = field(default_factory=list)
    licences: list[ListedLicence] = field(default_factory=list)
    searched: int = 0  # the services searched for a number (to its holder, or all)


def run_find(
    settings: Settings,
    selectors: Selectors,
    query: FindQuery,
    *,
    stop: StopSignal | None = None,
    on_step: Callable[[str], None] | None = None,
) -> FindResult:
    """Answer `query` on the portal, read-only (a guard aborts any request that is not a
    read); `on_step` is told each step's name as it begins; raises BotError (its
    `run_dir` the run folder) when it cannot."""
    session = BotSession(settings, label="find", read_only=True)
    try:
        with session:
            NetworkGuard(session.context).install()  # logins happen in another context
            finder = Finder(session.portal(selectors, stop, on_step))
            result = _answer(finder, query)
    except BotError as error:
        error.run_dir = session.kept_dir
        raise
    return result


def _answer(finder: Finder, query: FindQuery) -> FindResult:
    result = FindResult()
    wanted = query.licences
    if query.client:
        result.client, result.services = finder.client_services(query.client)
    elif query.service:
        ref = query.service
        result.services = [s for s in finder.services(ref) if s.ref.upper() == ref.upper()]
        if not result.services:
            raise ServiceNotFoundError(f"no service with the ref {ref!r}")
    elif wanted.number:
        return _number_alone(finder, wanted.number, wanted)
    if not query.asks_for_licences and not query.licences.user:
        return result
    texts = finder.portal.selectors.texts
    by_ref = bool(wanted.licence and texts.licence_ref.fullmatch(wanted.licence))
    if query.client and wanted.number and not wanted.user and not by_ref:
        # A client's services searched for a number, one search per tab, to its holder.
        with_licences = [
            s for s in result.services if not s.type or s.type == texts.service_type_with_licences
        ]
        found, result.searched = finder.number_holder(wanted.number, with_licences)
        result.licences = [listed for listed in found if wanted.keeps(listed)]
        return result
    for service in result.services:
        if service.type and service.type != texts.service_type_with_licences:
            continue  # a Trunk SIP, an Accès Fibre: no licences to look at
        if wanted.licence and texts.licence_ref.fullmatch(wanted.licence) and not wanted.user:
            found = finder.holding(service, ref=wanted.licence)
        elif wanted.number and not wanted.user:
            found = finder.holding(service, number=wanted.number)
        else:
            found = finder.licences(service)
        result.licences += [listed for listed in found if wanted.keeps(listed)]
    return result


def _number_alone(finder: Finder, number: str, wanted: LicenceFilter) -> FindResult:
    """Who holds `number`: every active MetaCentrex service of the list searched, in its
    order, up to the holder, whose client and service the answer names."""
    found, searched = finder.number_holder(number, finder.active_services())
    result = FindResult(searched=searched)
    result.licences = [listed for listed in found if wanted.keeps(listed)]
    if found:
        service = found[0].service
        result.services = [service]
        if service.client or service.account:
            result.client = (service.client, service.account)
    return result
