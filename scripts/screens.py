"""Take a screenshot of each screen of the guide from a running replica (`make screens`).

Starts the replica on a free port, walks the user guide's procedure in headless Chromium
like a person would, and writes docs/screens/NN-name.png. The README shows them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from myopenip.replica import run_replica
from myopenip_bot.browser.launch import find_browser

OUT = Path(__file__).resolve().parent.parent / "docs" / "screens"


def shoot(page: Page, out: Path, name: str, *, full_page: bool = True) -> None:
    # A modal's backdrop only covers the viewport, so the dialog is shot as the viewport.
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path}")


def walk(page: Page, url: str, out: Path) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Connectez-vous à MyOpenIP")).to_be_visible()
    page.get_by_label("Identifiant").fill("demo")
    shoot(page, out, "01-login")

    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Mes Services").click()
    expect(page.get_by_role("link", name="Paramétrage / Monitoring")).to_be_visible()
    shoot(page, out, "02-mes-services")

    page.get_by_role("link", name="Paramétrage / Monitoring").click()
    expect(page.get_by_role("heading", name="Paramétrage / Monitoring")).to_be_visible()
    shoot(page, out, "03-parametrage-monitoring")

    page.get_by_label("Client", exact=True).fill("Normandie")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Paramétrer > SRV-10021").click()
    table = page.get_by_role("table", name="Licences")
    expect(table).to_have_attribute("aria-busy", "false")
    shoot(page, out, "04-service-utilisateurs")

    page.get_by_role("tab", name="Groupements").click()
    page.get_by_label("Licence", exact=True).fill("FPC36712")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("checkbox", name="Sélectionner FPC367129")).to_be_visible()
    page.get_by_role("checkbox", name="Sélectionner FPC367128").check()
    page.get_by_role("checkbox", name="Sélectionner FPC367129").check()
    shoot(page, out, "05-groupements-selection")

    page.get_by_role("button", name="Actions").click()
    expect(page.get_by_role("menuitem", name="Dissocier vos numéros")).to_be_visible()
    shoot(page, out, "06-actions")

    page.get_by_role("menuitem", name="Dissocier vos numéros").click()
    dialog = page.get_by_role("dialog", name="Dissocier vos numéros")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Conserver le numéro 02 31 45 67 90").select_option("Non")
    shoot(page, out, "07-dissocier-vos-numeros", full_page=False)

    dialog.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_have_text("Numéro(s) dissocié(s) : 2")
    expect(table).to_have_attribute("aria-busy", "false")
    shoot(page, out, "08-numeros-dissocies")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the PNGs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    launch = find_browser(os.environ.get("MYOPENIP_BROWSER_PATH"))
    with run_replica() as replica, sync_playwright() as pw:
        browser = pw.chromium.launch(**launch.as_kwargs())  # type: ignore[arg-type]
        page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="fr-FR")
        try:
            walk(page, replica.url, args.out)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
