"""Run action.yml's steps on this machine the way the GitHub runner runs a composite action.

Each `run:` step becomes a script file run as `bash --noprofile --norc -eo pipefail FILE` (the
runner's `shell: bash`), in the workspace, with the step's `env:` after its `${{ }}`
expressions are evaluated, plus the runner's variables: a fresh `GITHUB_OUTPUT` and
`GITHUB_STEP_SUMMARY` file per step, `GITHUB_ACTION_PATH`, `GITHUB_EVENT_NAME`,
`GITHUB_BASE_REF`, `RUNNER_TEMP`. The first failing step stops the action, as on GitHub.

`uses:` steps (setup-python, cache) are skipped: their outputs are empty, as for a skipped
step. The install step then needs `RISKGATE_VENV` and `GATE_SEMGREP_BIN` in the job
environment (`job_env`) to use the tools already on this machine instead of installing them.

Only the expressions action.yml needs are understood; any other raises, so a new expression
fails the tests instead of silently becoming an empty string.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION_FILE = REPO_ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
STEP_OUTPUT = re.compile(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
INPUT = re.compile(r"inputs\.([A-Za-z0-9_-]+)")
# Variables of the machine running the tests that would leak into the "runner" otherwise.
ISOLATED_PREFIXES = ("GITHUB_", "INPUT_", "GATE_", "RISKGATE_", "RUNNER_")


def load_action(path: Path = ACTION_FILE) -> dict[str, Any]:
    """action.yml as data."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@dataclass(frozen=True)
class StepRun:
    """One executed (or skipped) step."""

    id: str | None
    name: str
    skipped: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass(frozen=True)
class ActionRun:
    """What the whole composite action did."""

    steps: tuple[StepRun, ...]
    outputs: dict[str, str]
    returncode: int
    runner_temp: Path

    @property
    def stdout(self) -> str:
        """Everything the steps printed on stdout (where workflow commands go)."""
        return "".join(step.stdout for step in self.steps)

    @property
    def log(self) -> str:
        """stdout and stderr of every step."""
        return "".join(step.stdout + step.stderr for step in self.steps)

    @property
    def summary(self) -> str:
        """The job summary: every step's summary file, in order."""
        return "".join(step.summary for step in self.steps)

    def step(self, step_id: str) -> StepRun:
        """The step with this id."""
        return next(step for step in self.steps if step.id == step_id)


def parse_output_file(text: str) -> dict[str, str]:
    """Parse `$GITHUB_OUTPUT`: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block: list[str] = []
            for body in lines:
                if body == delimiter:
                    break
                block.append(body)
            else:
                raise ValueError(f"GITHUB_OUTPUT: no closing delimiter for {name}")
            outputs[name] = "\n".join(block)
            continue
        if "=" not in line:
            raise ValueError(f"GITHUB_OUTPUT: invalid line {line!r}")
        name, value = line.split("=", 1)
        outputs[name] = value
    return outputs


@dataclass
class _Context:
    inputs: dict[str, str]
    step_outputs: dict[str, dict[str, str]]
    runner_temp: Path
    event_name: str
    base_ref: str
    action_path: Path
    token: str = ""

    def evaluate(self, expression: str) -> str:
        """The value of one `${{ }}` expression (only the forms action.yml uses)."""
        if match := INPUT.fullmatch(expression):
            return self.inputs[match.group(1)]
        if match := STEP_OUTPUT.fullmatch(expression):
            return self.step_outputs.get(match.group(1), {}).get(match.group(2), "")
        known = {
            "github.action_path": str(self.action_path),
            "runner.temp": str(self.runner_temp),
            "runner.os": "Linux",
            "runner.arch": "X64",
            "github.event_name": self.event_name,
            "github.base_ref": self.base_ref,
            "github.token": self.token,
        }
        if expression in known:
            return known[expression]
        raise ValueError(f"local runner: unsupported expression ${{{{ {expression} }}}}")

    def substitute(self, text: str) -> str:
        """Replace every `${{ }}` in `text`."""
        return EXPRESSION.sub(lambda match: self.evaluate(match.group(1)), str(text))


def _declared_inputs(action: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    declared = action.get("inputs") or {}
    unknown = set(given) - set(declared)
    if unknown:
        raise ValueError(f"inputs not declared in action.yml: {sorted(unknown)}")
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    return values | given


def _base_env(context: _Context, *, workspace: Path, job_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    env.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_ACTION_PATH=str(context.action_path),
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_EVENT_NAME=context.event_name,
        GITHUB_BASE_REF=context.base_ref,
        RUNNER_TEMP=str(context.runner_temp),
        RUNNER_OS="Linux",
    )
    env.update(job_env)
    return env


def _run_step(
    step: dict[str, Any], *, index: int, env: dict[str, str], context: _Context, workspace: Path
) -> StepRun:
    step_dir = Path(tempfile.mkdtemp(prefix=f"_step{index}-", dir=context.runner_temp))
    script = step_dir / "script.sh"
    script.write_text(step["run"], encoding="utf-8")
    output_file, summary_file = step_dir / "output", step_dir / "summary"
    output_file.touch()
    summary_file.touch()
    step_env = {name: context.substitute(value) for name, value in (step.get("env") or {}).items()}
    full_env = env | step_env | {
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "GITHUB_ENV": str(step_dir / "env"),
        "GITHUB_PATH": str(step_dir / "path"),
    }
    assert step.get("shell") == "bash", f"step {step.get('name')} must say shell: bash"
    completed = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workspace / step.get("working-directory", "."),
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    return StepRun(
        id=step.get("id"),
        name=step.get("name", ""),
        skipped=False,
        returncode=completed.returncode,
        stdout=completed.stdout,
        stderr=completed.stderr,
        outputs=parse_output_file(output_file.read_text(encoding="utf-8")),
        summary=summary_file.read_text(encoding="utf-8"),
    )


def run_action(
    *,
    workspace: Path,
    runner_temp: Path,
    inputs: dict[str, str] | None = None,
    event_name: str = "push",
    base_ref: str = "",
    job_env: dict[str, str] | None = None,
    action_path: Path = REPO_ROOT,
    token: str = "",
) -> ActionRun:
    """Run the action at `action_path` in `workspace`; returns each step's result and outputs."""
    action = load_action(action_path / "action.yml")
    context = _Context(
        inputs=_declared_inputs(action, inputs or {}),
        step_outputs={},
        runner_temp=runner_temp,
        event_name=event_name,
        base_ref=base_ref,
        action_path=action_path,
        token=token,
    )
    # A default may be an expression (`${{ github.token }}`), evaluated as the runner does;
    # a value the workflow gives is data.
    context.inputs = {name: value if name in (inputs or {}) else context.substitute(value)
                      for name, value in context.inputs.items()}
    env = _base_env(context, workspace=workspace, job_env=job_env or {})
    steps: list[StepRun] = []
    returncode = 0
    for index, step in enumerate(action["runs"]["steps"]):
        if "uses" in step:
            steps.append(StepRun(id=step.get("id"), name=step.get("name", ""), skipped=True))
            continue
        result = _run_step(step, index=index, env=env, context=context, workspace=workspace)
        steps.append(result)
        if result.id:
            context.step_outputs[result.id] = result.outputs
        if result.returncode != 0:
            returncode = result.returncode
            break
    outputs = {
        name: context.substitute(spec["value"])
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionRun(
        steps=tuple(steps), outputs=outputs, returncode=returncode, runner_temp=runner_temp
    )
