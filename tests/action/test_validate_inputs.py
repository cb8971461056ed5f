"""The action's input checks, run locally: the validation script of its first step, and
`extra-args` parsed by `gate scan`'s own options (run-gate.sh's `check-args`).

A bad input fails the step with exit 3 whatever `fail-on-error` says.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gate.action_inputs import ActionInputError, check_extra_args
from tests.action.local_runner import REPO_ROOT, load_action

PYTHON = "input python-version"
SCRIPT = REPO_ROOT / "scripts" / "action" / "validate-inputs.sh"
GOOD = {
    "INPUT_PATH": "app", "INPUT_POLICY": "", "INPUT_ADVISORIES": "", "INPUT_SARIF_FILE":
    "riskgate.sarif", "INPUT_UPLOAD_URL": "", "INPUT_TOKEN": "", "INPUT_FAIL_ON_ERROR": "false",
    "INPUT_COMMENT": "false", "INPUT_PYTHON_VERSION": "3.12",
}


def _validate(workspace: Path, **changes: str) -> subprocess.CompletedProcess[str]:
    (workspace / "app").mkdir(exist_ok=True)
    (workspace / "policy.yml").write_text("version: 1\n")
    env = {"PATH": "/usr/bin:/bin"} | GOOD | changes
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(SCRIPT)],
                          cwd=workspace, env=env, capture_output=True, text=True, check=False)


def test_good_inputs_pass(tmp_path: Path) -> None:
    result = _validate(tmp_path, INPUT_POLICY="policy.yml", INPUT_PYTHON_VERSION="3.13.1",
                       INPUT_UPLOAD_URL="https://risk.example.com", INPUT_TOKEN="t",
                       INPUT_COMMENT="TRUE")
    assert result.returncode == 0, result.stdout
    assert result.stdout == "riskgate: inputs checked\n"


@pytest.mark.parametrize(("changes", "message"), [
    ({"INPUT_FAIL_ON_ERROR": "maybe"}, "input fail-on-error: expected true or false, got 'maybe'"),
    ({"INPUT_COMMENT": "sticky"}, "input comment: expected true or false"),
    ({"INPUT_PATH": "ap"}, "input path: 'ap' is not a directory in the workspace"),
    ({"INPUT_POLICY": "riskgate.yaml"}, "input policy: 'riskgate.yaml' is not a file"),
    ({"INPUT_ADVISORIES": "osv"}, "input advisories: 'osv' does not exist"),
    ({"INPUT_PYTHON_VERSION": "3.10"}, f"{PYTHON}: riskgate needs Python 3.11 or later, got '3.10"),
    ({"INPUT_PYTHON_VERSION": "2.7.18"}, f"{PYTHON}: riskgate needs Python 3.11 or later"),
    ({"INPUT_PYTHON_VERSION": "3.12; rm -rf /"}, "input python-version: not a Python version"),
    ({"INPUT_UPLOAD_URL": "risk.example.com"}, "input upload-url: expected an http(s):// URL"),
    ({"INPUT_UPLOAD_URL": "https://risk.example.com"}, "input token: upload-url is set but"),
    ({"INPUT_SARIF_FILE": ""}, "input sarif-file: must not be empty"),
    ({"INPUT_SARIF_FILE": "app"}, "input sarif-file: 'app' is a directory"),
])
def test_each_bad_input_fails_the_step_even_without_fail_on_error(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    result = _validate(tmp_path, **changes)
    assert result.returncode == 3
    assert f"::error::riskgate: {message}" in result.stdout
    assert result.stdout.rstrip().endswith("fail-on-error does not apply to inputs")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    result = _validate(tmp_path, INPUT_PATH="nope", INPUT_FAIL_ON_ERROR="ja",
                       INPUT_PYTHON_VERSION="3.9")
    assert result.returncode == 3
    assert result.stdout.count("::error::") == 4  # three inputs and the closing line


def test_input_text_cannot_start_a_workflow_command(tmp_path: Path) -> None:
    result = _validate(tmp_path, INPUT_PATH="x\n::add-mask::oops\n%0A")
    assert result.returncode == 3
    assert "\n::add-mask::" not in result.stdout
    assert "%0A::add-mask::oops%0A%250A" in result.stdout


def test_the_validation_step_comes_first_and_is_given_what_it_reads() -> None:
    steps = load_action()["runs"]["steps"]
    first = steps[0]
    assert first["run"] == 'bash "$GITHUB_ACTION_PATH/scripts/action/validate-inputs.sh"'
    read = {word for word in SCRIPT.read_text().split("${")[1:] for word in [word.split(":")[0]
            .split("}")[0].split("-")[0]] if word.startswith("INPUT_")}
    assert read == set(first["env"]) == set(GOOD)


@pytest.mark.parametrize(("text", "expected"), [
    ("--kev kev.json --timeout 600", ["--kev", "kev.json", "--timeout", "600"]),
    ("--fail-on high -v", ["--fail-on", "high", "-v"]),
    ("--project 'my shop' --scanner semgrep", ["--project", "my shop", "--scanner", "semgrep"]),
])
def test_valid_extra_args_pass_unchanged(text: str, expected: list[str]) -> None:
    assert check_extra_args(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("--fail-onn high", "No such option '--fail-onn'. Did you mean '--fail-on'?"),
    ("--fail-on hihg", "'hihg' is not one of"),
    ("--timeout soon", "'soon' is not a valid float"),
    ("--timeout -5", "--timeout"),
    ("--scanner bandit", "'bandit' is not one of"),
    ("--kev", "requires an argument"),
    ("other-dir", "PATH is not allowed here: use the path input"),
    ("--sarif x.sarif", "--sarif is not allowed here: use the sarif-file input"),
    ("--json=v.json", "--json is not allowed here"),
    ("--token abc", "--token is not allowed here: use the token input"),
    ("--policy p.yml", "--policy is not allowed here: use the policy input"),
    ("--help", "--help and --version run no scan"),
    ("--project 'open", "cannot split"),
])
def test_bad_extra_args_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(ActionInputError, match="^input extra-args: ") as caught:
        check_extra_args(text)
    assert message in str(caught.value)


def test_check_args_command_prints_the_error_as_a_workflow_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gate.action_outputs", "check-args", "--", "--fail-onn high"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 3
    assert result.stdout.startswith("::error::riskgate: input extra-args: No such option")
