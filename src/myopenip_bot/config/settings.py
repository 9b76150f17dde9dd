"""The bot's settings, from `MYOPENIP_*` variables and a `.env` file, checked at start-up."""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from myopenip_bot.browser.workdir import make_private_dirs
from myopenip_bot.errors import SettingsError
from myopenip_bot.notify import NotifyOn, check_urls, split_urls

ENV_PREFIX = "MYOPENIP_"
ENV_FILE = ".env"


class TraceMode(StrEnum):
    OFF = "off"
    ON = "on"
    RETAIN_ON_FAILURE = "retain-on-failure"


class LogFormat(StrEnum):
    AUTO = "auto"  # console on a terminal, JSON lines otherwise
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Everything the bot reads from its environment; CLI flags override a few of them."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        # A .env shared with other tools holds their keys too: only MYOPENIP_* are ours,
        # and load_settings refuses an unknown one of those (a typo).
        extra="ignore",
        validate_default=True,
    )

    base_url: str = Field(
        default="http://127.0.0.1:8765",
        description="Portal address (the local replica by default).",
    )
    username: str | None = Field(default=None, description="Portal login (Identifiant).")
    password: SecretStr | None = Field(default=None, description="Portal password (Mot de passe).")
    headless: bool = Field(default=True, description="Run Chromium without a window.")
    browser_path: Path | None = Field(default=None, description="Chromium binary to use.")
    browser_endpoint: str | None = Field(
        default=None,
        description="ws:// address of a running `playwright launch-server` to use instead.",
    )
    timeout_ms: int = Field(
        default=15_000, ge=1_000, le=600_000, description="How long a step may wait for the page."
    )
    navigation_timeout_ms: int = Field(
        default=30_000, ge=1_000, le=600_000, description="How long a page load may take."
    )
    trace: TraceMode = Field(
        default=TraceMode.RETAIN_ON_FAILURE,
        description="Playwright tracing: off, on, retain-on-failure.",
    )
    traces_dir: Path = Field(default=Path("traces"), description="One folder per run goes here.")
    keep_runs: int = Field(
        default=50,
        ge=1,
        le=100_000,
        description="Run folders kept in traces_dir; a batch removes the oldest beyond.",
    )
    selectors_file: Path | None = Field(
        default=None, description="The selectors YAML; the packaged default when unset."
    )
    state_file: Path = Field(
        default=Path(".myopenip/session-state.json"),
        description="Where the logged-in session is kept between runs (private permissions).",
    )
    save_session: bool = Field(
        default=True, description="Keep the login in state_file for the next run."
    )
    work_dir: Path = Field(
        default=Path(".myopenip/work"),
        description="Private folder for the browser's working files while a run lives.",
    )
    completion_timeout: float = Field(
        default=60.0,
        ge=0,
        le=3_600,
        description=(
            "Seconds to wait, after the portal accepted « Valider », for its listing to show "
            "the number gone (then: done); past it, the licence is in progress."
        ),
    )
    startup_timeout: float = Field(
        default=120.0,
        ge=0,
        le=3_600,
        description=(
            "Seconds a run waits, with backoff, for the portal to answer when it opens it and "
            "logs in at its start (a portal not up yet: connection refused, 5xx, timeout)."
        ),
    )
    accepted_file: Path = Field(
        default_factory=lambda: _state_home() / "myopenip" / "accepted.sqlite3",
        description=(
            "Where the bot remembers each dissociation the portal accepted until the portal "
            "shows it done (never sent again meanwhile); the user's state folder by default."
        ),
    )
    ledger: SecretStr | None = Field(
        default=None,
        description=(
            "The ledger, the record of every action (docs/ledger.md): unset, a SQLite file "
            "in the user's data folder (~/.local/share/myopenip/ledger.sqlite3); a path, "
            "that file; postgresql://user:password@host/db, a team's shared ledger. Secret: "
            "the URL may hold a password."
        ),
    )
    log_format: LogFormat = Field(default=LogFormat.AUTO, description="console, json or auto.")
    log_level: str = Field(default="info", description="debug, info, warning or error.")
    # Read by the CLI (myopenip_bot.i18n) straight from the environment, before any setting.
    lang: str | None = Field(
        default=None,
        description="fr or en: the language a person reads; unset, the locale (LANG=fr_…).",
    )
    # Read by the smoke's pytest suite (the command has --service and --licence).
    smoke_service: str | None = Field(
        default=None, description="The service the smoke's pytest suite checks (SRV-…)."
    )
    smoke_licence: str | None = Field(
        default=None, description="A licence with a number for the smoke's pytest suite."
    )
    # -- notifications (docs/scheduling.md, "Being told") --
    notify: SecretStr | None = Field(
        default=None,
        description=(
            "Apprise URLs (mail, Slack, Teams, a webhook…), separated by spaces or commas, "
            "told how a batch or smoke ended; secret: they may hold tokens."
        ),
    )
    notify_on: NotifyOn = Field(
        default=NotifyOn.PROBLEMS,
        description="When to notify: problems (any exit code but 0) or always.",
    )

    @field_validator("notify")
    @classmethod
    def _apprise_urls(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not split_urls(value.get_secret_value()):
            return None
        check_urls(split_urls(value.get_secret_value()))  # names the URL by its scheme only
        return value

    @property
    def notify_urls(self) -> list[str]:
        """The Apprise URLs of MYOPENIP_NOTIFY (none when unset): never to be logged."""
        return split_urls(self.notify.get_secret_value()) if self.notify else []

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
            raise ValueError(f"must be an http:// or https:// address, not {value!r}")
        return value

    @field_validator("browser_endpoint")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("ws://", "wss://")):
            raise ValueError(f"must be a ws:// or wss:// address, not {value!r}")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.lower()
        if value not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return value

    @field_validator("traces_dir", "work_dir", "state_file", "accepted_file", mode="before")
    @classmethod
    def _not_empty(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must name a path, not be empty")
        return value

    @field_validator("selectors_file")
    @classmethod
    def _existing_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"no such file: {value}")
        return value.expanduser() if value is not None else None

    @field_validator("browser_path")
    @classmethod
    def _executable(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        path = value.expanduser()
        if not path.is_file():
            raise ValueError(f"no such file: {value}")
        if not os.access(path, os.X_OK):
            raise ValueError(f"{value} is not executable")
        return path

    def prepare_folders(self, *, acting: bool = False) -> None:
        """Create the traces, state and work folders (private), or raise naming the setting;
        `acting` (a command that may click « Valider »): the folder of the record of what
        the portal accepted too, which keeps every later run from sending it again."""
        files = [("STATE_FILE", self.state_file)]
        if acting:
            files.append(("ACCEPTED_FILE", self.accepted_file))
        for name, path in files:
            if path.expanduser().is_dir():
                raise SettingsError(f"{ENV_PREFIX}{name}: {path} is a folder; give a file path")
        folders = [
            ("TRACES_DIR", self.traces_dir),
            ("STATE_FILE", self.state_file.parent),
            ("WORK_DIR", self.work_dir),
        ]
        if acting:
            folders.append(("ACCEPTED_FILE", self.accepted_file.expanduser().parent))
        for name, folder in folders:
            try:
                make_private_dirs(folder)
                probe = folder.expanduser() / f".write-test-{os.getpid()}"
                probe.touch()
                probe.unlink()
            except OSError as error:
                reason = error.strerror or str(error)
                raise SettingsError(
                    f"{ENV_PREFIX}{name}: cannot use the folder {folder}: {reason}"
                ) from None

    def require_credentials(self) -> tuple[str, SecretStr]:
        """The username and password, or a SettingsError naming what is missing."""
        missing = [
            f"{ENV_PREFIX}{name.upper()}"
            for name, value in (("username", self.username), ("password", self.password))
            if not value or (isinstance(value, SecretStr) and not value.get_secret_value())
        ]
        if missing:
            raise SettingsError(
                f"missing credentials: set {' and '.join(missing)} (environment or .env file)"
            )
        assert self.username is not None
        assert self.password is not None
        return self.username, self.password


def _state_home() -> Path:
    """The user's state folder (XDG_STATE_HOME, else ~/.local/state): what one user's
    runs share wherever they run from."""
    given = os.environ.get("XDG_STATE_HOME", "")
    return Path(given) if given.startswith("/") else Path.home() / ".local" / "state"


def forget_password_environment() -> None:
    """Once the settings are read: MYOPENIP_PASSWORD leaves this process's environment.

    Removed from `os.environ` (no child inherits it), and overwritten where the kernel
    keeps the environment the process started with (what /proc/<pid>/environ shows to
    its owner and to root for the whole run), on Linux. MYOPENIP_NOTIFY too.
    """
    for name in _SECRET_NAMES:
        os.environ.pop(name, None)
        with contextlib.suppress(OSError, ValueError, IndexError):
            _wipe_initial_environment(name.encode() + b"=")


# What forget_password_environment removes: the password, and the notify URLs (they may
# hold tokens and passwords of their own).
_SECRET_NAMES = (f"{ENV_PREFIX}PASSWORD", f"{ENV_PREFIX}NOTIFY")


def _wipe_initial_environment(key: bytes) -> None:
    with open("/proc/self/stat", "rb") as handle:
        stat = handle.read()
    fields = stat[stat.rindex(b")") + 2 :].split()  # from field 3 on: the name may hold spaces
    start, end = int(fields[50 - 3]), int(fields[51 - 3])  # env_start, env_end (proc(5))
    if not 0 < start < end:
        return
    block = ctypes.string_at(start, end - start)
    at = 0
    while (at := block.find(key, at)) >= 0:
        if at == 0 or block[at - 1] == 0:  # the start of an entry, not inside a value
            value_end = block.find(b"\0", at)
            value_end = len(block) if value_end < 0 else value_end
            ctypes.memset(start + at + len(key), 0, value_end - at - len(key))
        at += len(key)


def _setting_name(loc: tuple[int | str, ...]) -> str:
    name = ".".join(str(part) for part in loc).upper()
    if not name:
        return "settings"
    return name if name.startswith(ENV_PREFIX) else ENV_PREFIX + name


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise SettingsError naming each invalid setting.

    An unknown `MYOPENIP_*` name, in the environment or in `.env`, is an error too: a
    typo must not silently fall back to a default. Other names are not ours: ignored.
    """
    problems = [_unknown(name) for name in _unknown_names()]
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems += [
            f"{_setting_name(error['loc'])}: {str(error['msg']).removeprefix('Value error, ')}"
            for error in exc.errors()
        ]
    if problems:
        raise SettingsError("invalid settings: " + "; ".join(problems))
    return settings


def _known_names() -> list[str]:
    return [ENV_PREFIX + name.upper() for name in Settings.model_fields]


def _unknown_names() -> list[str]:
    names = set(os.environ)
    with contextlib.suppress(OSError, UnicodeDecodeError):  # pydantic-settings reports those
        names |= {key for key in dotenv_values(ENV_FILE) if key}
    known = set(_known_names())
    return sorted(n for n in names if n.upper().startswith(ENV_PREFIX) and n.upper() not in known)


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(name.upper(), _known_names(), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{name}: unknown setting{hint}"
