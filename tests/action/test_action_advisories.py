"""The action without `advisories`: it syncs OSV's export, KEV and EPSS, and the gate uses them.

The download URLs point at a loopback server of fixture feeds; the cache step (`uses:`) is
skipped by the local runner, so this is a cold cache: the sync downloads everything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.action.local_runner import run_action
from tests.conftest import require
from tests.gate.advisories.feed_service import fixture_feeds, serve_feeds, sync_urls

pytestmark = [pytest.mark.semgrep, pytest.mark.slow]


def test_action_syncs_advisory_data_and_scans_with_it(tmp_path: Path, semgrep_bin: str) -> None:
    venv = Path(sys.prefix)
    require((venv / "bin" / "gate").is_file(), f"riskgate is not installed in {venv}")
    workspace = tmp_path / "workspace"
    (workspace / "app").mkdir(parents=True)
    (workspace / "app" / "requirements.txt").write_text("alias-pkg==1.2.0\n", encoding="utf-8")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    with serve_feeds(fixture_feeds()) as base:
        run = run_action(
            workspace=workspace, runner_temp=runner_temp, inputs={"path": "app"},
            job_env={"RISKGATE_VENV": str(venv), "GATE_SEMGREP_BIN": semgrep_bin,
                     **sync_urls(base)},
        )
    sync_step = next(step for step in run.steps if step.name == "Sync the advisory data")
    assert sync_step.returncode == 0, sync_step.stdout + sync_step.stderr
    assert "osv: updated" in sync_step.stdout
    synced = runner_temp / "riskgate-advisories"
    assert (synced / "osv-pypi.zip").is_file() and (synced / "osv-pypi.zip.meta.json").is_file()
    verdict = json.loads((runner_temp / "riskgate" / "verdict.json").read_text(encoding="utf-8"))
    assert verdict["advisories"]["kind"] == "synced"
    assert verdict["advisories"]["location"] == str(synced / "osv-pypi.zip")
    severities = sorted(item["finding"]["severity"] for item in verdict["findings"])
    assert severities == ["critical", "high", "unknown"]
    assert run.outputs["verdict"] == "block"
