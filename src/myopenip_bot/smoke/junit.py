"""The smoke checks as JUnit XML: one test case per check, classname the screen."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from myopenip_bot.files import write_private
from myopenip_bot.smoke.checks import CheckResult, Status

__all__ = ["write_junit"]


def write_junit(checks: list[CheckResult], path: Path) -> None:
    """Write `path`: a testsuite "myopenip-smoke" with a testcase per check."""
    suite = ET.Element(
        "testsuite",
        name="myopenip-smoke",
        tests=str(len(checks)),
        failures=str(sum(c.status is Status.FAILED for c in checks)),
        skipped=str(sum(c.status is Status.SKIPPED for c in checks)),
        errors="0",
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
        if check.status is Status.FAILED:
            failure = ET.SubElement(case, "failure", message=check.message)
            failure.text = f"{check.id}\n{check.message}"
        elif check.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=check.message)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    write_private(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))
