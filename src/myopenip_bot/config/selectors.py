"""The portal's controls and texts as data: load `selectors/*.yaml`, validate it, build Locators.

Every control the bot touches is described by what a person sees (ARIA role and
accessible name, else its label, else its visible text) in a YAML file, never by CSS,
XPath or ids. The file is validated at start-up into `Selectors`; a missing or invalid
key fails at once with `SettingsError` naming it (`dialog.keep_select.role: ...`), not in
the middle of a run. The default file ships inside the package (data/selectors.yaml, a
symlink to the repository's selectors/portal.yaml).
"""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from myopenip_bot.errors import SettingsError
from myopenip_bot.models import Tab

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

__all__ = [
    "Control",
    "Hints",
    "Selectors",
    "Texts",
    "default_selectors_path",
    "load_selectors",
    "locate",
]

# The roles Playwright's get_by_role accepts (its own Literal, copied for validation).
Role = Literal[
    "alert", "alertdialog", "application", "article", "banner", "blockquote", "button",
    "caption", "cell", "checkbox", "code", "columnheader", "combobox", "complementary",
    "contentinfo", "definition", "deletion", "dialog", "directory", "document", "emphasis",
    "feed", "figure", "form", "generic", "grid", "gridcell", "group", "heading", "img",
    "insertion", "link", "list", "listbox", "listitem", "log", "main", "marquee", "math",
    "menu", "menubar", "menuitem", "menuitemcheckbox", "menuitemradio", "meter",
    "navigation", "none", "note", "option", "paragraph", "presentation", "progressbar",
    "radio", "radiogroup", "region", "row", "rowgroup", "rowheader", "scrollbar", "search",
    "searchbox", "separator", "slider", "spinbutton", "status", "strong", "subscript",
    "superscript", "switch", "tab", "table", "tablist", "tabpanel", "term", "textbox", "time",
    "timer", "toolbar", "tooltip", "tree", "treegrid", "treeitem",
]  # fmt: skip

# Values a name, label or text may contain as "{...}" and fill in at run time.
PLACEHOLDERS = frozenset({"ref", "number"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Control(_Strict):
    """One control: `role` (+ `name`), or `label`, or `text`; `exact` defaults to true."""

    role: Role | None = None
    name: str | None = None
    label: str | None = None
    text: str | None = None
    exact: bool = True

    @model_validator(mode="after")
    def _one_way_to_find_it(self) -> Control:
        given = [key for key in ("role", "label", "text") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of role, label, text (got {', '.join(given) or 'none'})"
            )
        if self.name is not None and self.role is None:
            raise ValueError("name goes with role")
        for value in (self.name, self.label, self.text):
            if value is not None:
                _check_placeholders(value)
        return self

    def describe(self) -> str:
        """How a person would name it, for error messages: `button "Valider"`."""
        if self.role is not None:
            return f'{self.role} "{self.name}"' if self.name is not None else self.role
        if self.label is not None:
            return f'field labelled "{self.label}"'
        return f'text "{self.text}"'


def _check_placeholders(value: str) -> None:
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
    except ValueError as error:
        raise ValueError(f"{value!r}: {error}") from None
    unknown = fields - PLACEHOLDERS
    if unknown:
        raise ValueError(
            f"{value!r}: unknown placeholder {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}"
        )


class LoginSelectors(_Strict):
    heading: Control
    username: Control
    password: Control
    submit: Control
    error: Control


class NavigationSelectors(_Strict):
    services_menu: Control
    services_settings: Control
    logout: Control


class ServicesSelectors(_Strict):
    heading: Control
    ref_filter: Control
    filters: tuple[Control, ...]
    search: Control
    table: Control
    configure: Control
    next_page: Control


class ServiceSelectors(_Strict):
    tablist: Control
    tab_panel: Control
    tabs: dict[Tab, Control]

    @field_validator("tabs")
    @classmethod
    def _both_tabs(cls, tabs: dict[Tab, Control]) -> dict[Tab, Control]:
        missing = [tab.value for tab in Tab if tab not in tabs]
        if missing:
            raise ValueError(f"missing tab(s): {', '.join(missing)}")
        return tabs


class LicencesSelectors(_Strict):
    licence_filter: Control
    number_filter: Control
    filters: tuple[Control, ...]
    select_all: Control
    search: Control
    table: Control
    row_checkbox: Control
    next_page: Control
    actions: Control
    dissociate: Control
    status: Control


class DialogSelectors(_Strict):
    dialog: Control
    heading: Control
    keep_select: Control
    any_keep_select: Control
    error: Control
    cancel: Control
    submit: Control
    warnings: tuple[Control, ...]
    warning_texts: tuple[str, ...]


class ServiceColumns(_Strict):
    ref: str
    name: str
    client: str
    account: str
    site: str
    type: str
    state: str
    action: str


class LicenceColumns(_Strict):
    licence: str
    number: str
    user: str
    site: str
    state: str


class Texts(_Strict):
    """The portal's texts that the bot matches; patterns are Python regular expressions."""

    service_columns: ServiceColumns
    licence_columns: LicenceColumns
    licence_cell: re.Pattern[str]
    dialog_row: re.Pattern[str]
    licence_ref: re.Pattern[str]
    without_number: str
    keep_yes: str
    keep_no: str
    status_dissociated: re.Pattern[str]
    service_type_with_licences: str
    service_state_active: str
    # The options the guide says a dissociation ends (« … de ses options (hors application
    # standardiste) »), flagged in the confirmation; matched without case nor accents.
    ended_options: tuple[str, ...] = ("Application standardiste",)

    @field_validator("licence_cell")
    @classmethod
    def _cell_groups(cls, value: re.Pattern[str]) -> re.Pattern[str]:
        return _require_groups(value, "ref")

    @field_validator("dialog_row")
    @classmethod
    def _row_groups(cls, value: re.Pattern[str]) -> re.Pattern[str]:
        return _require_groups(value, "ref", "number")

    @field_validator("status_dissociated")
    @classmethod
    def _status_groups(cls, value: re.Pattern[str]) -> re.Pattern[str]:
        return _require_groups(value, "count")


class Hints(_Strict):
    """Guesses about the real portal that the guide and the spec do not show.

    The bot may use them to go faster or to say more, never as a condition to go on:
    it works, at full speed, on a portal that shows none of them.
    """

    loading: str
    empty_results: str
    empty_services: str
    technical_error: str
    number_filter_format: Literal["{digits}", "{grouped}"]
    # What « État » reads while the back end works on an accepted dissociation: such a
    # licence is never submitted again (the bot's own records say the same without it).
    in_progress: str | None = None
    # The shape of a service ref, as this portal writes them: only said in messages (a
    # service that is not found, the smoke); any ref is looked up on the portal.
    service_ref: re.Pattern[str] | None = None
    # A licence's own page, linked from its row of the listing ("{ref}": its ref), and the
    # label of its options there: read for a one-shot's few licences before the
    # confirmation, to say which options end with the number. Without either, the
    # options are "not shown by the portal".
    licence_page: Control | None = None
    licence_options: Control | None = None


def _require_groups(value: re.Pattern[str], *groups: str) -> re.Pattern[str]:
    missing = [group for group in groups if group not in value.groupindex]
    if missing:
        raise ValueError(f"the pattern needs the named group(s) {missing}, as (?P<name>...)")
    return value


class Selectors(_Strict):
    """Everything the bot needs to find on the portal, validated."""

    version: Literal[1]
    login: LoginSelectors
    navigation: NavigationSelectors
    services: ServicesSelectors
    service: ServiceSelectors
    licences: LicencesSelectors
    dialog: DialogSelectors
    texts: Texts
    hints: Hints

    _keys: dict[int, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _service_ref_is_a_hint(cls, data: Any) -> Any:
        """A file written before the service ref became a hint (`texts.service_ref`)
        still loads: the pattern is read as `hints.service_ref`, a hint."""
        if not isinstance(data, dict):
            return data
        texts, hints = data.get("texts"), data.get("hints")
        if isinstance(texts, dict) and "service_ref" in texts:
            texts = dict(texts)
            pattern = texts.pop("service_ref")
            hints = dict(hints) if isinstance(hints, dict) else {}
            hints.setdefault("service_ref", pattern)
            data = {**data, "texts": texts, "hints": hints}
        return data

    def model_post_init(self, context: Any) -> None:
        self._keys.update(_control_keys(self, ""))

    def key_of(self, control: Control) -> str:
        """The entry of this file that is `control`, e.g. "dialog.submit" (for messages
        that name what drifted); its description when it is not one of them."""
        return self._keys.get(id(control), control.describe())


def _control_keys(node: BaseModel, prefix: str) -> dict[int, str]:
    """id(control) -> its dotted key, for every Control under `node`."""
    keys: dict[int, str] = {}
    for name in type(node).model_fields:
        value = getattr(node, name)
        key = f"{prefix}{name}"
        if isinstance(value, Control):
            keys[id(value)] = key
        elif isinstance(value, BaseModel):
            keys |= _control_keys(value, key + ".")
        elif isinstance(value, dict):
            for item_name, item in value.items():
                if isinstance(item, Control):
                    keys[id(item)] = f"{key}.{getattr(item_name, 'value', item_name)}"
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, Control):
                    keys[id(item)] = key
    return keys


def default_selectors_path() -> Path:
    """The selectors file packaged with the bot."""
    return Path(str(resources.files("myopenip_bot") / "data" / "selectors.yaml"))


def load_selectors(path: Path | None = None) -> Selectors:
    """Read and validate a selectors file (the packaged default when `path` is None).

    Raises SettingsError naming the file and every missing or invalid key.
    """
    source = path if path is not None else default_selectors_path()
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"cannot read the selectors file {source}: {error}") from error
    except yaml.YAMLError as error:
        raise SettingsError(f"the selectors file {source} is not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise SettingsError(f"the selectors file {source} must hold a mapping at its top level")
    try:
        return Selectors.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(_describe(problem) for problem in error.errors())
        raise SettingsError(f"invalid selectors file {source}: {problems}") from None


def _describe(problem: Any) -> str:
    where = ".".join(str(part) for part in problem["loc"])
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"{where or '(top level)'}: {message}"


def locate(scope: Page | Locator, control: Control, **values: str) -> Locator:
    """Turn a control into a Locator within `scope` (a page or a parent locator).

    `values` fill the control's placeholders, e.g. `locate(table, sel.row_checkbox,
    ref="FPC367128")` for the checkbox named "Sélectionner FPC367128". A `{number}` is
    data, which a portal may show in any of the spec's forms: it matches "02 31 45 67
    89", "0231456789" and "+33 2 31 45 67 89" alike, whichever of them `number` is.
    """
    if control.role is not None:
        if control.name is None:
            return scope.get_by_role(control.role)
        return scope.get_by_role(
            control.role, name=_named(control.name, control.exact, values), exact=control.exact
        )
    if control.label is not None:
        return scope.get_by_label(_named(control.label, control.exact, values), exact=control.exact)
    assert control.text is not None  # guaranteed by Control's validator
    return scope.get_by_text(_named(control.text, control.exact, values), exact=control.exact)


def _named(template: str, exact: bool, values: dict[str, str]) -> str | re.Pattern[str]:
    """The name `template` gives with `values`; a pattern when it holds a `{number}`, so
    that the number matches in any of the forms a portal shows it in."""
    number = values.get("number")
    if not number or "{number}" not in template:
        return template.format(**values)
    others = {key: value for key, value in values.items() if key != "number"}
    parts = [
        re.sub(r"(?:\\ )+", lambda _: r"\s+", re.escape(part.format(**others)))
        for part in template.split("{number}")
    ]
    body = number_pattern(number).join(parts)
    return re.compile(f"^\\s*{body}\\s*$") if exact else re.compile(body, re.IGNORECASE)


def number_pattern(number: str) -> str:
    """A regular expression (its source) matching a French number however a portal shows
    it: "02 31 45 67 89", "0231456789", "02.31.45.67.89" or "+33 2 31 45 67 89"."""
    compact = "".join(c for c in number if c.isdigit() or c == "+")
    for prefix in ("+33", "0033"):
        if compact.startswith(prefix):
            compact = "0" + compact[len(prefix) :].removeprefix("0")
    digits = compact.replace("+", "")
    between = r"[\s.]?"
    if not digits.startswith("0"):
        return between.join(re.escape(d) for d in digits)
    head = r"(?:0|\+33[\s.]?(?:\(0\)[\s.]?)?|0033[\s.]?)"
    return head + between.join(re.escape(d) for d in digits[1:])
