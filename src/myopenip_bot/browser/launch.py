"""Find a Chromium to drive and the arguments to launch it with, on machines without internet."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from myopenip_bot.browser.workdir import make_private_dirs
from myopenip_bot.errors import BrowserNotFoundError

# Chromium's background services try to reach Google; on a closed network every attempt
# fails slowly, so they are switched off.
_QUIET_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Without a window, Chromium's headless shell (what Playwright itself launches headless;
# Debian's package chromium-headless-shell) does the same work as the full browser in a
# fraction of its CPU: no GPU process, no browser UI. Looked for first when headless.
_HEADLESS_SHELLS = (
    "/usr/lib/chromium/chromium-headless-shell",  # Debian's binary (/usr/bin's is a script)
    "/usr/bin/chromium-headless-shell",
)
_SYSTEM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/lib/chromium/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/snap/bin/chromium",
)
_HOW_TO_GET_ONE = (
    "No Chromium found. Install one with `python -m playwright install chromium` "
    "(needs internet) or your system's packages (`apt-get install -y chromium "
    "chromium-headless-shell` gives /usr/bin/chromium and the lighter shell used without "
    "a window), or point MYOPENIP_BROWSER_PATH at a Chromium or Chrome binary."
)


@dataclass(frozen=True)
class BrowserLaunch:
    """Where the browser is and how to start it; feeds `BrowserType.launch(**as_kwargs())`."""

    executable_path: str | None
    args: tuple[str, ...]
    source: str

    def as_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {"args": list(self.args)}
        if self.executable_path is not None:
            kwargs["executable_path"] = self.executable_path
        return kwargs


def detached_driver(folder: Path) -> str | None:
    """Write an executable that starts Playwright's Node.js driver in a session of its own.

    A terminal's Ctrl-C goes to its whole process group, and `timeout` sends SIGTERM to
    its whole group too: the driver and Chromium would die with the first signal, before
    the bot could finish reading a « Valider » answer. Started through this (Playwright
    reads it from PLAYWRIGHT_NODEJS_PATH), they only stop when the bot closes them, or
    when the bot's process is gone (the driver's stdin closes). None where it cannot be
    done (no os.setsid, no bundled Node.js).
    """
    if not hasattr(os, "setsid"):
        return None
    node = os.environ.get("PLAYWRIGHT_NODEJS_PATH") or str(_bundled_node())
    if not Path(node).is_file():
        return None
    wrapper = folder / "node-detached"
    wrapper.write_text(
        f"#!{sys.executable} -IS\n"  # one argument: Linux passes the rest of the line as one
        "import os, sys\n"
        "os.setsid()\n"
        f"os.execv({node!r}, [{node!r}, *sys.argv[1:]])\n",
        encoding="utf-8",
    )
    wrapper.chmod(0o700)
    return str(wrapper)


def node_compile_cache() -> str | None:
    """A folder where Node.js keeps the driver's compiled code between runs (its
    NODE_COMPILE_CACHE): each run's driver then starts in about 0.1 s less CPU and time.

    Per user (`~/.cache/myopenip/node-compile-cache`), as Playwright's own browsers are,
    so that every project folder and every temp folder a job runs in shares it. Created
    private; not used when someone else could write it (compiled code is code). None,
    and no cache, when the environment already says (NODE_COMPILE_CACHE, or
    NODE_DISABLE_COMPILE_CACHE) or the folder cannot be made.
    """
    if os.environ.get("NODE_COMPILE_CACHE") or os.environ.get("NODE_DISABLE_COMPILE_CACHE"):
        return None
    if not hasattr(os, "getuid"):  # not POSIX: no owner to check, no cache
        return None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "myopenip" / "node-compile-cache"
    try:
        make_private_dirs(folder)
        for path in (folder, folder.parent):
            info = path.stat()
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None
    except (OSError, RuntimeError):  # no home, a read-only one
        return None
    return str(folder)


def _bundled_node() -> Path:
    import playwright

    return Path(playwright.__file__).parent / "driver" / ("node.exe" if os.name == "nt" else "node")


def _playwright_cache() -> Path:
    """Where `playwright install` puts its browsers (PLAYWRIGHT_BROWSERS_PATH, else per OS)."""
    configured = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if configured and configured != "0":
        return Path(configured)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ms-playwright"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "ms-playwright"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ms-playwright"


def _playwright_chromium() -> str | None:
    """The Chromium that `playwright install chromium` put in its cache, if it is there.

    Playwright's driver is asked only when its cache holds a Chromium at all, so that a
    machine without one starts no extra process; a driver that fails (a signal while it
    starts) counts as "not found".
    """
    cache = _playwright_cache()
    if os.environ.get("PLAYWRIGHT_BROWSERS_PATH") != "0" and not any(cache.glob("chromium*")):
        return None
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            path = pw.chromium.executable_path
    except Exception:  # the driver died or cannot start: look for a system browser
        return None
    return path if path and Path(path).is_file() else None


def find_browser(
    override: str | os.PathLike[str] | None = None, *, headless: bool = True
) -> BrowserLaunch:
    """Return how to launch Chromium: the override, else Playwright's own (which picks its
    headless shell itself), else the system's: its headless shell when `headless`, else
    its full browser.

    Raises BrowserNotFoundError naming what was tried when none is usable.
    """
    args = list(_QUIET_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
    if override:
        path = Path(override).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BrowserNotFoundError(
                f"MYOPENIP_BROWSER_PATH={override} is not an executable file. {_HOW_TO_GET_ONE}"
            )
        return BrowserLaunch(str(path), tuple(args), "MYOPENIP_BROWSER_PATH")
    bundled = _playwright_chromium()
    if bundled:
        return BrowserLaunch(None, tuple(args), f"Playwright's Chromium ({bundled})")
    if headless:
        for candidate in _HEADLESS_SHELLS:
            if _executable(candidate):
                return BrowserLaunch(candidate, tuple(args), f"system headless shell ({candidate})")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return BrowserLaunch(found, tuple(args), f"system browser ({found})")
    for candidate in _SYSTEM_CANDIDATES:
        if _executable(candidate):
            return BrowserLaunch(candidate, tuple(args), f"system browser ({candidate})")
    raise BrowserNotFoundError(_HOW_TO_GET_ONE)


def _executable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)
