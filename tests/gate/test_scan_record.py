"""The register's user story through `gate scan --record`, as the README tells a user to run it.

Record the example twice, fix one pin, record again: the entry is fixed and MTTP is computed.
Also: a database that cannot take the run spools it, the gate keeps its verdict, replay records.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gate.cli import cli
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "vulnerable-app"
ADVISORIES = REPO_ROOT / "examples" / "advisories"


def gate(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    copy = tmp_path / "payments-api"
    shutil.copytree(EXAMPLE, copy)
    return copy


def scan_and_record(app: Path, database: str, spool: Path) -> Result:
    return gate(
        "scan", str(app), "--advisories", str(ADVISORIES), "--scanner", "pip-audit",
        "--scanner", "semgrep", "--record", "--database", database, "--no-progress",
        "--format", "json",
    )


def test_fixing_a_pin_marks_the_entry_fixed_and_feeds_mttp(
    app: Path, tmp_path: Path, semgrep_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{tmp_path / 'register.db'}"
    spool = tmp_path / "spool"
    monkeypatch.setenv("GATE_SPOOL_DIR", str(spool))
    assert gate("db", "upgrade", "--database", database).exit_code == 0

    first = scan_and_record(app, database, spool)
    assert first.exit_code == 1
    second = scan_and_record(app, database, spool)
    assert second.exit_code == 1
    assert "0 opened" in second.output, "the same findings are seen again, not duplicated"
    listed = gate("register", "list", "--database", database, "--status", "open")
    assert "salt" in listed.output

    requirements = app / "requirements.txt"
    requirements.write_text(requirements.read_text().replace("jinja2==2.10", "jinja2==3.1.4"))
    scan_and_record(app, database, spool)

    fixed = gate("register", "list", "--database", database, "--status", "fixed")
    assert "jinja2" in fixed.output
    assert "salt" not in fixed.output
    mttp = gate("register", "mttp", "--database", database)
    assert mttp.exit_code == 0
    assert "high" in mttp.output.lower() or "unknown" in mttp.output.lower()
    assert not list(spool.glob("*.json")), "nothing was spooled"


def test_unreachable_database_spools_and_keeps_the_verdict(
    app: Path, tmp_path: Path, semgrep_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    monkeypatch.setenv("GATE_SPOOL_DIR", str(spool))
    closed_port = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
    result = scan_and_record(app, closed_port, spool)
    assert result.exit_code == 1, "the gate still decides and exits with its verdict"
    assert "spooled" in result.output
    spooled = list(spool.glob("*.json"))
    assert len(spooled) == 1
    run_id = json.loads(result.stdout)["run_id"]

    database = f"sqlite:///{tmp_path / 'register.db'}"
    assert gate("db", "upgrade", "--database", database).exit_code == 0
    replayed = gate("register", "replay", "--database", database, "--spool-dir", str(spool))
    assert replayed.exit_code == 0, replayed.output
    assert not list(spool.glob("*.json"))
    listed = gate("register", "list", "--database", database)
    assert "salt" in listed.output
    again = gate("register", "replay", "--database", database, "--spool-dir", str(spool))
    assert "nothing to replay" in again.output
    assert run_id
