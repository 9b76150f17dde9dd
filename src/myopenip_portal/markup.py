"""The replica's two markups: one back end, two front ends (`--markup classic|aria`).

Both serve the same data, rules, faults and test API, with the spec's roles, accessible
names and texts. What differs is everything the spec leaves open: URLs, query and form
field names, page size, HTML structure, scripts, loading and error wording. The "aria"
markup exists to prove the bot relies on the spec alone (see docs/replica.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

CLASSIC = "classic"
ARIA = "aria"
NAMES = (CLASSIC, ARIA)


@dataclass(frozen=True)
class Markup:
    """Where each screen lives and how its forms and queries are named, for one markup."""

    name: str
    template_prefix: str  # "" (templates/) or "aria/" (templates/aria/)
    page_size: int  # rows a page, services and licences alike
    # pages
    home_path: str
    login_path: str
    logout_path: str
    services_path: str
    service_path: str  # "{ref}" is replaced
    licence_path: str  # "{ref}" and "{licence}" are replaced
    # the JSON API ("{ref}" is replaced); every path under api_prefix answers JSON
    api_prefix: str
    api_licences: str
    api_preview: str
    api_dissociate: str
    # query parameters
    next_param: str
    expired_param: tuple[str, str]
    logged_out_param: tuple[str, str]
    page_param: str
    tab_param: str
    # form fields of the login form (and of the logout form's CSRF token)
    username_field: str
    password_field: str
    token_field: str
    # the 503 a technical error gets (--error-rate): a page, or JSON under api_prefix
    unavailable_page: str
    unavailable_message: str

    def template(self, name: str) -> str:
        return self.template_prefix + name

    def is_api(self, path: str) -> bool:
        return path.startswith(self.api_prefix)

    def login_url(
        self, next_path: str | None = None, *, expired: bool = False, logged_out: bool = False
    ) -> str:
        params: dict[str, str] = {}
        if next_path:
            params[self.next_param] = next_path
        if expired:
            params[self.expired_param[0]] = self.expired_param[1]
        if logged_out:
            params[self.logged_out_param[0]] = self.logged_out_param[1]
        return self.login_path + (f"?{urlencode(params)}" if params else "")

    def service_url(self, ref: str) -> str:
        return self.service_path.format(ref=ref)

    def licence_url(self, ref: str, licence: str) -> str:
        return self.licence_path.format(ref=ref, licence=licence)


_CLASSIC_UNAVAILABLE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Erreur technique – MyOpenIP</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/portal.css"></head>
<body class="error-page"><main class="card narrow">
<h1>Erreur technique</h1>
<p role="alert">Le service est momentanément indisponible. Veuillez réessayer dans quelques
instants.</p>
<p><a href="/">Retour à l'accueil</a></p>
</main></body></html>
"""

_ARIA_UNAVAILABLE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Indisponible · Espace MyOpenIP</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/aria.css"></head>
<body class="x-shell x-shell--bare"><div class="x-panel x-panel--narrow">
<div class="x-panel__title" role="heading" aria-level="1">Service indisponible</div>
<div class="x-banner x-banner--danger" role="alert">Le service est momentanément \
indisponible (503). Réessayez dans quelques instants.</div>
<div><a class="x-link" href="/">Revenir à l'espace</a></div>
</div></body></html>
"""

CLASSIC_MARKUP = Markup(
    name=CLASSIC,
    template_prefix="",
    page_size=20,
    home_path="/",
    login_path="/login",
    logout_path="/logout",
    services_path="/services",
    service_path="/services/{ref}",
    licence_path="/services/{ref}/licences/{licence}",
    api_prefix="/api/",
    api_licences="/api/services/{ref}/licences",
    api_preview="/api/services/{ref}/dissociation-preview",
    api_dissociate="/api/services/{ref}/dissociations",
    next_param="next",
    expired_param=("expired", "1"),
    logged_out_param=("logged_out", "1"),
    page_param="page",
    tab_param="tab",
    username_field="username",
    password_field="password",
    token_field="csrf_token",
    unavailable_page=_CLASSIC_UNAVAILABLE,
    unavailable_message="Erreur technique : le service est momentanément indisponible. "
    "Veuillez réessayer.",
)

ARIA_MARKUP = Markup(
    name=ARIA,
    template_prefix="aria/",
    page_size=7,
    home_path="/espace/accueil",
    login_path="/connexion",
    logout_path="/deconnexion",
    services_path="/espace/services",
    service_path="/espace/services/{ref}/parametrage",
    licence_path="/espace/services/{ref}/licences/{licence}",
    api_prefix="/espace/api/",
    api_licences="/espace/api/v2/services/{ref}/licences",
    api_preview="/espace/api/v2/services/{ref}/dissociations/apercu",
    api_dissociate="/espace/api/v2/services/{ref}/dissociations",
    next_param="retour",
    expired_param=("motif", "expiration"),
    logged_out_param=("motif", "deconnexion"),
    page_param="p",
    tab_param="onglet",
    username_field="identifiant",
    password_field="secret",
    token_field="jeton",
    unavailable_page=_ARIA_UNAVAILABLE,
    unavailable_message="Le service est momentanément indisponible (503). "
    "Réessayez dans quelques instants.",
)

MARKUPS = {CLASSIC: CLASSIC_MARKUP, ARIA: ARIA_MARKUP}


def markup_named(name: str) -> Markup:
    """The markup for `--markup NAME`; ValueError for an unknown name."""
    try:
        return MARKUPS[name]
    except KeyError:
        raise ValueError(f"unknown markup {name!r} (expected one of {', '.join(NAMES)})") from None
