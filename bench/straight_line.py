"""The floor for one licence in a browser: the user guide's steps, straight, with no checks.

    python bench/straight_line.py --base-url URL --service SRV-10021 --licence FPC367128 \
        --tab Groupements [--keep] [--user demo --password demo]

Log in, Mes Services > Paramétrage / Monitoring, search the service by ref,
« Paramétrer > », the licence's tab, filter the licence, tick it, Actions > « Dissocier vos
numéros », « Conserver le numéro » = Non (or Oui with --keep), « Valider », wait for the
status "Numéro(s) dissocié(s) : 1". Controls are found by role and label, like the bot,
but nothing is read back, verified, retried, screenshotted, traced or saved: this is what
a person's clicks cost, no more. It may rely on the classic markup's behaviour (the tab is
known in advance, a search empties the table until its rows are in), which the bot may not.

Prints one JSON line on stdout: {"seconds": whole script, "seconds_browser": from the
browser's launch to the status, "seconds_steps": from the first page to the status}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

from playwright.sync_api import Page, expect, sync_playwright

STATUS = re.compile(r"Numéro\(s\) dissocié\(s\) : 1")


def dissociate(
    page: Page,
    base_url: str,
    user: str,
    password: str,
    service: str,
    licence: str,
    tab: str,
    keep: bool = False,
) -> None:
    """The guide's steps for one licence, in one page that is not logged in yet."""
    page.goto(base_url)  # the portal sends a visitor to its login page
    page.get_by_label("Identifiant").fill(user)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Mes Services").click()
    page.get_by_role("link", name="Paramétrage / Monitoring").click()
    page.get_by_label("Réf. du service", exact=True).fill(service)
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name=f"Paramétrer > {service}").click()
    page.get_by_role("tab", name=tab).click()
    page.get_by_label("Licence", exact=True).fill(licence)
    # « Rechercher » empties the table at once (classic markup), so the only checkbox that
    # can appear next is that of the filtered search.
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("checkbox", name=f"Sélectionner {licence}").check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    dialog.get_by_role("combobox", name=re.compile(r"^Conserver le numéro")).select_option(
        label="Oui" if keep else "Non"
    )
    dialog.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_have_text(STATUS)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("MYOPENIP_BASE_URL"))
    parser.add_argument("--user", default=os.environ.get("MYOPENIP_USERNAME", "demo"))
    parser.add_argument("--password", default=os.environ.get("MYOPENIP_PASSWORD", "demo"))
    parser.add_argument("--service", required=True)
    parser.add_argument("--licence", required=True)
    parser.add_argument("--tab", choices=("Utilisateurs", "Groupements"), required=True)
    parser.add_argument("--keep", action="store_true", help="« Conserver le numéro » = Oui")
    # The Chromium to launch and its arguments, found once by the harness (bench/run.py),
    # so that this floor pays nothing of the bot's: no import, no lookup of its own.
    parser.add_argument("--executable-path", default=None)
    parser.add_argument("--browser-arg", action="append", default=[])
    args = parser.parse_args(argv)
    if not args.base_url:
        parser.error("--base-url (or MYOPENIP_BASE_URL) is required")
    with sync_playwright() as pw:
        launched = time.perf_counter()
        browser = pw.chromium.launch(
            headless=True, executable_path=args.executable_path, args=args.browser_arg
        )
        page = browser.new_page()
        first_page = time.perf_counter()
        dissociate(
            page,
            args.base_url.rstrip("/"),
            args.user,
            args.password,
            args.service,
            args.licence,
            args.tab,
            args.keep,
        )
        done = time.perf_counter()
        browser.close()
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 3),
                "seconds_browser": round(done - launched, 3),
                "seconds_steps": round(done - first_page, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
