"""The test API (`--test-api` only): read the whole state, reset it, expire sessions, make
the dialog misreport a number, change a service's state, make the portal's texts drift,
edit data by hand, refuse the next submissions, answer the next submissions 503, turn the
fault knobs, switch quirks.
Never delayed nor failed by the fault knobs."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from myopenip_portal import db
from myopenip_portal.drift import CLOSE, NUMBER_FORMATS, OPEN
from myopenip_portal.faults import KNOBS, out_of_range
from myopenip_portal.portal import Portal
from myopenip_portal.quirks import KNOWN, Quirks, UnknownQuirk


def test_routes() -> list[Route]:
    return [
        Route("/state", state, methods=["GET"]),
        Route("/back-end", back_end, methods=["GET"]),
        Route("/complete", complete, methods=["POST"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/expire-sessions", expire_sessions, methods=["POST"]),
        Route("/misreport", misreport, methods=["POST"]),
        Route("/service-state", service_state, methods=["POST"]),
        Route("/drift", drift, methods=["GET", "POST"]),
        Route("/data", edit_data, methods=["POST"]),
        Route("/refuse", refuse, methods=["GET", "POST"]),
        Route("/faults", faults, methods=["GET", "POST"]),
        Route("/fail-submissions", fail_submissions, methods=["GET", "POST"]),
        Route("/quirks", quirks, methods=["GET", "POST"]),
    ]


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


async def _body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": "bad_request", "message": message}, status_code=400)


async def state(request: Request) -> JSONResponse:
    return JSONResponse(db.state(_portal(request).conn))


async def complete(request: Request) -> JSONResponse:
    """The back end does at once everything it accepted (late-completion): a test decides
    when the portal is done, instead of waiting for it."""
    portal = _portal(request)
    done = [p.licence_ref for p in portal.pending.values()]
    portal.complete_due(everything=True)
    return JSONResponse({"ok": True, "completed": done})


async def back_end(request: Request) -> JSONResponse:
    """What the back end received and is working on: `submissions`, every « Valider »
    that reached it, with the status it answered; `pending`, what it accepted and will
    complete (the late-completion quirk), with the seconds left."""
    portal = _portal(request)
    now = portal.clock()
    return JSONResponse(
        {
            "submissions": portal.submissions,
            "pending": [
                {"licence_ref": p.licence_ref, "due_in_s": round(max(p.due - now, 0.0), 3)}
                for p in portal.pending.values()
            ],
        }
    )


async def reset(request: Request) -> JSONResponse:
    body = await _body(request)
    if body is None:
        return _bad('Attendu : {} ou {"seed": N}.')
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        return _bad("seed doit être un entier.")
    _portal(request).reset(seed)
    return JSONResponse(
        {"ok": True, "seed": seed if seed is not None else _portal(request).config.seed}
    )


async def expire_sessions(request: Request) -> JSONResponse:
    body = await _body(request)
    if body is None:
        return _bad('Attendu : {} ou {"after_requests": N}.')
    after = body.get("after_requests")
    if after is not None and (not isinstance(after, int) or isinstance(after, bool) or after < 0):
        return _bad("after_requests doit être un entier positif ou nul.")
    _portal(request).sessions.expire_all(after)
    return JSONResponse({"ok": True, "after_requests": after})


async def misreport(request: Request) -> JSONResponse:
    body = await _body(request)
    ref = body.get("licence_ref") if body else None
    number = body.get("number") if body else None
    if not isinstance(ref, str) or not isinstance(number, str):
        return _bad('Attendu : {"licence_ref": "FPC…", "number": "02…"}.')
    digits = db.digits_of(number)
    if len(digits) != 10:
        return _bad("number doit être un numéro à dix chiffres.")
    _portal(request).misreports[ref] = digits
    return JSONResponse({"ok": True, "licence_ref": ref, "number": digits})


SERVICE_STATES = (db.ACTIVE, "Suspendu", "Résilié")


async def service_state(request: Request) -> JSONResponse:
    """Set a service's state, as the operator's back office would while a person works."""
    body = await _body(request)
    ref = body.get("service_ref") if body else None
    new_state = body.get("state") if body else None
    if not isinstance(ref, str) or new_state not in SERVICE_STATES:
        return _bad(f'Attendu : {{"service_ref": "SRV-…", "state": {list(SERVICE_STATES)}}}.')
    conn = _portal(request).conn
    changed = conn.execute("UPDATE services SET state = ? WHERE ref = ?", (new_state, ref))
    conn.commit()
    if changed.rowcount == 0:
        return JSONResponse(
            {"error": "unknown_service", "message": f"Service {ref} introuvable."}, status_code=404
        )
    return JSONResponse({"ok": True, "service_ref": ref, "state": new_state})


ROLE = re.compile(r"[a-z]+")  # an ARIA role's name, e.g. "link"
DRIFT_KEYS = frozenset({"rename", "hide", "roles", "numbers", "clear"})
DRIFT_USAGE = (
    'Attendu : {"rename": {"Valider": "Confirmer", …}, "hide": ["Suivant", …], '
    '"roles": {"Mes Services": "link", …}, '
    f'"numbers": {"|".join(json.dumps(f) for f in NUMBER_FORMATS)}, '
    '"clear": true|false} (chaque clé facultative).'
)


async def drift(request: Request) -> JSONResponse:
    """GET: the current drift. POST: add renames / hidden names, set how numbers show
    (after clearing all if "clear" is true). What a person reads only: data, rules, faults
    and sessions never change."""
    current = _portal(request).drift
    if request.method == "GET":
        return JSONResponse(current.as_json())
    body = await _body(request)
    if body is None or not set(body) <= DRIFT_KEYS:
        return _bad(DRIFT_USAGE)
    renames = body.get("rename", {})
    hide = body.get("hide", [])
    clear = body.get("clear", False)
    numbers = body.get("numbers")
    roles = body.get("roles", {})
    if (
        not isinstance(renames, dict)
        or not all(isinstance(old, str) and old.strip() for old in renames)
        or not all(isinstance(new, str) for new in renames.values())
        or not isinstance(hide, list)
        or not all(isinstance(name, str) and name.strip() for name in hide)
        or not isinstance(clear, bool)
        or not (numbers is None or numbers in NUMBER_FORMATS)
        or not isinstance(roles, dict)
        or not all(isinstance(name, str) and name.strip() for name in roles)
        or not all(isinstance(role, str) and ROLE.fullmatch(role) for role in roles.values())
    ):
        return _bad(DRIFT_USAGE)
    if clear:
        current.clear()
    current.update(renames, hide, numbers, roles)
    return JSONResponse({"ok": True, **current.as_json()})


DATA_USAGE = (
    'Attendu : {"clients": {"CC-…": {"name": "…"}}, "services": {"SRV-…": {"name": "…", '
    '"site": "…"}}, "licences": {"FPC…": {"type": "…", "user_name": "…", "site": "…", '
    '"state": "…", …}}} (chaque clé facultative).'
)


def _text_problem(value: object) -> str | None:
    """Why `value` cannot be stored as a text column, or None: any text will do, as long
    as it is text SQLite can hold (a lone surrogate is not)."""
    if not isinstance(value, str):
        return "chaque valeur doit être un texte"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "chaque valeur doit être un texte Unicode valide (pas de demi-paire isolée)"
    return None


def _edits_problem(body: dict[str, Any]) -> str | None:
    """What is wrong with a POST /_test/data body (unknown kind, column or value), or None."""
    unknown = set(body) - set(db.EDITABLE)
    if unknown:
        return f"clé inconnue : {sorted(unknown)}. {DATA_USAGE}"
    for kind, rows in body.items():
        editable = db.EDITABLE[kind][1]
        if not isinstance(rows, dict) or not all(isinstance(v, dict) for v in rows.values()):
            return DATA_USAGE
        for key, values in rows.items():
            columns = set(values) - editable
            if columns:
                return (
                    f"{kind} {key} : {sorted(columns)} ne peut pas être modifié "
                    f"(modifiables : {sorted(editable)})."
                )
            problems = [_text_problem(value) for value in values.values()]
            if problem := next((p for p in problems if p), None):
                return f"{kind} {key} : {problem}."
    return None


async def edit_data(request: Request) -> JSONResponse:
    """Set text columns as a person editing the database by hand would (any text at all:
    markup, control characters, 10,000 characters…), all or nothing. The pages must show
    them as text and the JSON API carry them unchanged; a drift never renames them."""
    body = await _body(request)
    if body is None:
        return _bad(DATA_USAGE)
    problem = _edits_problem(body)
    if problem:
        return _bad(problem)
    try:
        db.edit_texts(_portal(request).conn, body)
    except db.UnknownRow as error:
        return JSONResponse({"error": "unknown_ref", "message": str(error)}, status_code=404)
    edited = {kind: len(rows) for kind, rows in body.items()}
    return JSONResponse({"ok": True, "edited": edited})


REFUSE_USAGE = 'Attendu : {"message": "…", "count": N} (count : 1 par défaut, 0 annule).'


async def refuse(request: Request) -> JSONResponse:
    """POST: the next `count` dissociation submissions are refused (409 `refused`, this
    message, nothing changed). GET: what is left of it."""
    refusal = _portal(request).refusal
    if request.method == "POST":
        body = await _body(request)
        message = body.get("message") if body else None
        count = body.get("count", 1) if body else None
        if (
            not isinstance(message, str)
            or not message.strip()
            or OPEN in message
            or CLOSE in message  # the replica's own markers (drift.py)
            or _text_problem(message)
            or not isinstance(count, int)
            or isinstance(count, bool)
            or count < 0
        ):
            return _bad(REFUSE_USAGE)
        refusal.message, refusal.count = message, count
    return JSONResponse({"message": refusal.message, "count": refusal.count})


FAIL_SUBMISSIONS_USAGE = 'Attendu : {"count": N} (N entier positif ou nul, 0 annule).'


async def fail_submissions(request: Request) -> JSONResponse:
    """POST: the next `count` dissociation submissions (« Valider ») are answered 503
    before they reach the application (nothing done, the answer lost). GET: what is left
    of it. POST /_test/reset cancels it."""
    current = _portal(request).faults
    if request.method == "POST":
        body = await _body(request)
        count = body.get("count") if body else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            return _bad(FAIL_SUBMISSIONS_USAGE)
        current.failing_submissions = count
    return JSONResponse({"count": current.failing_submissions})


def _faults_problem(body: dict[str, Any]) -> str | None:
    """What is wrong with a POST /_test/faults body, or None (its values are checked like
    the command line's flags)."""
    unknown = sorted(set(body) - set(KNOBS))
    if unknown:
        return f"réglage inconnu : {unknown} (connus : {sorted(KNOBS)})."
    for name, value in body.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            return f"{name} : un nombre est attendu."
        problem = out_of_range(KNOBS[name], value)
        if problem:
            return f"{name} : {problem}."
    return None


async def faults(request: Request) -> JSONResponse:
    """GET: every fault knob in force. POST: turn some of them, from the next request on
    (all or none), then the same answer. POST /_test/reset restores the start-up values."""
    current = _portal(request).faults
    if request.method == "POST":
        body = await _body(request)
        if body is None:
            return _bad(f"Attendu : {{réglage: valeur, …}} parmi {sorted(KNOBS)}.")
        problem = _faults_problem(body)
        if problem:
            return _bad(problem)
        current.update(body)
    return JSONResponse(asdict(current.settings))


QUIRKS_USAGE = f'Attendu : {{"quirks": [...]}} parmi {list(KNOWN)}.'


async def quirks(request: Request) -> JSONResponse:
    """GET: the quirks in force. POST: replace them all (from the next page load on)."""
    portal = _portal(request)
    if request.method == "GET":
        return JSONResponse({"quirks": portal.quirks.names()})
    body = await _body(request)
    names = body.get("quirks") if body is not None else None
    if (
        body is None
        or set(body) != {"quirks"}
        or not isinstance(names, list)
        or not all(isinstance(name, str) for name in names)
    ):
        return _bad(QUIRKS_USAGE)
    try:
        portal.set_quirks(Quirks.parse(names))
    except UnknownQuirk as error:
        return _bad(str(error))
    return JSONResponse({"ok": True, "quirks": portal.quirks.names()})
