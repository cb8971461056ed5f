"""The install step for real: riskgate pip-installed from the action's own checkout into a venv.

This is what a GitHub runner does on a cache miss, minus semgrep (its venv is the same recipe
and takes minutes, so `GATE_SEMGREP_BIN` points at this machine's semgrep). It needs PyPI
(pip's cache makes it about half a minute). The installed riskgate is not editable: the run
afterwards proves that it finds its policies and semgrep rules through the action's
`GATE_POLICIES_DIR`, not through the source tree it was built from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.action.local_runner import REPO_ROOT, ActionRun, run_action

pytestmark = [pytest.mark.slow, pytest.mark.semgrep]
ACTION_PARTS = ("action.yml", "pyproject.toml", "README.md", "gate", "register", "policies",
                "scripts")


def _copy_action(destination: Path) -> Path:
    """The action as `uses: your-org/riskgate@v1` checks it out: a directory of its own."""
    destination.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ACTION_PARTS:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, destination / name)
    return destination


def test_install_step_installs_riskgate_once_and_the_gate_runs(
    tmp_path: Path, semgrep_bin: str
) -> None:
    action_path = _copy_action(tmp_path / "action")
    workspace = tmp_path / "workspace"
    shutil.copytree(REPO_ROOT / "examples" / "clean-app", workspace / "app")
    shutil.copytree(REPO_ROOT / "examples" / "advisories", workspace / "advisories")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()

    def run() -> ActionRun:
        return run_action(
            workspace=workspace,
            runner_temp=runner_temp,
            inputs={"path": "app", "advisories": "advisories"},
            job_env={"GATE_SEMGREP_BIN": semgrep_bin},
            action_path=action_path,
        )

    first = run()
    install = first.step("install")
    assert install.returncode == 0, install.stdout + install.stderr
    assert "installing riskgate" in install.stdout
    venv_gate = runner_temp / "riskgate-tools" / "gate" / "bin" / "gate"
    assert install.outputs["gate"] == str(venv_gate)
    assert venv_gate.is_file()
    assert first.returncode == 0, first.log
    assert first.outputs["verdict"] in {"pass", "warn"}

    second = run()  # what a cache hit restores: the venv is reused, nothing installed
    assert "installing riskgate" not in second.step("install").stdout
