"""semgrep's parallelism: one job per usable CPU by default, the policy may set it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from gate.cli import cli
from gate.pipeline import usable_cpus

POLICIES = Path(__file__).resolve().parents[3] / "policies"


def _jobs_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: Path) -> str:
    """Run `gate scan` with a semgrep stand-in that records its argv; return --jobs' value."""
    log = tmp_path / "argv"
    fake = tmp_path / "semgrep"
    fake.write_text(
        f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "{log}"\n'
        "echo '{\"results\": [], \"errors\": [], \"paths\": {\"scanned\": []}}'\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("GATE_SEMGREP_BIN", str(fake))
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    CliRunner().invoke(cli, ["scan", str(project), "--scanner", "semgrep", "--policy",
                             str(policy), "--no-progress"])
    argv = log.read_text().splitlines()
    return argv[argv.index("--jobs") + 1]


def test_jobs_default_to_the_usable_cpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _jobs_passed(tmp_path, monkeypatch, POLICIES / "default.yml") == str(usable_cpus())


def test_policy_sets_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.yml"
    text = (POLICIES / "default.yml").read_text()
    policy.write_text(text.replace("max_target_bytes: 20000000", "max_target_bytes: 20000000\n"
                                   "    jobs: 7", 1))
    assert "jobs: 7" in policy.read_text()
    assert _jobs_passed(tmp_path, monkeypatch, policy) == "7"

