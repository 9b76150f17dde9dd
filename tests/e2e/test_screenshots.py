"""A screenshot is the whole page, in one picture, whatever its length (up to a cap)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page

from myopenip_bot.browser.artifacts import SCREENSHOT_MAX_PX, screenshot

pytestmark = pytest.mark.browser


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the IHDR chunk
    return width, height


@pytest.mark.parametrize("rows", [3, 60, 200], ids=["on-screen", "longer", "capped"])
def test_a_screenshot_holds_the_whole_page(page: Page, tmp_path: Path, rows: int) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    page.set_content(
        "<body style='margin:0'>"
        + "".join(f"<p style='height:30px;margin:0'>row {n}</p>" for n in range(rows))
        + "<p id='end'>the end</p></body>"
    )
    page_height = page.evaluate("() => document.documentElement.scrollHeight")

    shot = screenshot(page, tmp_path / "page.png")

    assert shot is not None
    assert png_size(shot) == (1366, min(max(900, page_height), SCREENSHOT_MAX_PX))
