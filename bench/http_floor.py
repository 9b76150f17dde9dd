"""The HTTP floor: the same dissociation as the browser's, as plain HTTP requests (httpx).

    python bench/http_floor.py --base-url URL --service SRV-10021 --licence FPC367128 \
        --tab Groupements [--licence … --tab …] [--keep] [--user demo --password demo]

The requests a browser sends for the guide's steps on the classic markup, in order, and
nothing else (no static files: a real portal serves them from a CDN, and the replica
exempts them from its latency):

1. GET /  → 303 /login?next=/ (the login form with its CSRF token, cookie myopenip_login)
2. POST /login (csrf_token, next, username, password) → 303 / (the home page)
3. GET /services (Mes Services > Paramétrage / Monitoring)
4. GET /services?ref=SRV-…&name=… (the filter form; every field, as a browser sends it)
5. GET /services/SRV-… (« Paramétrer > »; its <meta name="csrf-token">)
6. GET /api/services/SRV-…/licences?tab=utilisateurs&page=1 (the page's first search)
7. GET …/licences?tab=groupements&page=1 (the tab)
8. GET …/licences?licence=FPC…&tab=groupements&page=1 (the filter, « Rechercher »)
9. POST …/dissociation-preview {"licences": [ref]} with X-CSRF-Token (the dialog)
10. POST …/dissociations {"licences": [{"ref", "keep"}]} with X-CSRF-Token (« Valider »)

With several --licence, steps 1-2 happen once and 5-10 once per licence (3-4 once per
service). Prints one JSON line: {"seconds", "seconds_login", "per_licence": [seconds…],
"requests"}. The answers are checked only as far as the next request needs them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

SERVICE_FILTER_KEYS = ("ref", "name", "client", "account", "site", "type", "state")
LOGIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT_FIELD = re.compile(r'name="next" value="([^"]*)"')
PAGE_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class FloorResult:
    seconds: float = 0.0
    seconds_login: float = 0.0
    per_licence: list[float] = field(default_factory=list)
    requests: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "seconds_login": round(self.seconds_login, 3),
            "per_licence": [round(s, 3) for s in self.per_licence],
            "requests": self.requests,
        }


class _Client:
    """httpx with a request count and a failure on any unexpected status."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=True, timeout=60.0)
        self.requests = 0

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response = self.http.get(url, **kwargs)
        return self._checked(response)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        response = self.http.post(url, **kwargs)
        return self._checked(response)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        self.requests += 1 + len(response.history)  # each redirect is a request too
        response.raise_for_status()
        return response


def _match(pattern: re.Pattern[str], text: str, what: str) -> str:
    found = pattern.search(text)
    if found is None:
        raise RuntimeError(f"no {what} in the page")
    return found.group(1)


def run(
    base_url: str,
    user: str,
    password: str,
    service: str,
    licences: list[tuple[str, str]],
    keep: bool = False,
) -> FloorResult:
    """Dissociate `licences` ((ref, tab) pairs of one service) as a browser would, in HTTP."""
    result = FloorResult()
    started = time.perf_counter()
    client = _Client(base_url.rstrip("/"))
    with client.http:
        login = client.get("/")
        token = _match(LOGIN_TOKEN, login.text, "login token")
        next_url = _match(NEXT_FIELD, login.text, "next field")
        client.post(
            "/login",
            data={"csrf_token": token, "next": next_url, "username": user, "password": password},
        )
        result.seconds_login = time.perf_counter() - started
        client.get("/services")
        filters = {key: (service if key == "ref" else "") for key in SERVICE_FILTER_KEYS}
        client.get("/services", params=filters)
        api = f"/api/services/{service}"
        for ref, tab in licences:
            one = time.perf_counter()
            page = client.get(f"/services/{service}")
            csrf = _match(PAGE_TOKEN, page.text, "CSRF token")
            headers = {"X-CSRF-Token": csrf}
            client.get(f"{api}/licences", params={"tab": "utilisateurs", "page": "1"})
            tab_key = tab.lower()
            if tab_key != "utilisateurs":
                client.get(f"{api}/licences", params={"tab": tab_key, "page": "1"})
            found = client.get(
                f"{api}/licences", params={"licence": ref, "tab": tab_key, "page": "1"}
            ).json()
            if not any(row["ref"] == ref for row in found["rows"]):
                raise RuntimeError(f"{ref} not found in {tab}")
            client.post(f"{api}/dissociation-preview", json={"licences": [ref]}, headers=headers)
            done = client.post(
                f"{api}/dissociations",
                json={"licences": [{"ref": ref, "keep": keep}]},
                headers=headers,
            ).json()
            if done.get("dissociated") != 1:
                raise RuntimeError(f"{ref}: unexpected answer {done}")
            result.per_licence.append(time.perf_counter() - one)
    result.seconds = time.perf_counter() - started
    result.requests = client.requests
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("MYOPENIP_BASE_URL"))
    parser.add_argument("--user", default=os.environ.get("MYOPENIP_USERNAME", "demo"))
    parser.add_argument("--password", default=os.environ.get("MYOPENIP_PASSWORD", "demo"))
    parser.add_argument("--service", required=True)
    parser.add_argument("--licence", action="append", required=True)
    parser.add_argument(
        "--tab", action="append", choices=("Utilisateurs", "Groupements"), required=True
    )
    parser.add_argument("--keep", action="store_true", help="« Conserver le numéro » = Oui")
    args = parser.parse_args(argv)
    if not args.base_url:
        parser.error("--base-url (or MYOPENIP_BASE_URL) is required")
    tabs = args.tab if len(args.tab) == len(args.licence) else args.tab[:1] * len(args.licence)
    result = run(
        args.base_url,
        args.user,
        args.password,
        args.service,
        list(zip(args.licence, tabs, strict=True)),
        args.keep,
    )
    print(json.dumps(result.as_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
