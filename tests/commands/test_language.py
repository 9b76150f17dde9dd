"""French for French users: real processes, under a French locale (LANG=fr_FR.UTF-8) or
MYOPENIP_LANG, against the replica; the help, a dry run, a refusal, the confirmation
(declined with « non », accepted with « oui ») and a batch's report.html in French, the
same in English with MYOPENIP_LANG=en, --json the same in both; the tables read at 80
and 120 columns without a word cut."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import forked
import pytest
from batch_support import BatchCli, rows_for, write_rows
from cli_support import Cli
from e2e_support import licence, number_state
from terminal_support import PROMPT_HINT, Terminal

from myopenip.replica import Replica

NBSP = "\u00a0"
FRENCH_PROMPT = f"[o/oui = oui, n/non = non{NBSP}; Entrée = non]"
# One licence in each tab of SRV-10021 (both numbered), as the edge tests use.
TWO_TABS = ("--licence", "FPC367128", "--licence", "FPC367131")
NUMBERS = ("0231456789", "0231456701")
# English words no French screen shows (the portal's and the bot's own names aside).
ENGLISH = (
    "would be dissociated",
    "Outcome",
    "Number",
    "nothing changed",
    "Error",
    "the portal",
    "Opening",
    "Finding",
    "Listing",
    "Preparing",
    "dry run",
)


def french(cli: Cli | BatchCli) -> Cli | BatchCli:
    """`cli` under a French locale and no MYOPENIP_LANG: the language from LANG alone."""
    cli.cwd.mkdir(parents=True, exist_ok=True)
    for name in ("MYOPENIP_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        cli.env.pop(name, None)
    cli.env["LANG"] = "fr_FR.UTF-8"
    return cli


def english_under_french(cli: Cli | BatchCli) -> Cli | BatchCli:
    """A French locale, and MYOPENIP_LANG=en: English."""
    french(cli).env["MYOPENIP_LANG"] = "en"
    return cli


def words(text: str) -> set[str]:
    """The words of a screen, table borders and punctuation aside."""
    return set(re.findall(r"[\w'’-]+", text.replace(NBSP, " ")))


def assert_whole(screen: str, *texts: str) -> None:
    """Every word of `texts` shows whole on `screen`: none cut inside a table."""
    shown = words(screen)
    missing = sorted(w for text in texts for w in words(text) if w not in shown)
    assert not missing, f"cut or missing: {missing}\n{screen}"


# -- the help ---------------------------------------------------------------------------


def run(cli: Cli | BatchCli, *argv: str) -> subprocess.CompletedProcess[str]:
    return forked.run(
        [sys.executable, "-m", "myopenip", *argv],
        cwd=cli.cwd,
        env=dict(cli.env, COLUMNS="80"),
        timeout=120,
    )


@pytest.mark.parametrize(
    "command", [(), ("dissociate",), ("batch",)], ids=["myopenip", "dissociate", "batch"]
)
def test_the_help_is_french_under_a_french_locale_and_english_with_myopenip_lang_en(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    fr = run(french(Cli(tmp_path, None)), *command, "--help")
    en = run(english_under_french(Cli(tmp_path, None)), *command, "--help")

    assert fr.returncode == en.returncode == 0, fr.stderr + en.stderr
    assert fr.stdout.startswith(f"usage{NBSP}: myopenip")
    assert f"options{NBSP}:" in fr.stdout
    assert "afficher cette aide et quitter" in fr.stdout  # argparse's own words
    assert "show this help message" not in fr.stdout
    assert en.stdout.startswith("usage: myopenip")
    assert "show this help message and exit" in en.stdout
    if command:
        assert f"codes de sortie (le premier qui s'applique, dans cet ordre){NBSP}:" in fr.stdout
        assert "exit codes (the first that applies" in en.stdout
    if command == ("dissociate",):
        assert "ouvrir la fenêtre, la vérifier, puis «" in fr.stdout
        assert "--release-number" in fr.stdout  # options keep their names
    if command == ("batch",):
        assert "navigateurs en parallèle (1 à 16)" in fr.stdout


def test_an_unknown_myopenip_lang_warns_once_in_english_and_runs_in_english(
    tmp_path: Path,
) -> None:
    cli = french(Cli(tmp_path, None))
    cli.env["MYOPENIP_LANG"] = "de"
    shown = run(cli, "dissociate", "--service", "SRV-10021")

    assert shown.returncode == 2  # argparse's error, in English: not a crash
    assert shown.stderr.count("MYOPENIP_LANG='de'") == 1
    assert "English is used" in shown.stderr
    assert "one of the arguments --keep-number --release-number is required" in shown.stderr


@pytest.mark.parametrize(
    ("command", "french_words"),
    [
        ("smoke", "Parcourt les écrans du guide utilisateur"),
        ("history", "Ce que le bot a fait, d'après le registre"),
        ("numbers", "La liste de la facturation, d'après le registre"),
        ("demo", "Lance la réplique sur un port libre"),
        ("portal", "adresse d'écoute"),
    ],
)
def test_the_help_of_the_other_commands_is_french_too(
    tmp_path: Path, command: str, french_words: str
) -> None:
    fr = run(french(Cli(tmp_path, None)), command, "--help")
    en = run(english_under_french(Cli(tmp_path, None)), command, "--help")

    assert fr.returncode == en.returncode == 0, fr.stderr + en.stderr
    assert fr.stdout.startswith(f"usage{NBSP}: myopenip {command}")
    assert "afficher cette aide et quitter" in fr.stdout
    assert french_words in " ".join(fr.stdout.split())
    assert not {"the", "of", "show"} & words(fr.stdout), fr.stdout
    assert en.stdout.startswith(f"usage: myopenip {command}")
    assert "show this help message and exit" in en.stdout


def test_argparse_errors_are_french_and_said_once(tmp_path: Path) -> None:
    fr = run(french(BatchCli(tmp_path, None)), "batch", "--workers", "40", "rows.csv")
    missing = run(french(Cli(tmp_path, None)), "dissociate", "--service", "SRV-10021")

    assert fr.returncode == missing.returncode == 2
    assert f"myopenip batch{NBSP}: erreur{NBSP}: argument --workers{NBSP}: 16 au plus" in fr.stderr
    assert fr.stderr.count("erreur") == 1
    assert "l'un des arguments --keep-number --release-number est obligatoire" in missing.stderr


def test_a_usage_error_of_the_bot_is_french_on_screen_and_english_in_the_json(
    tmp_path: Path,
) -> None:
    cli = french(Cli(tmp_path, None))
    shown = forked.run(
        cli.argv("--release-number", "--number", "12"), cwd=cli.cwd, env=cli.env, timeout=180
    )
    as_json = forked.run(
        cli.argv("--release-number", "--number", "12", "--json"),
        cwd=cli.cwd,
        env=cli.env,
        timeout=180,
    )

    assert shown.returncode == as_json.returncode == 2
    screen = " ".join((shown.stdout + shown.stderr).split())  # every blank as one space
    assert "ce n'est pas un numéro français à dix chiffres" in screen
    assert screen.count("ce n'est pas un numéro français") == 1  # said once
    assert "Rien n'a été modifié sur le portail." in screen
    assert "Corrigez, puis relancez la commande." in screen
    error = json.loads(as_json.stdout)["error"]
    assert error["message"] == (
        "--number '12': not a French ten-digit number "
        "(0231456789, 02 31 45 67 89 or +33 2 31 45 67 89)"
    )


# -- a dry run, its table at 80 and 120 columns -------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.cells("lang", "columns")
@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_dry_run_reads_in_the_language_and_its_table_cuts_no_word(
    replica: Replica, tmp_path: Path, lang: str, columns: int
) -> None:
    state = replica.state()
    chosen = french if lang == "fr" else english_under_french
    cli = chosen(Cli(tmp_path, replica))
    terminal = Terminal(cli, *TWO_TABS, "--release-number", "--dry-run", columns=columns)

    assert terminal.wait() == 0, terminal.screen
    screen = terminal.screen
    assert "Traceback" not in screen
    details = [licence(state, ref) for ref in ("FPC367128", "FPC367131")]
    options = [option for d in details for option in d["options"]]
    if lang == "fr":
        # (flat: every blank as one space, the non-breaking ones too)
        assert (
            "simulation, rien n'a été modifié ; « Conserver le numéro » = Non (quarantaine)"
            in terminal.flat
        )
        assert f"«{NBSP}Conserver le numéro{NBSP}»" in screen  # French typography
        assert_whole(
            screen,
            "Licence Numéro Résultat serait dissocié Onglet Utilisateurs Groupements",
            "simulation : la fenêtre la listait ; « Annuler » cliqué",
            "supprimée avec le numéro reste sur la licence",
            *options,
        )
        for english in ENGLISH:
            assert english not in screen, english
    else:
        assert "dry run, nothing changed" in terminal.flat  # the title wraps at words
        assert_whole(
            screen,
            "Licence Number Outcome would be dissociated Tab Utilisateurs",
            "dry run: the dialog listed it; Annuler",
            "ended with the number stays with the licence",
            *options,
        )
    assert replica.state() == state


@pytest.mark.browser
@pytest.mark.slow
def test_json_is_the_same_in_both_languages(replica: Replica, tmp_path: Path) -> None:
    def document(cli: Cli | BatchCli) -> dict[str, Any]:
        argv = cli.argv(*TWO_TABS, "--keep-number", "--dry-run", "--json")
        done = forked.run(argv, cwd=cli.cwd, env=cli.env, timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        payload: dict[str, Any] = json.loads(done.stdout)
        payload.pop("run_dir")  # a folder per run
        return payload

    fr = document(french(Cli(tmp_path / "fr", replica)))
    en = document(english_under_french(Cli(tmp_path / "en", replica)))

    assert fr == en
    assert [row["outcome"] for row in fr["results"]] == ["would_do", "would_do"]


# -- a refusal, said once -----------------------------------------------------------------


class Suspended(Cli):
    """`myopenip dissociate --service SRV-10024` (« Suspendu »)."""

    def argv(self, *args: str, service: str = "SRV-10024", client: str | None = None) -> list[str]:
        return super().argv(*args, service=service, client=client)


@pytest.mark.browser
@pytest.mark.slow
def test_a_refusal_is_french_said_once_and_says_what_to_do(
    replica: Replica, tmp_path: Path
) -> None:
    state = replica.state()
    (suspended,) = [
        lic["ref"] for lic in state["licences"] if lic["service_ref"] == "SRV-10024" and lic["sda"]
    ][:1]
    terminal = Terminal(
        french(Suspended(tmp_path, replica)),
        "--licence",
        suspended,
        "--release-number",
        "--dry-run",
    )

    assert terminal.wait() == 1, terminal.screen
    flat = terminal.flat
    assert "Demande refusée : le service SRV-10024 est « Suspendu »" in flat
    assert flat.count("seuls les numéros d'un service") == 1  # once, whole
    assert "non tenté : voir l'erreur ci-dessous" in flat
    assert "Rien n'a été modifié sur le portail." in flat
    assert "Vérifiez le service, les licences et les numéros donnés" in flat
    assert "Error" not in terminal.screen
    assert replica.state() == state


# -- the confirmation ---------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_non_at_the_french_prompt_changes_nothing_and_oui_dissociates(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    declined = Terminal(french(Cli(tmp_path / "non", replica)), *TWO_TABS, "--release-number")
    declined.expect(FRENCH_PROMPT)
    asked = declined.flat
    declined.type(b"non\r")

    assert declined.wait() == 4, declined.screen
    assert "Cliquer sur « Valider » pour ces 2 numéros ? C'est irréversible." in asked
    assert "L'avertissement du portail" in asked
    assert "Cette action n'est pas réversible" in asked  # the portal's words, as they are
    assert "non confirmé" in declined.flat
    # The plan at 80 columns: no word of it cut, the portal's types and options whole.
    state_of = [licence(before, ref) for ref in ("FPC367128", "FPC367131")]
    assert_whole(
        declined.screen,
        "Licence Numéro Type utilisateur site options Conserver le numéro Non quarantaine",
        "supprimée avec le numéro",
        *(d["type"] for d in state_of),
        *(option for d in state_of for option in d["options"]),
    )
    assert PROMPT_HINT not in declined.screen
    assert replica.state() == before

    accepted = Terminal(french(Cli(tmp_path / "oui", replica)), *TWO_TABS, "--release-number")
    accepted.expect(FRENCH_PROMPT)
    accepted.type(b"oui\r")

    assert accepted.wait() == 0, accepted.screen
    assert "dissocié" in accepted.flat
    assert "En quarantaine, toujours facturé(s)" in accepted.flat
    # the reminder whole, to the run's own list (never clipped: "… (311 caractères)"), and
    # the title and the reminder wrapped at words by the bot, not cut by the terminal
    assert "numbers-to-terminate.csv." in accepted.flat
    assert "caractères)" not in accepted.flat
    assert_whole(
        accepted.screen,
        "exécution Conserver le numéro quarantaine Pensez à résilier le numéro depuis vos "
        "offres contractées pour arrêter sa facturation la liste pour la facturation",
    )
    state = replica.state()
    for number in NUMBERS:
        assert number_state(state, number) == "quarantine"


@pytest.mark.twin(
    "tests/commands/test_dissociate_edges.py::test_terminal_steps_then_one_prompt_with_plan_and_warnings_no_changes_nothing_events_kept",
    "tests/commands/test_language.py::test_the_help_is_french_under_a_french_locale_and_english_with_myopenip_lang_en",
)
@pytest.mark.browser
@pytest.mark.slow
def test_myopenip_lang_en_asks_in_english_under_a_french_locale_and_yes_is_understood_in_french(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    terminal = Terminal(english_under_french(Cli(tmp_path, replica)), *TWO_TABS, "--keep-number")
    terminal.expect(PROMPT_HINT)
    assert "Click « Valider » for these 2 numbers? This cannot be undone." in terminal.flat
    terminal.type(b"n\r")

    assert terminal.wait() == 4, terminal.screen
    assert FRENCH_PROMPT not in terminal.screen
    assert "not confirmed" in terminal.flat
    assert replica.state() == before


# -- a batch's report ---------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_a_batch_report_is_french_under_a_french_locale_and_english_with_myopenip_lang_en(
    replica: Replica, tmp_path: Path
) -> None:
    before = replica.state()
    rows = rows_for(before, [("SRV-10021", 2, "utilisateurs")], [False, True])
    suspended = rows_for(before, [("SRV-10024", 1, "utilisateurs")], [False])  # refused
    batch = write_rows(tmp_path / "batch.csv", [*rows, *suspended])

    reports = {}
    for lang, setting in (("fr", french), ("en", english_under_french)):
        cli = setting(BatchCli(tmp_path, replica))
        report = tmp_path / f"report-{lang}"
        done = forked.run(
            cli.argv(batch, "--dry-run", "--report", report),
            cwd=cli.cwd,
            env=dict(cli.env, COLUMNS="80"),
            timeout=300,
        )
        assert done.returncode == 1, done.stderr[-3000:]  # the suspended service's row
        reports[lang] = (report / "report.html").read_text(encoding="utf-8"), done.stdout

    html, out = reports["fr"]
    assert '<html lang="fr">' in html
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    for phrase in ("Traitement par lot", "simulation", "serait dissocié", "Résultat", "Numéro"):
        assert phrase in text, phrase
    assert "would be dissociated" not in text
    assert re.search(r"\d{1,2} [a-zéû]+\.? 20\d\d à \d\d:\d\d", text)  # Babel's French date
    assert "Traitement par lot (simulation, rien n'a été modifié)" in out
    assert "Code de sortie 1" in out
    # The rows not done, at 80 columns: the refusal in French, no word of it cut.
    assert "Lignes non traitées, et pourquoi" in out
    assert_whole(
        out,
        suspended[0].licence,
        "refusé le service SRV-10024 est Suspendu seuls les numéros d'un service Actif "
        "peuvent être dissociés",
    )
    assert "le service SRV-10024 est «\u00a0Suspendu\u00a0»" in html  # French typography
    html, out = reports["en"]
    assert '<html lang="en">' in html
    assert "would be dissociated" in html
    assert "Exit code 1" in out
    assert_whole(out, "refused only a service Actif can have its numbers dissociated")
    assert replica.state() == before


# -- find's table ---------------------------------------------------------------------------


class FindCli(Cli):
    """`myopenip find …` (for a Terminal)."""

    def argv(self, *args: str, service: str = "", client: str | None = None) -> list[str]:
        return [sys.executable, "-m", "myopenip", "find", *args]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.cells("lang", "columns")
@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_find_lists_a_services_licences_without_cutting_a_word(
    replica: Replica, tmp_path: Path, lang: str, columns: int
) -> None:
    state = replica.state()
    licences = [lic for lic in state["licences"] if lic["service_ref"] == "SRV-10021"]
    chosen = french if lang == "fr" else english_under_french
    cli = chosen(FindCli(tmp_path, replica))
    terminal = Terminal(cli, "--service", "SRV-10021", columns=columns)

    assert terminal.wait() == 0, terminal.screen
    title = "Licences de SRV-10021 à" if lang == "fr" else "Licences of SRV-10021 at"
    table = terminal.screen[terminal.screen.index(title) :]
    header = "Licence Numéro Type Utilisateur État" if lang == "fr" else "Licence Number User State"
    assert_whole(table, header)
    assert_whole(table, *(lic["type"] for lic in licences), *(lic["ref"] for lic in licences))
    rows = [line for line in table.splitlines() if line.startswith("│")]
    if columns == 120:
        assert len(rows) == len(licences)  # one line per licence
    else:
        assert len(rows) <= 3 * len(licences)  # the type wraps at words, nothing folds
    assert all(len(line) <= columns for line in table.splitlines())


@pytest.mark.browser
@pytest.mark.slow
def test_a_batch_asks_in_french_and_non_changes_nothing(replica: Replica, tmp_path: Path) -> None:
    before = replica.state()
    rows = rows_for(before, [("SRV-10022", 2, "utilisateurs")], [False, True])
    batch = write_rows(tmp_path / "batch.csv", rows)
    terminal = Terminal(
        french(BatchCli(tmp_path, replica)),
        batch, "--journal", tmp_path / "j.sqlite", "--report", tmp_path / "report",
    )  # fmt: skip

    terminal.expect(FRENCH_PROMPT)
    asked = terminal.flat
    terminal.type(b"n\r")

    assert terminal.wait() == 4, terminal.screen
    assert "Le lot : 2 licences de 1 service(s) à traiter" in asked
    assert "Lignes à traiter, et lignes refusées" in asked
    assert "Cliquer sur « Valider » pour ces 2 numéros ? C'est irréversible." in asked
    assert_whole(
        terminal.screen, "Service Licence Numéro Conserver État prévu", *(r.licence for r in rows)
    )
    assert "non confirmé" in terminal.flat
    assert "Code de sortie 4" in terminal.flat
    assert "Traceback" not in terminal.screen
    assert replica.state() == before


@pytest.mark.browser
@pytest.mark.slow
def test_the_smoke_table_and_its_junit_messages_are_french_and_its_json_is_not(
    replica: Replica, tmp_path: Path
) -> None:
    cli = french(Cli(tmp_path, replica))
    done = run(cli, "smoke")  # at 80 columns

    assert done.returncode == 0, done.stdout + done.stderr
    screen = done.stdout
    assert "Vérification rapide (smoke) de http" in screen
    assert_whole(screen, "Vérification Résultat Détails", "réussie", "Connexion")
    assert re.search(r"\d+ réussies, 0 en échec, 0 en erreur, \d+ sans objet\.", screen), screen
    assert "Dossier de l'exécution" in screen
    assert_whole(screen, "texts.service_type_with_licences", "le bouton « Valider »")
    # (the keys are names, the same in every language: login.heading)
    assert not {"passed", "Check", "Result", "Details", "Login", "button"} & words(screen)
    for english in ("the heading", "never clicked", "requests that", "shown only", "rows read"):
        assert english not in screen, screen
    table = [line for line in screen.splitlines() if line[:1] in "┏┃┡│└"]
    assert all(len(line) <= 80 for line in table), screen
    (folder,) = [path for path in cli.traces.iterdir() if path.name.endswith("-smoke")]
    payload = json.loads((folder / "smoke.json").read_text("utf-8"))
    assert {check["status"] for check in payload["checks"]} <= {"passed", "skipped"}
    assert any(check["id"].startswith("Login: ") for check in payload["checks"])  # ids: English
    junit = (folder / "junit.xml").read_text("utf-8")
    assert 'classname="smoke.Login"' in junit
