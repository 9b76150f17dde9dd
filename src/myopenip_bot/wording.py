"""What a person reads about outcomes and errors, in their language.

The library (myopenip_bot) words its reasons and errors in English, and those words are
machine outputs too (JSON, CSV, the journal, the ledger): they never change with the
language. The screen and the report show them through here: the outcome words, the
reasons the bot often gives (matched whole, the portal's own texts kept as they are; a
reason not known here is shown as written), and an error as what happened, whether
anything changed and what to do next.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from myopenip_bot.errors import UsageError
from myopenip_bot.i18n import N_, _, language, ngettext
from myopenip_bot.models import ErrorKind, Outcome
from myopenip_bot.text import shorten

__all__ = [
    "CHECK_STATUSES",
    "OUTCOMES",
    "SCREENS",
    "check_evidence",
    "check_status",
    "check_text",
    "error_lines",
    "outcome_count",
    "outcome_label",
    "outcome_word",
    "reason_text",
    "screen_name",
    "step_text",
    "typography",
    "usage_error",
    "why_text",
]

# The outcome words a person reads (JSON and CSV keep the codes: done, already_done, …).
OUTCOMES: dict[str, str] = {
    Outcome.DONE.value: N_("dissociated"),
    Outcome.ALREADY_DONE.value: N_("already without number"),
    Outcome.WOULD_DO.value: N_("would be dissociated"),
    Outcome.REFUSED.value: N_("refused"),
    Outcome.NOT_CONFIRMED.value: N_("not confirmed"),
    Outcome.SKIPPED.value: N_("not attempted"),
    Outcome.FAILED.value: N_("failed"),
    Outcome.UNKNOWN.value: N_("unknown: rerun to settle"),
    Outcome.IN_PROGRESS.value: N_("in progress"),
    # a batch row's stages, before its outcome
    "pending": N_("pending"),
    "planned": N_("planned"),
    "submitting": N_("being sent"),
}


def outcome_word(code: object) -> str:
    """The outcome `code` (an Outcome or its value) as a person reads it."""
    value = code.value if isinstance(code, Outcome) else str(code)
    return _(OUTCOMES[value]) if value in OUTCOMES else value.replace("_", " ")


def outcome_count(code: object, count: int) -> str:
    """The words after a count of rows with outcome `code` ("2 seraient dissociés")."""
    value = code.value if isinstance(code, Outcome) else str(code)
    plurals = {
        Outcome.DONE.value: ngettext("dissociated", "dissociated", count),
        Outcome.WOULD_DO.value: ngettext("would be dissociated", "would be dissociated", count),
        Outcome.REFUSED.value: ngettext("refused", "refused", count),
        Outcome.NOT_CONFIRMED.value: ngettext("not confirmed", "not confirmed", count),
        Outcome.SKIPPED.value: ngettext("not attempted", "not attempted", count),
        Outcome.UNKNOWN.value: ngettext(
            "unknown: rerun to settle", "unknown: rerun to settle", count
        ),
        Outcome.FAILED.value: ngettext("failed", "failed", count),
    }
    return plurals.get(value) or outcome_word(code)


def outcome_label(outcome: Outcome) -> str:
    return outcome_word(outcome)


def usage_error(message: str, **values: object) -> UsageError:
    """A UsageError worded `message % values` in English (its JSON and logs), shown in the
    person's language (`shown`, read by error_lines)."""
    error = UsageError(message % values if values else message)
    error.shown = (_(message) % values) if values else _(message)  # type: ignore[attr-defined]
    return error


# -- the library's reasons, in French -------------------------------------------------
# English reason (whole, a regular expression) → French; {1}, {2}… are its groups, kept as
# written (refs, numbers, the portal's words). Only what a person often reads; anything
# else is shown in English, as written.
def typography(text: str) -> str:
    """French typography: a non-breaking space before « : ; ! ? » and inside « »."""
    text = re.sub(r" ([:;!?])(?=\s|$)", "\u00a0\\1", text)
    return text.replace("« ", "«\u00a0").replace(" »", "\u00a0»")


_FRENCH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), typography(french))
    for pattern, french in (
        (r"not attempted: see the error below", "non tenté : voir l'erreur ci-dessous"),
        (r"not attempted: (.+)", "non tenté : {r1}"),
        (
            r"the service (\S+) is « (.+?) »: only a service « Actif » can have its numbers "
            r"dissociated",
            "le service {1} est « {2} » : seuls les numéros d'un service « Actif » peuvent "
            "être dissociés",
        ),
        (
            r"not confirmed: Annuler clicked, nothing changed",
            "non confirmé : « Annuler » cliqué, rien n'a été modifié",
        ),
        (
            r"confirmed: Annuler clicked(.*)",
            "confirmé : « Annuler » cliqué (simulation){1}",
        ),
        (
            r"dry run: the dialog listed it; Annuler",
            "simulation : la fenêtre la listait ; « Annuler » cliqué",
        ),
        (
            r"not confirmed at the prompt: not read, nothing was done",
            "non confirmé à la question : non lu, rien n'a été fait",
        ),
        (
            r"not reached: the run was interrupted by (\S+)",
            "non atteint : exécution interrompue par {1}",
        ),
        (r"not reached: the run stopped \((.+)\)", "non atteint : l'exécution s'est arrêtée ({1})"),
        (
            r"stopped, the journal is ready: run the same command again to resume",
            "arrêté, le journal est prêt : relancez la même commande pour reprendre",
        ),
        (r"nothing to do", "rien à faire"),
        (r"interrupted by (\S+)", "interrompu par {1}"),
        (r"(\S+) has no number: nothing to do", "{1} est déjà sans numéro : rien à faire"),
        (
            r"(\S+) has no number: (.+?) (dissociated|accepted for dissociation)( from \S+)? "
            r"on (\S+ \S+)( by .+?)?( \(ticket .+\))?; nothing to do",
            "{1} est déjà sans numéro : {r2} {r3}{r4} le {5}{r6}{7} ; rien à faire",
        ),
        (r"its number", "son numéro"),
        (r"dissociated", "dissocié"),
        (r"accepted for dissociation", "accepté pour dissociation"),
        (r" from (\S+)", " de {1}"),
        (r" by (.+)", " par {1}"),
        (
            r"(\S+)'s number is ([0-9 ]+), not ([0-9 ]+): refused",
            "le numéro de {1} est le {2}, pas le {3} : refusé",
        ),
        (
            r"(\d+) of (\d+) licence\(s\) refused when planning \((.+)\): nothing was done"
            r"( \(--skip-refused acts on the others\))?",
            "{1} licence(s) sur {2} refusée(s) à la préparation ({3}) : rien n'a été fait{r4}",
        ),
        (r" \(--skip-refused acts on the others\)", " (--skip-refused agit sur les autres)"),
        # find's refusals (the client or the ref given)
        (
            r"no client (.+) in the services list; did you mean (.+)\?",
            "aucun client {1} dans la liste des services ; vouliez-vous dire {r2} ?",
        ),
        (r"no client (.+) in the services list", "aucun client {1} dans la liste des services"),
        (r"(.+?) \((CC-\S+)\) or (.+)", "{1} ({2}) ou {r3}"),
        (r"(.+?) \((CC-\S+)\)", "{1} ({2})"),
        (r"no service with the ref (.+)", "aucun service de référence {1}"),
        (
            r"(.+) names (\d+) clients: (.+); give the name in full or the « Compte client »",
            "{1} désigne {2} clients : {3} ; donnez le nom complet ou le « Compte client »",
        ),
        (
            r"the client (.+?) \(([^()]*)\) has no (.+) service « (.+) » \(its services: (.+)\)",
            "le client {1} ({2}) n'a aucun service {3} « {4} » (ses services : {5})",
        ),
        (r"the client (.+?) \(([^()]*)\): (.+): refused", "le client {1} ({2}) : {r3} : refusé"),
        (
            r"(.+?): the portal answered HTTP (\d+)(.*)",
            "{s1} : le portail a répondu HTTP {2}{r3}",
        ),
        (r" \(its error page\)", " (sa page d'erreur)"),
        # a batch file's problems, line by line (see reason_text)
        (
            r"(.+): ([\d,]+) problems?, nothing was done:",
            "{1} : {2} problème(s), rien n'a été fait :",
        ),
        (r"([\d,]+) problems?, nothing was done:", "{1} problème(s), rien n'a été fait :"),
        (r"line (\d+), column (\S+): (.*)", "ligne {1}, colonne {2} : {r3}"),
        (r"line (\d+): (.*)", "ligne {1} : {r2}"),
        (r"column (\S+): (.*)", "colonne {1} : {r2}"),
        (
            r"(.*) is not a French ten-digit number",
            "{1} n'est pas un numéro français à dix chiffres",
        ),
        (r"… and ([\d,]+) more problems?", "… et {1} autre(s) problème(s)"),
        (r"hint: (.+)", "conseil : {1}"),
        (
            r"(\S+) has no number any more: the earlier « Valider » took effect",
            "{1} est désormais sans numéro : le « Valider » précédent a abouti",
        ),
        (r"no licence (\S+) in the service (\S+)(.*)", "aucune licence {1} dans le service {2}{3}"),
        (r"no licence (\S+) in (\S+)", "aucune licence {1} dans {2}"),
        (
            r"no licence of (\S+) holds ([0-9 ]+): (.+)",
            "aucune licence de {1} ne porte le numéro {2} : {3}",
        ),
        (r"service (\S+) not found(.*)", "service {1} introuvable{2}"),
        (
            r"(\S+) has no number: give a --licence that has one",
            "{1} n'a pas de numéro : donnez une --licence qui en a un",
        ),
        # the ledger's (history, numbers, and a run that records), its path and the
        # database's own words kept as written
        (
            r"the ledger (.+) does not exist: nothing was ever recorded there \(a path "
            r"mistyped in MYOPENIP_LEDGER\?\)",
            "le registre {1} n'existe pas : rien n'y a jamais été enregistré (un chemin mal "
            "saisi dans MYOPENIP_LEDGER\u00a0?)",
        ),
        (
            r"the database (.+) holds no myopenip ledger yet: nothing was ever recorded there "
            r"\(a database mistyped in MYOPENIP_LEDGER\?\)",
            "la base {1} ne contient pas encore de registre myopenip : rien n'y a jamais été "
            "enregistré (une base mal saisie dans MYOPENIP_LEDGER\u00a0?)",
        ),
        (
            r"(.+) is an empty file, not a myopenip ledger: not touched",
            "{1} est un fichier vide, pas un registre myopenip : laissé tel quel",
        ),
        (
            r"(.+) is not a myopenip ledger: not touched \(MYOPENIP_LEDGER\)",
            "{1} n'est pas un registre myopenip : laissé tel quel (MYOPENIP_LEDGER)",
        ),
        (r"the ledger (.+) cannot be opened \((.*)\)", "le registre {1} ne s'ouvre pas ({2})"),
        (r"the ledger (.+) could not be read \((.*)\)", "le registre {1} n'a pas pu être lu ({2})"),
        (
            r"the ledger (.+) could not lock the service (\S+) \((.*)\)",
            "le registre {1} n'a pas pu verrouiller le service {2} ({3})",
        ),
        (
            r"the ledger (.+) has schema (\d+), newer than this myopenip knows \((\d+)\): "
            r"update myopenip; nothing was written",
            "le registre {1} est au schéma {2}, plus récent que ce que connaît ce myopenip "
            "({3}) : mettez myopenip à jour ; rien n'a été écrit",
        ),
        (
            r"MYOPENIP_LEDGER names a PostgreSQL database but psycopg is not installed "
            r"\(pip install 'psycopg\[binary\]'\)",
            "MYOPENIP_LEDGER désigne une base PostgreSQL, mais psycopg n'est pas installé "
            "(pip install 'psycopg[binary]')",
        ),
    )
)


def reason_text(text: str | None) -> str:
    """A reason of the library as a person reads it (French when known and chosen). In a
    pattern's French, {rN} is group N read as a reason itself, {sN} as a step; a text of
    several lines (a batch file's problems) is read line by line, its indent kept."""
    if not text or language() != "fr":
        return text or ""
    if "\n" in text:
        return "\n".join(_indented(reason_text, line) for line in text.split("\n"))
    for pattern, french in _FRENCH:
        match = pattern.fullmatch(text)
        if match is not None:
            groups = [group or "" for group in match.groups()]
            inner: dict[str, str] = {}
            for i, group in enumerate(groups, start=1):
                if f"{{r{i}}}" in french:
                    inner[f"r{i}"] = reason_text(group) if group else ""
                if f"{{s{i}}}" in french:
                    inner[f"s{i}"] = step_text(group)
            return french.format("", *groups, **inner)
    return text


def why_text(reason: str | None, outcome: object) -> str:
    """A row's reason as a person reads it: a reason that is only its outcome's code (a
    batch row done without a word from the bot: "done") is the outcome's word."""
    value = outcome.value if isinstance(outcome, Outcome) else str(outcome or "")
    if reason and reason == value:
        return outcome_word(value)
    return reason_text(reason)


def _indented(read: Callable[[str], str], line: str) -> str:
    body = line.lstrip(" ")
    return line[: len(line) - len(body)] + read(body) if body else line


# The library's steps (the spinner's line), in French: "finding the service SRV-10021".
_STEPS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), typography(french))
    for pattern, french in (
        (r"starting", "démarrage"),
        (r"opening the portal", "ouverture du portail"),
        (r"opening the login page", "ouverture de la page de connexion"),
        (r"logging in", "connexion"),
        (r"opening the services list", "ouverture de la liste des services"),
        (r"listing the services", "lecture de la liste des services"),
        (r"searching the services", "recherche dans les services"),
        (r"finding the service (.+)", "recherche du service {1}"),
        (r"opening the service (.+)", "ouverture du service {1}"),
        (r"opening the tab (.+)", "ouverture de l'onglet {1}"),
        (r"listing every licence in (.+)", "lecture de toutes les licences de {1}"),
        (r"listing the licences of (\S+) in (.+)", "lecture des licences de {1} dans {2}"),
        (r"listing the licences (.+) in (.+)", "recherche des licences {1} dans {2}"),
        (r"finding the pages of the licences in (.+)", "recherche des pages des licences dans {1}"),
        (r"searching (.+) in (.+)", "recherche de {1} dans {2}"),
        (r"finding (.+)", "recherche de {1}"),
        (r"looking for (.+) in (.+)", "recherche de {1} dans {2}"),
        (r"preparing the dissociation in (.+)", "préparation de la dissociation dans {1}"),
        (
            r"opening the dissociation dialog in (.+)",
            "ouverture de la fenêtre de dissociation dans {1}",
        ),
        (r"submitting", "envoi"),
        (r"reading the answer to « Valider »", "lecture de la réponse à « Valider »"),
        (r"reading the refreshed results in (.+)", "relecture des résultats dans {1}"),
        (r"reading the refreshed results", "relecture des résultats"),
        (
            r"waiting for the portal to show the dissociation in (.+)",
            "attente de la dissociation affichée par le portail dans {1}",
        ),
        (r"verifying in (.+)", "vérification dans {1}"),
        (r"reading (\S+) again", "relecture de {1}"),
        (r"«\s*Valider\s*»", "« Valider »"),
    )
)


def step_text(step: str) -> str:
    """A step of the library ("finding the service SRV-10021") as a person reads it."""
    if language() != "fr":
        return step
    step = _COUNTED.sub(r"(\1 sur \2)", step)  # find's "SRV-10021 (1 of 4)"
    for pattern, french in _STEPS:
        match = pattern.fullmatch(step)
        if match is not None:
            return french.format("", *(group or "" for group in match.groups()))
    return step


_COUNTED = re.compile(r"\((\d+) of (\d+)\)")


# -- errors -----------------------------------------------------------------------------

_WHAT: dict[ErrorKind, str] = {
    # a business refusal is the bot's: what it read does not allow the request
    ErrorKind.BUSINESS: N_("Request refused: %(error)s"),
    ErrorKind.TECHNICAL: N_("The portal did not answer properly: %(error)s"),
    ErrorKind.USAGE: N_("Cannot run this: %(error)s"),
    ErrorKind.AUTHENTICATION: N_("The portal refused the login: %(error)s"),
    ErrorKind.DRIFT: N_("The portal does not show what the bot expects: %(error)s"),
}
_NEXT: dict[ErrorKind, str] = {
    ErrorKind.BUSINESS: N_(
        "Check the service, the licences and the numbers given (`myopenip find` shows "
        "them), then run the command again."
    ),
    ErrorKind.TECHNICAL: N_(
        "Run the same command again later: it reads the portal first and never does "
        "anything twice. If it goes on, call the portal's support."
    ),
    ErrorKind.USAGE: N_("Correct it, then run the command again."),
    ErrorKind.AUTHENTICATION: N_(
        "Check MYOPENIP_USERNAME and MYOPENIP_PASSWORD, then run again (with --retry-login "
        "once the password is fixed)."
    ),
}


_NEXT_LOOKUP = N_("Check the service ref or the client's name given, then run it again.")


def error_lines(
    error: BaseException | str,
    kind: ErrorKind | None,
    *,
    changed: bool | None,
    hint: Callable[[], str] | None = None,
    lookup: bool = False,
) -> list[str]:
    """An error as a person reads it (plain text, not markup): what happened, whether
    anything changed (`changed`: False "nothing was changed", True "some was: see
    above", None: not said; not said twice when the error says "nothing was done"), then
    what to do next (a drift: `hint`; `lookup`: `myopenip find` itself, which is not
    sent to `myopenip find`)."""
    shown = getattr(error, "shown", None)
    message = shown if isinstance(shown, str) else reason_text(str(error))
    kind = kind or ErrorKind.TECHNICAL
    if message and message[-1] not in ".!?:»":
        message += "."  # the next sentence follows on the same line
    lines = [_(_WHAT[kind]) % {"error": message}]
    if changed is False and "nothing was done" not in str(error):
        lines.append(_("Nothing was changed on the portal."))
    elif changed:
        lines.append(_("Some licences were changed before it stopped: the table above says which."))
    if kind is ErrorKind.DRIFT:
        if hint is not None:
            lines.append(hint())
    elif lookup and kind is ErrorKind.BUSINESS:
        lines.append(_(_NEXT_LOOKUP))
    else:
        lines.append(_(_NEXT[kind]))
    return lines


# -- the smoke's checks -------------------------------------------------------------------
# The check ids, screens, keys and statuses are machine outputs (smoke.json, the JUnit
# cases' names, pytest's ids); a person reads the table's words and the messages.

CHECK_STATUSES: dict[str, str] = {
    "passed": N_("passed"),
    "failed": N_("failed"),
    "error": N_("error"),
    "skipped": N_("skipped"),
}

SCREENS: dict[str, str] = {
    "Login": N_("Login"),
    "Navigation": N_("Navigation"),
    "Service settings": N_("Service settings"),
    "Dissociation dialog": N_("Dissociation dialog"),
    "After Annuler": N_("After « Annuler »"),
    "Read-only guard": N_("Read-only guard"),
}


def check_status(status: object) -> str:
    """A check's status (passed, failed, error, skipped) as a person reads it."""
    value = str(getattr(status, "value", status))
    return _(CHECK_STATUSES[value]) if value in CHECK_STATUSES else value


def screen_name(screen: str) -> str:
    """A screen of the smoke as a person reads it (the portal's own titles kept)."""
    if screen in SCREENS:
        return _(SCREENS[screen])
    tab = re.fullmatch(r"(\S+) tab", screen)  # "Utilisateurs tab": the portal's tab
    return _("%(tab)s tab") % {"tab": tab[1]} if tab else screen


# What a check that passed or was skipped says, whole, when it is always the same words
# (a check's `what` is marked in myopenip_bot/smoke/checks.py).
CHECK_MESSAGES = (
    N_("logged in"),
    N_("selected"),
    N_("disabled"),
    N_("preselected"),
    N_("closed"),
    N_("unticked; Actions disabled"),
    N_("the services list has one page here"),
    N_("no hint given: any ref is looked up on the portal"),
    N_("no hint given: the bot's own records keep what the portal accepted"),
    N_("no hint given: a licence's options are then not shown"),
    N_("no licence page to read (a hint only)"),
    N_("no licence without a number on that results page to tick"),
    N_("a hint: the smoke never needs it"),
    N_("shown only on a technical error"),
    N_("shown only when the portal refuses « Valider »"),
    N_("shown only after « Valider »"),
    N_(
        "shown only when the portal refuses a login; the smoke never sends a wrong password "
        "(it would count towards a lock-out)"
    ),
    N_("zero rows; the hint sentence shows"),
    N_("zero rows; the hint sentence does not show (fine)"),
)


_CHECKS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), typography(french))
    for pattern, french in (
        (r"not run", "non exécutée"),
        (r"not run: not selected", "non exécutée : non sélectionnée"),
        (r"not run: interrupted by (\S+)", "non exécutée : interrompue par {1}"),
        (r"not run: (.+) failed", "non exécutée : la vérification {1} a échoué"),
        (r"not run: (.+) could not run", "non exécutée : la vérification {1} n'a pas pu se faire"),
        (r"not run: (.+)", "non exécutée : {r1}"),
        (r"(\S+): could not run: (.+)", "{1} : vérification impossible : {r2}"),
        (r"(\S+): none", "{1} : aucune"),
        (r"(\d+) filters", "{1} filtres"),
        (r"(\d+) columns", "{1} colonnes"),
        (r"(\d+) found", "{1} trouvé(s)"),
        (r"(\d+) rows, one checkbox each", "{1} lignes, une case à cocher chacune"),
        (r"(\d+) rows read", "{1} lignes lues"),
        (r"page 2 reached: (\d+) other rows", "page 2 atteinte : {1} autres lignes"),
        (r"(\d+) paragraphs", "{1} paragraphes"),
        (r"(\d+) paragraphs word for word", "{1} paragraphes, mot pour mot"),
        (r"(\d+) named", "{1} nommée(s)"),
        (r"(\S+) is « (.+) »", "{1} est « {2} »"),
        (r"(\S+) reads « (.+) »", "{1} indique « {2} »"),
        (r"(\S+) reads as (.+)", "{1} correspond à {2}"),
        (r"opened (\S+)", "{1} ouvert"),
        (r"(\S+) in (\S+), number (.+)", "{1} dans l'onglet {2}, numéro {3}"),
        (r"found typed as (.+)", "trouvée en tapant {1}"),
        (r"ticked (.+)", "cochée(s) : {1}"),
        (r'the tab "(\S+)", selected by a click', "l'onglet « {1} », sélectionné par un clic"),
        (
            r"the tab (\S+) has one page of results here",
            "l'onglet {1} n'a qu'une page de résultats ici",
        ),
        (r"the tab (\S+) lists no licence here", "l'onglet {1} ne liste aucune licence ici"),
        (
            r"no licence listed here reads « (.+) » \(only while the portal works on a "
            r"dissociation it accepted; a hint: the bot's own records say the same\)",
            "aucune licence listée ici n'indique « {1} » (seulement pendant que le portail traite "
            "une dissociation acceptée ; une simple aide : le registre du bot le dit aussi)",
        ),
        # the read-only guard's proof: its parts, joined by "; " (see check_text)
        (r"« Valider » never clicked", "« Valider » jamais cliqué"),
        (
            r"(\d+) requests that are not GETs, each sent by a read the walk announced "
            r"\(e\.g\. (.+)\)",
            "{1} requête(s) autre(s) que GET, chacune envoyée par une lecture annoncée par le "
            "parcours (par exemple {2})",
        ),
        (r"only GET requests", "uniquement des requêtes GET"),
        (r"none other", "aucune autre"),
        (
            r"(\S+) still lists (.+) after « Annuler » \(read again\)",
            "{1} affiche toujours {2} après « Annuler » (relu)",
        ),
        (r"(\S+) could not be read again \((.+)\)", "{1} n'a pas pu être relue ({2})"),
    )
)


def check_text(message: str | None) -> str:
    """A smoke check's message as a person reads it: the frames the walk puts around a
    reason in French (the reason itself through reason_text; the portal's words, the
    keys and what a drift found kept as written)."""
    if not message or language() != "fr":
        return message or ""
    translated = _(message)
    if translated != message:  # a check's `what`, or words always the same
        return translated
    if message.startswith("« Valider » never clicked; "):  # the guard's proof, part by part
        return typography(" ; ").join(check_text(part) for part in message.split("; "))
    for pattern, french in _CHECKS:
        match = pattern.fullmatch(message)
        if match is not None:
            groups = [group or "" for group in match.groups()]
            inner = {f"r{i}": reason_text(group) for i, group in enumerate(groups, start=1)}
            return french.format("", *groups, **inner)
    return typography(message)  # as written, « » kept together with its words


def check_evidence(candidates: str | None, screenshot: str | None) -> list[str]:
    """The lines of a failed check's evidence: the closest controls on its screen (`role
    "name"`, the best first), its screenshot's path."""
    lines = []
    if candidates:
        lines.append(
            _("Closest on the screen, the best first: %(controls)s") % {"controls": candidates}
        )
    if screenshot:
        lines.append(_("Screenshot: %(path)s") % {"path": screenshot})
    return lines


# -- events on a person's console ---------------------------------------------------------

_NOT_FOR_A_PERSON = ("event", "level", "timestamp")


def event_text(event: Mapping[str, Any]) -> str:
    """A warning or an error on a person's console (config.logs): one plain line in their
    language, no timestamp nor padding; a retry of a read says what failed and which
    attempt this is. What the portal said in it is data: control characters written
    out, a long text shortened (the events file keeps it whole)."""
    return shorten(_event_line(event), EVENT_TEXT)


EVENT_TEXT = 1_000


def _event_line(event: Mapping[str, Any]) -> str:
    name = str(event.get("event", ""))
    if name == "read_again":
        return _(
            "The portal failed while %(step)s (%(error)s): trying again (%(attempt)s of "
            "%(attempts)s)."
        ) % {
            "step": step_text(str(event.get("step", ""))),
            "error": reason_text(str(event.get("error", ""))),
            "attempt": event.get("attempt", "?"),
            "attempts": event.get("attempts", "?"),
        }
    word = _("Error") if event.get("level") in ("error", "critical") else _("Warning")
    details = "; ".join(
        f"{key}: {value}" for key, value in event.items() if key not in _NOT_FOR_A_PERSON
    )
    said = f"{word}: {name.replace('_', ' ')}"
    return f"{said} ({details})" if details else said
