"""`gate register ...` through CliRunner: what a user types and sees, with exit codes."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from gate.cli import cli
from register.models import utc_now
from tests.register.factories import T0, code, example_findings, verdict

Gate = Callable[..., Result]


@pytest.fixture()
def gate(engine: Engine, database_url: str, tmp_path: Path) -> Gate:
    """Run `gate ARGS --database URL` and return the result."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, [*args, "--database", database_url], env={"GATE_ACTOR": "ann"})

    findings = [*example_findings(), code("formula", "x.py", "x", title="=HYPERLINK(\"e\")")]
    for name, run_verdict in (
        ("v1.json", verdict(findings, run_id="cli-1")),
        ("v2.json", verdict(findings[1:], run_id="cli-2", at=T0 + timedelta(days=3))),
    ):
        (tmp_path / name).write_text(run_verdict.model_dump_json())
    return run


def test_record_list_show_and_reports(gate: Gate, tmp_path: Path) -> None:
    recorded = gate("register", "record", str(tmp_path / "v1.json"), str(tmp_path / "v1.json"),
                    str(tmp_path / "v2.json"))
    assert recorded.exit_code == 0, recorded.output
    assert "6 opened" in recorded.output and "already recorded" in recorded.output
    assert "1 fixed" in recorded.output
    listed = gate("register", "list", "--status", "open", "--severity", "critical")
    assert "pyyaml" in listed.output and "1 of 1 entries" in listed.output
    assert "1 of 1 entries" in gate("register", "list", "--status", "fixed").output
    shown = gate("register", "show", "1")
    assert "opened" in shown.output and "fixed" in shown.output and "CVSS 5.4" in shown.output
    mttp = gate("register", "mttp")
    assert mttp.exit_code == 0 and "medium" in mttp.output and "3.0" in mttp.output
    matrix = gate("register", "matrix")
    assert "Almost certain" in matrix.output and "Severe" in matrix.output


def test_triage_commands_and_refusals(gate: Gate, tmp_path: Path) -> None:
    gate("register", "record", str(tmp_path / "v1.json"))
    assert gate("register", "assign", "2", "carol").exit_code == 0
    assert "1 of 1" in gate("register", "list", "--owner", "carol").output
    no_expiry = gate("register", "accept", "2", "--reason", "r", "--approver", "ciso")
    assert no_expiry.exit_code == 3 and "needs an expiry date" in no_expiry.output
    too_far = (utc_now() + timedelta(days=400)).date().isoformat()
    refused = gate("register", "accept", "2", "--reason", "r", "--approver", "c",
                   "--until", too_far)
    assert refused.exit_code == 3 and "beyond the policy maximum" in refused.output
    soon = (utc_now() + timedelta(days=10)).date().isoformat()
    own = gate("register", "accept", "2", "--reason", "r", "--approver", "ann", "--actor", "ann",
               "--until", soon)
    assert own.exit_code == 3 and "four eyes: ann cannot approve their own" in own.output
    accepted = gate("register", "accept", "2", "--reason", "r", "--approver", "c", "--until", soon)
    assert accepted.exit_code == 0
    assert gate("register", "mark-false-positive", "3", "--reason", "test only").exit_code == 0
    assert gate("register", "reopen", "3", "--reason", "reachable after all").exit_code == 0
    events = gate("register", "show", "2").output
    assert "assigned" in events and "accepted" in events and "ann" in events
    assert gate("register", "assign", "999", "x").exit_code == 3


def test_bad_verdict_file_is_exit_3_naming_it(gate: Gate, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"decision": "maybe"}')
    result = gate("register", "record", str(bad))
    assert result.exit_code == 3 and f"{bad}: not a verdict: decision" in result.output


def test_export_csv_keeps_hostile_cells_as_text(gate: Gate, tmp_path: Path) -> None:
    gate("register", "record", str(tmp_path / "v1.json"))
    exported = gate("register", "export", "--csv")
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert len(rows) == 6
    assert {r["title"] for r in rows if r["rule_id"] == "formula"} == {"'=HYPERLINK(\"e\")"}
