"""The replica's routes: login, the service list, a service's licences and the dissociation.

Pages are server-rendered (Jinja2); a service's licences and the dissociation go through
a small JSON API that the page's JavaScript calls, like the real portal does. The same
handlers serve both markups (`--markup classic|aria`): each reads its URLs, query and
form names, page size and templates from the app's `Markup` (markup.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from myopenip_portal import db
from myopenip_portal.auth import LOGIN_COOKIE, SESSION_COOKIE, Session, new_token, tokens_match
from myopenip_portal.config import PortalConfig
from myopenip_portal.drift import OPEN, Drift, finalize, ui, ui_format
from myopenip_portal.faults import FaultMiddleware, ResponseDropped
from myopenip_portal.markup import ARIA, Markup, markup_named
from myopenip_portal.portal import Portal
from myopenip_portal.sessions import SessionMiddleware
from myopenip_portal.testapi import test_routes

HERE = Path(__file__).parent
TABS = ("utilisateurs", "groupements")
CSRF_HEADER = "x-csrf-token"
# Everything a template prints goes through `finalize`, which marks it as data unless it
# is the portal's own text (`UiText`): a drift (POST /_test/drift) renames only the latter.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(),
        finalize=finalize,
    )
)


@jinja2.pass_context
def _number(context: jinja2.runtime.Context, digits: str | None) -> str:
    """A number as the portal shows it now (the drift's `numbers`: "02 31 45 67 89")."""
    shown = context.get("show_number")
    return shown(digits) if callable(shown) else db.display_number(digits)


templates.env.filters["number"] = _number
templates.env.filters["ui"] = ui
# The filters' labels (also the column headers) are the portal's own texts.
SERVICE_FILTERS = tuple((key, ui(label), column) for key, label, column in db.SERVICE_FILTERS)
LICENCE_FILTERS = tuple((key, ui(label), column) for key, label, column in db.LICENCE_FILTERS)


def create_app(config: PortalConfig, clock: Callable[[], float] = time.time) -> Starlette:
    """The ASGI application for these options (its data opened and seeded already)."""
    markup = markup_named(config.markup)
    portal = Portal.open(config, clock)
    routes: list[Route | Mount] = [
        *page_routes(markup),
        Route(markup.api_licences, drifting(api_licences), methods=["GET", "POST"]),
        Route(markup.api_preview, drifting(api_preview), methods=["POST"]),
        Route(markup.api_dissociate, drifting(api_dissociate), methods=["POST"]),
        Mount(
            "/static", app=DriftingStatic(portal.drift, directory=HERE / "static"), name="static"
        ),
    ]
    if config.test_api:
        routes.append(Mount("/_test", routes=test_routes()))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(CompletingMiddleware, portal=portal),
            Middleware(FaultMiddleware, faults=portal.faults, markup=markup, drift=portal.drift),
            Middleware(SessionMiddleware, store=portal.sessions),
        ],
        exception_handlers={HTTPException: http_error},
    )
    app.state.portal = portal
    app.state.markup = markup
    return app


class CompletingMiddleware:
    """Before each request, the back end does what it accepted and is now due (the
    late-completion quirk): every answer shows the data as it is at that moment."""

    def __init__(self, app: ASGIApp, portal: Portal) -> None:
        self.app = app
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.portal.complete_due()
        await self.app(scope, receive, send)


def page_routes(markup: Markup) -> list[Route]:
    """The pages at this markup's addresses (the other markup's addresses are 404)."""
    routes: list[Route] = [
        Route(markup.login_path, login_page, methods=["GET"]),
        Route(markup.login_path, login_submit, methods=["POST"]),
        Route(markup.logout_path, logout, methods=["POST"]),
        Route(markup.services_path, services_page, methods=["GET", "POST"]),
        Route(markup.service_path, service_page),
        Route(markup.licence_path, licence_page),
    ]
    if markup.name == ARIA:
        # "/" is only the entry: it leads to the login page or to the home page.
        routes += [Route("/", entry), Route("/espace", entry), Route(markup.home_path, home)]
    else:
        routes.append(Route(markup.home_path, home))
    return routes


# ---------------------------------------------------------------------------- helpers


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def markup_of(request: Request) -> Markup:
    markup: Markup = request.app.state.markup
    return markup


def session_of(request: Request) -> Session | None:
    session: Session | None = request.scope.get("state", {}).get("session")
    return session


def session_expired(request: Request) -> bool:
    return bool(request.scope.get("state", {}).get("session_expired"))


def here(request: Request) -> str:
    """This request's path and query: where to come back after logging in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_redirect(request: Request) -> RedirectResponse:
    url = markup_of(request).login_url(here(request), expired=session_expired(request))
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//elsewhere` or `https://elsewhere`."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def render(
    request: Request, name: str, context: Mapping[str, Any], status_code: int = 200
) -> Response:
    session = session_of(request)
    markup = markup_of(request)
    quirks = portal_of(request).quirks
    base: dict[str, Any] = {
        "session": session,
        "user_name": "",
        "markup": markup,
        "quirks": quirks,
        "script_quirks": quirks.for_script(markup.page_size),
        "show_number": portal_of(request).drift.number,
    }
    if session is not None:
        base["user_name"] = db.partner_name(portal_of(request).conn, session.user)
    response = templates.TemplateResponse(
        request, markup.template(name), {**base, **context}, status_code=status_code
    )
    # The sentinels around printed data go; a drift renames the portal's own texts.
    response.body = portal_of(request).drift.page(bytes(response.body).decode()).encode()
    response.headers["content-length"] = str(len(response.body))
    response.headers["cache-control"] = "no-store"
    return response


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", {"title": ui(title), "message": ui(message)}, status)


def json_error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def drift_json(request: Request, response: Response) -> Response:
    """A JSON answer with its `message` renamed by the drift (nothing else of it, not even
    the refs it quotes) and the sentinels around those refs removed."""
    drift = portal_of(request).drift
    if not isinstance(response, JSONResponse):
        return response
    if not drift.active and OPEN.encode() not in bytes(response.body):
        return response
    body = json.loads(bytes(response.body))
    renamed = drift.json_message(body)
    if renamed is not body:
        response.body = response.render(renamed)
        response.headers["content-length"] = str(len(response.body))
    return response


def drifting(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """An API handler whose JSON `message` follows the drift."""

    async def handle(request: Request) -> Response:
        return drift_json(request, await handler(request))

    handle.__name__ = handler.__name__
    handle.__doc__ = handler.__doc__
    return handle


class DriftingStatic(StaticFiles):
    """/static/: while a drift is on, scripts are served with their `ui("…")` texts renamed;
    cached only at the address the drifted pages give them (`?drift=<version>`), never at
    another. Without a drift, and for other files, exactly what StaticFiles serves."""

    def __init__(self, drift: Drift, **options: Any) -> None:
        super().__init__(**options)
        self.drift = drift

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if not (self.drift.active and path.endswith(".js")) or response.status_code >= 400:
            return response
        full_path, _ = self.lookup_path(path)
        source = Path(full_path).read_text(encoding="utf-8")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        versioned = query.get("drift") == [self.drift.version]
        return Response(
            self.drift.script(source),
            media_type="text/javascript; charset=utf-8",
            headers={"cache-control": "private, max-age=3600" if versioned else "no-store"},
        )


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods: JSON under the API's prefix, a portal page elsewhere."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if markup_of(request).is_api(request.url.path):
        error = json_error(status, "http_error", "Requête invalide ou ressource introuvable.")
        return drift_json(request, error)
    if status == 404:
        return error_page(request, 404, "Page introuvable", "Cette page n'existe pas.")
    return error_page(request, status, "Requête refusée", "Cette requête n'est pas acceptée.")


def api_session(request: Request) -> Session | JSONResponse:
    """The session for an API call, or the 401 the page's script turns into a login."""
    session = session_of(request)
    if session is not None:
        return session
    expired = session_expired(request)
    return json_error(
        401,
        "session_expired" if expired else "not_authenticated",
        "Votre session a expiré. Veuillez vous reconnecter."
        if expired
        else "Vous devez vous connecter.",
        login_url=markup_of(request).login_path,
    )


def csrf_refused(request: Request, session: Session) -> JSONResponse | None:
    if tokens_match(session.csrf, request.headers.get(CSRF_HEADER)):
        return None
    return json_error(
        403, "csrf", "Requête refusée : jeton de sécurité (CSRF) manquant ou invalide."
    )


def visible_service(
    portal: Portal, session: Session, ref: str
) -> tuple[dict[str, Any] | None, int, str]:
    """The service if this user may see it; else (None, status, message)."""
    service = db.service(portal.conn, ref)
    if service is None:
        return None, 404, ui_format("Le service {} n'existe pas.", ref)
    if service["partner"] != session.user:
        return None, 403, ui_format("Vous n'avez pas accès au service {}.", ref)
    return service, 200, ""


# ---------------------------------------------------------------------------- pages


async def home(request: Request) -> Response:
    if session_of(request) is None:
        return login_redirect(request)
    return render(request, "home.html", {"title": ui("Accueil")})


async def entry(request: Request) -> Response:
    """The aria markup's "/": the login page when logged out, else the home page."""
    if session_of(request) is None:
        return login_redirect(request)
    return RedirectResponse(markup_of(request).home_path, status_code=303)


async def login_page(request: Request) -> Response:
    markup = markup_of(request)
    token = request.cookies.get(LOGIN_COOKIE) or new_token()
    notice = ""
    query = request.query_params
    if query.get(markup.expired_param[0]) == markup.expired_param[1]:
        notice = ui("Votre session a expiré. Veuillez vous reconnecter.")
    elif query.get(markup.logged_out_param[0]) == markup.logged_out_param[1]:
        notice = ui("Vous êtes déconnecté.")
    response = render(
        request,
        "login.html",
        {
            "title": ui("Connexion"),
            "session": None,  # the login page never shows the logged-in navigation
            "login_token": token,
            "next": safe_next(query.get(markup.next_param)),
            "notice": notice,
            "alert": "",
            "username": "",
        },
    )
    _set_login_cookie(response, token)
    return response


async def login_submit(request: Request) -> Response:
    portal = portal_of(request)
    markup = markup_of(request)
    form = await request.form()
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not tokens_match(cookie, str(form.get(markup.token_field) or "")):
        return error_page(
            request,
            403,
            "Requête refusée",
            "Le jeton de sécurité du formulaire de connexion est manquant ou invalide. "
            "Rechargez la page de connexion puis réessayez.",
        )
    username = str(form.get(markup.username_field) or "").strip()
    password = str(form.get(markup.password_field) or "")
    target = safe_next(str(form.get(markup.next_param) or "/"))
    result = portal.sessions.login(
        username, password, db.partner_password(portal.conn, username) if username else None
    )
    if result.session is None:
        token = cookie or new_token()
        response = render(
            request,
            "login.html",
            {
                "title": ui("Connexion"),
                "session": None,  # the login page never shows the logged-in navigation
                "login_token": token,
                "next": target,
                "notice": "",
                "alert": ui(result.message),
                "username": username,
            },
            status_code=401,
        )
        return response
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, result.session.token, httponly=True, samesite="lax", path="/"
    )
    return response


async def logout(request: Request) -> Response:
    session = session_of(request)
    markup = markup_of(request)
    if session is None:
        return RedirectResponse(markup.login_path, status_code=303)
    form = await request.form()
    if not tokens_match(session.csrf, str(form.get(markup.token_field) or "")):
        return error_page(
            request,
            403,
            "Requête refusée",
            "Le jeton de sécurité (CSRF) est manquant ou invalide. Rechargez la page.",
        )
    portal_of(request).sessions.logout(session.token)
    response = RedirectResponse(markup.login_url(logged_out=True), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _set_login_cookie(response: Response, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="lax", path="/")


def _page_number(raw: str | None, pages: int) -> int:
    try:
        page = int(raw or "1")
    except ValueError:
        page = 1
    return min(max(page, 1), max(pages, 1))


async def services_page(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return login_redirect(request)
    markup = markup_of(request)
    quirks = portal_of(request).quirks
    size = quirks.rows_a_page(markup.page_size)
    params = await _read_params(request)  # a search posted as a form (post-reads), or not
    filters = {key: params.get(key, "") for key, _, _ in db.SERVICE_FILTERS}
    rows = db.services_for(portal_of(request).conn, session.user, filters)
    pages = max(1, math.ceil(len(rows) / size))
    page = _page_number(params.get(markup.page_param), pages)
    active = {k: v for k, v in filters.items() if v}

    def page_url(number: int) -> str:
        return f"{markup.services_path}?" + urlencode({**active, markup.page_param: number})

    return render(
        request,
        "services.html",
        {
            "title": ui("Paramétrage / Monitoring"),
            "filters": SERVICE_FILTERS,
            "values": filters,
            "rows": rows[(page - 1) * size : page * size],
            "first": (page - 1) * size + 1 if rows else 0,
            "last": min(page * size, len(rows)),
            "total": len(rows),
            "page": page,
            "pages": pages,
            "previous_url": page_url(page - 1) if page > 1 else None,
            "next_url": page_url(page + 1) if page < pages else None,
            # search-first: the list shows once the form was submitted (its fields are in
            # the query, even empty) or a page link followed.
            "searched": any(key in params for key in (*filters, markup.page_param)),
        },
    )


async def _read_params(request: Request) -> dict[str, str]:
    """A read's parameters: its query, and a posted form's or JSON body's fields (a
    portal whose searches are POST requests: the post-reads quirk)."""
    params = {key: value for key, value in request.query_params.items()}
    if request.method != "POST":
        return params
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await _json_body(request) or {}
        params |= {str(k): str(v) for k, v in body.items() if isinstance(v, str | int)}
    else:
        form = await request.form()
        params |= {key: value for key, value in form.items() if isinstance(value, str)}
    return params


async def service_page(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return login_redirect(request)
    ref = request.path_params["ref"]
    service, status, message = visible_service(portal_of(request), session, ref)
    if service is None:
        title = "Service introuvable" if status == 404 else "Accès refusé"
        return error_page(request, status, title, message)
    if service["type"] != db.METACENTREX:
        return render(request, "service_other.html", {"title": service["name"], "service": service})
    markup = markup_of(request)
    tab = request.query_params.get(markup.tab_param, TABS[0])
    if tab not in TABS:
        tab = TABS[0]
    values = {key: request.query_params.get(key, "") for key, _, _ in db.LICENCE_FILTERS}
    return render(
        request,
        "service.html",
        {
            "title": service["name"],
            "service": service,
            "tab": tab,
            "filters": LICENCE_FILTERS,
            "values": values,
            "page": request.query_params.get(markup.page_param, "1"),
            # search-first: the form was submitted (by the browser itself, before the
            # page's script ran, or the address of a search reloaded).
            "searched": any(key in request.query_params for key in values),
        },
    )


async def licence_page(request: Request) -> Response:
    """One licence's details (read-only): what a dissociation wipes is visible here."""
    session = session_of(request)
    if session is None:
        return login_redirect(request)
    portal = portal_of(request)
    ref = request.path_params["ref"]
    service, status, message = visible_service(portal, session, ref)
    if service is None:
        title = "Service introuvable" if status == 404 else "Accès refusé"
        return error_page(request, status, title, message)
    licence_ref = request.path_params["licence"]
    licence = db.licences_by_ref(portal.conn, [licence_ref]).get(licence_ref)
    if licence is None or licence["service_ref"] != ref:
        return error_page(
            request,
            404,
            "Licence introuvable",
            ui_format("La licence {} n'existe pas dans le service {}.", licence_ref, ref),
        )
    return render(
        request,
        "licence.html",
        {
            "title": licence_ref,
            "service": service,
            "licence": licence,
            "options": json.loads(licence["options"]),
            "settings": json.loads(licence["settings"]),
        },
    )


# ---------------------------------------------------------------------------- JSON API


def _service_call(
    request: Request, *, state_changing: bool
) -> tuple[Session, Portal, str, Any] | JSONResponse:
    """The checks every service API call makes, in this order: a live session, the CSRF
    token when the call changes state, and a service this user may see."""
    session = api_session(request)
    if isinstance(session, JSONResponse):
        return session
    if state_changing:
        refused = csrf_refused(request, session)
        if refused is not None:
            return refused
    portal = portal_of(request)
    ref = request.path_params["ref"]
    service, status, message = visible_service(portal, session, ref)
    if service is None:
        return json_error(status, "unknown_service" if status == 404 else "forbidden", message)
    return session, portal, ref, service


async def api_licences(request: Request) -> Response:
    checked = _service_call(request, state_changing=False)
    if isinstance(checked, JSONResponse):
        return checked
    _session, portal, ref, service = checked
    if service["type"] != db.METACENTREX:
        return json_error(409, "no_licences", ui_format("Le service {} n'a pas de licences.", ref))
    params = await _read_params(request)  # a search posted (post-reads), or in the query
    tab = params.get("tab", TABS[0])
    if tab not in TABS:
        return json_error(400, "bad_tab", ui_format("Onglet inconnu : {}.", tab))
    filters = {key: params.get(key, "") for key, _, _ in db.LICENCE_FILTERS}
    # A real back end takes a moment to search; the page shows its loading state meanwhile.
    await asyncio.sleep(portal.faults.search_delay())
    rows = db.licences_of(portal.conn, ref, tab, filters)
    # all=1: every matching row at once, for a page that pages or filters them itself
    # (the client-paging and client-filtering quirks).
    everything = params.get("all") == "1"
    size = len(rows) if everything else portal.quirks.rows_a_page(markup_of(request).page_size)
    pages = 1 if everything else max(1, math.ceil(len(rows) / size))
    page = _page_number(params.get("page"), pages)
    shown = rows if everything else rows[(page - 1) * size : page * size]
    return JSONResponse(
        {
            "service_ref": ref,
            "tab": tab,
            "page": page,
            "pages": pages,
            "total": len(rows),
            "per_page": size,
            "rows": [_licence_row(row, portal.drift.number) for row in shown],
        },
        headers={"cache-control": "no-store"},
    )


def _licence_row(row: Mapping[str, Any], show: Callable[[str | None], str]) -> dict[str, Any]:
    """A licence as the API gives it, its number shown by `show` (the drift's format);
    `fields` holds what each filter field matches, for a page that filters rows itself
    (the client-filtering quirk)."""
    return {
        "ref": row["ref"],
        "type": row["type"],
        "licence": row["licence"],
        "sda": row["sda"],
        "sda_display": show(row["sda"]),
        "user": row["user_name"],
        "site": row["site"],
        "state": row["state"],
        "fields": {key: row[column] or "" for key, _, column in db.LICENCE_FILTERS},
    }


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def api_preview(request: Request) -> Response:
    """What the dialog lists: the ticked licences as the server knows them now."""
    checked = _service_call(request, state_changing=True)
    if isinstance(checked, JSONResponse):
        return checked
    session, portal, ref, _service = checked
    body = await _json_body(request)
    refs = body.get("licences") if body else None
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        return json_error(400, "bad_request", "La liste des licences est invalide.")
    await asyncio.sleep(portal.faults.dialog_delay())
    try:
        licences = db.check_licences(portal.conn, session.user, ref, refs)
    except db.DissociationError as error:
        return json_error(error.status, error.code, error.message, licence_ref=error.licence_ref)
    with_number, without_number = [], []
    for licence_ref in refs:
        licence = licences[licence_ref]
        shown = portal.misreports.get(licence_ref, licence["sda"])
        if shown:
            with_number.append(
                {
                    "ref": licence_ref,
                    "type": licence["type"],
                    "number": shown,
                    "number_display": portal.drift.number(shown),
                }
            )
        else:
            without_number.append({"ref": licence_ref, "type": licence["type"]})
    return JSONResponse({"with_number": with_number, "without_number": without_number})


async def api_dissociate(request: Request) -> Response:
    """ "Valider": dissociate every listed licence in one transaction, or none."""
    checked = _service_call(request, state_changing=True)
    if isinstance(checked, JSONResponse):
        return checked
    session, portal, ref, _service = checked
    body = await _json_body(request)
    items = body.get("licences") if body else None
    choices: list[tuple[str, bool]] = []
    if isinstance(items, list):
        for item in items:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("ref"), str)
                and isinstance(item.get("keep"), bool)
            ):
                choices = []
                break
            choices.append((item["ref"], item["keep"]))
    if not choices:
        return json_error(
            400,
            "bad_request",
            'Attendu : {"licences": [{"ref": "FPC…", "keep": true|false}, …]}.',
        )
    answer = _dissociation_answer(session.user, portal, ref, choices)
    portal.submissions.append(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "service_ref": ref,
            "licences": [licence for licence, _ in choices],
            "status": answer.status_code,
        }
    )
    return answer


def _dissociation_answer(
    user: str, portal: Portal, ref: str, choices: list[tuple[str, bool]]
) -> Response:
    """The back end's answer to « Valider »: refused, done at once, or (late-completion)
    accepted and done a few seconds later."""
    refused = portal.refusal.take()
    if refused is not None:  # POST /_test/refuse: shown verbatim, never renamed by a drift
        return json_error(409, "refused", ui_format("{}", refused))
    working = [licence for licence, _ in choices if licence in portal.pending]
    if working:  # late-completion: the back end is still at work on it
        return json_error(
            409,
            "in_progress",
            ui_format("Une dissociation est déjà en cours pour la licence {}.", working[0]),
            licence_ref=working[0],
        )
    if portal.quirks.late_completion is not None:
        try:
            db.check_dissociation(
                portal.conn, partner=user, service_ref=ref, refs=[r for r, _ in choices]
            )
        except db.DissociationError as error:
            return json_error(
                error.status, error.code, error.message, licence_ref=error.licence_ref
            )
        portal.accept_later(ref, choices, user)
        if portal.faults.should_drop():
            return DroppedResponse()
        return JSONResponse(
            {
                "dissociated": len(choices),
                "message": f"Numéro(s) dissocié(s) : {len(choices)}",
                "licences": [{"ref": r, "keep": keep} for r, keep in choices],
            }
        )
    try:
        done = db.dissociate(
            portal.conn,
            partner=user,
            service_ref=ref,
            choices=choices,
            user=user,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    except db.DissociationError as error:
        return json_error(error.status, error.code, error.message, licence_ref=error.licence_ref)
    if portal.faults.should_drop():
        return DroppedResponse()
    return JSONResponse(
        {
            "dissociated": len(done),
            "message": f"Numéro(s) dissocié(s) : {len(done)}",
            "licences": [{"ref": d.licence_ref, "number": d.number, "keep": d.keep} for d in done],
        }
    )


class DroppedResponse(Response):
    """Starts a response then fails, so the server closes the connection mid-answer.

    The dissociation is already committed: the client sees a network error and must
    read the state back to learn what happened (`--drop-after-commit-rate`).
    """

    def __init__(self) -> None:
        super().__init__(status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        raise ResponseDropped("response dropped after commit (fault injection)")


__all__ = ["create_app"]
