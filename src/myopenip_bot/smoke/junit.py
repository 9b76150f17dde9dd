"""The smoke checks as JUnit XML: one test case per check, classname the screen.

A CI's test reporter reads it as it reads any test run: a drift is a `<failure>`, a check
that could not run (the portal unreachable, the login refused or unanswered, a check it
needs failed, a signal) an `<error>`, and only a state the portal cannot show here a
`<skipped>`. A failed check's `<system-out>` names the closest controls on its screen and
attaches its screenshot with the `[[ATTACHMENT|traces/…/NN-failed-key.png]]` line that
Jenkins' and GitLab's reporters turn into a link: a path relative to the folder the run
started in (the CI job's project folder, which GitLab wants), absolute only for a file
outside it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from myopenip_bot.files import write_private
from myopenip_bot.smoke.checks import CheckResult, Status
from myopenip_bot.text import visible
from myopenip_bot.wording import check_evidence, check_text

__all__ = ["attachment", "evidence", "shown_path", "write_junit"]


def attachment(path: Path) -> str:
    """The line a CI reporter turns into a link to `path`: relative to the current folder
    (the CI job's project folder) when it is inside it, else absolute."""
    return f"[[ATTACHMENT|{shown_path(path)}]]"


def shown_path(path: Path) -> str:
    """`path` relative to the current folder when it is inside it, else absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:  # elsewhere (a MYOPENIP_TRACES_DIR outside the project)
        return str(resolved)


def evidence(check: CheckResult) -> str:
    """What a failed check leaves for a person: the closest controls on its screen, and
    its screenshot as an attachment; "" when it has neither."""
    shown = ", ".join(f'{role} "{visible(name)}"' for role, name in check.candidates[:5])
    screenshot = check.screenshot
    lines = check_evidence(shown, visible(shown_path(screenshot)) if screenshot else None)
    if screenshot is not None:
        lines.append(visible(attachment(screenshot)))
    return "\n".join(lines)


def write_junit(checks: Sequence[CheckResult], path: Path) -> None:
    """Write `path`: a testsuite "myopenip-smoke" with a testcase per check."""
    suite = ET.Element(
        "testsuite",
        name="myopenip-smoke",
        tests=str(len(checks)),
        failures=str(sum(c.status is Status.FAILED for c in checks)),
        errors=str(sum(c.status is Status.ERROR for c in checks)),
        skipped=str(sum(c.status is Status.SKIPPED for c in checks)),
        time=f"{sum(c.seconds for c in checks):.3f}",
    )
    for check in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"smoke.{check.spec.screen}",
            name=check.spec.key,
            time=f"{check.seconds:.3f}",
        )
        # Texts the portal shows are data: written out visibly (XML cannot hold them raw).
        # The message in the person's language (the names and ids of the cases are not).
        message = visible(check_text(check.message))
        if check.status is Status.FAILED:
            failure = ET.SubElement(case, "failure", message=message, type="drift")
            failure.text = f"{visible(check.id)}\n{message}"
        elif check.status is Status.ERROR:
            error = ET.SubElement(case, "error", message=message, type="not run")
            error.text = f"{visible(check.id)}\n{message}"
        elif check.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=message)
        out = evidence(check) if check.status is Status.FAILED else ""
        if out:
            ET.SubElement(case, "system-out").text = out
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    write_private(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))
