"""The CI templates of docs/ci/: complete (a GitHub workflow with `on:` and `jobs:` that
publishes the JUnit report and uploads the run folder; a GitLab job with its JUnit
report and paths), checked by `make lint`, and shown word for word in docs/qa.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / "docs" / "ci" / "github-smoke.yml"
GITLAB = ROOT / "docs" / "ci" / "gitlab-smoke.yml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_github_workflow_runs_publishes_the_junit_report_and_uploads_the_run_folder() -> None:
    workflow = load(GITHUB)
    assert workflow.get(True) or workflow.get("on")  # YAML 1.1 reads `on` as True
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert "actions/checkout" in uses
    assert "mikepenz/action-junit-report" in uses
    assert "actions/upload-artifact" in uses
    run = " ".join(step.get("run", "") for step in steps)
    assert "--junit-xml smoke.xml" in run
    (report,) = [s for s in steps if s.get("uses", "").startswith("mikepenz/")]
    assert report["with"]["report_paths"] == "smoke.xml"
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert "traces/" in upload["with"]["path"].split()
    assert all(s.get("if") == "${{ !cancelled() }}" for s in (report, upload))


def test_the_gitlab_job_keeps_its_junit_report_and_the_run_folder() -> None:
    job = load(GITLAB)["smoke"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "smoke.xml"
    assert "traces/" in job["artifacts"]["paths"]
    assert job["variables"]["MYOPENIP_TRACES_DIR"] == "traces"  # relative attachments
    assert any("--junit-xml smoke.xml" in line for line in job["script"])


@pytest.mark.parametrize("template", [GITHUB, GITLAB], ids=lambda p: p.name)
def test_docs_qa_shows_each_template_word_for_word(template: Path) -> None:
    page = (ROOT / "docs" / "qa.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", page, re.S)
    assert template.read_text(encoding="utf-8") in blocks
    assert f"(ci/{template.name})" in page


def test_make_lint_runs_actionlint_on_the_github_workflow() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "./scripts/actionlint.sh docs/ci/github-smoke.yml" in lint


def test_actionlint_passes_the_workflow_and_fails_one_without_its_triggers(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        GITHUB.read_text(encoding="utf-8").replace("\non:", "\nnot_on:", 1), encoding="utf-8"
    )
    script = ROOT / "scripts" / "actionlint.sh"

    good = subprocess.run([script, GITHUB], capture_output=True, text=True, timeout=300)
    bad = subprocess.run([script, broken], capture_output=True, text=True, timeout=300)

    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert '"on" section is missing' in bad.stdout
