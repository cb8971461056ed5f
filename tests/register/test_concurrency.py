"""32 real processes record overlapping runs of one project at once: nothing lost or doubled."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gate.models import ScanScope
from tests.conftest import REPO_ROOT
from tests.register.factories import T0, dependency, verdict
from tests.register.test_summary import assert_summary_exact

RUNS, PROCESSES, WINDOW = 16, 32, 40


def _write_runs(directory: Path) -> dict[str, Path]:
    """Run i sees findings i*4 .. i*4+39, at T0 + i hours (partial: no auto-fix)."""
    files = {}
    for i in range(RUNS):
        findings = [dependency(f"pkg{n}", f"CVE-2026-{n}") for n in range(i * 4, i * 4 + WINDOW)]
        run = verdict(findings, run_id=f"run-{i}", at=T0 + timedelta(hours=i),
                      scope=ScanScope.PARTIAL)
        files[run.run_id] = directory / f"run-{i}.json"
        files[run.run_id].write_text(run.model_dump_json())
    return files


def _scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


@pytest.mark.slow
def test_32_processes_record_overlapping_runs(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    files = list(_write_runs(tmp_path).values())
    command = [sys.executable, "-m", "gate", "register", "record", "--database", database_url]
    processes = [
        subprocess.Popen([*command, str(files[i % RUNS])], cwd=REPO_ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(PROCESSES)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [p.returncode for p in processes] == [0] * PROCESSES, outputs
    distinct = (RUNS - 1) * 4 + WINDOW
    assert _scalar(engine, "SELECT count(*) FROM scan_run") == RUNS
    assert _scalar(engine, "SELECT count(*) FROM risk_entry") == distinct
    assert _scalar(engine, "SELECT count(DISTINCT fingerprint) FROM risk_entry") == distinct
    assert _scalar(engine, "SELECT count(*) FROM risk_event WHERE kind = 'opened'") == distinct
    assert sum("already recorded" in out for out, _ in outputs) == PROCESSES - RUNS
    # pkg0 is only in run-0; pkg100 (the last) only in run-15: last seen must match.
    last = "SELECT last_run_id = '{run}' FROM risk_entry WHERE rule_id = '{rule}'"
    assert _scalar(engine, last.format(run="run-0", rule="CVE-2026-0")) == 1
    assert _scalar(engine, last.format(run="run-15", rule=f"CVE-2026-{distinct - 1}")) == 1
    assert _scalar(engine, last.format(run="run-9", rule="CVE-2026-39")) == 1
    assert_summary_exact(engine)  # the trigger-kept counts survived 32 concurrent writers
