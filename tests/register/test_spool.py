"""A database that is down or read-only spools the run; `gate register replay` records it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.cli import cli
from gate.recording_sink import record_verdict
from gate.spool import pending
from register import queries
from register.db import make_engine, upgrade
from tests.register.factories import T0, example_findings, verdict

CLOSED_PORT_URL = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test"


def _replay(spool_dir: Path, url: str) -> str:
    result = CliRunner().invoke(
        cli, ["register", "replay", "--spool-dir", str(spool_dir), "--database", url]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _open_entries(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        count = queries.list_entries(session, status="open")[1]
    engine.dispose()
    return count


def test_closed_port_spools_without_the_password_then_replay_records(tmp_path: Path) -> None:
    run = verdict(example_findings(), run_id="spooled-1")
    outcome = record_verdict(run, database_url=CLOSED_PORT_URL, spool_dir=tmp_path / "spool")
    assert not outcome.recorded and outcome.spooled_to is not None
    assert "spooled to" in outcome.message
    text = outcome.spooled_to.read_text()
    assert "s3cret" not in text and json.loads(text)["verdict"]["run_id"] == "spooled-1"
    good = f"sqlite:///{tmp_path / 'register.db'}"
    upgrade(good)
    assert "5 opened" in _replay(tmp_path / "spool", good)
    assert pending(tmp_path / "spool") == [] and _open_entries(good) == 5
    assert _replay(tmp_path / "spool", good).strip() == "nothing to replay"


def test_read_only_sqlite_file_spools_and_replay_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "register.db"
    upgrade(f"sqlite:///{db}")
    read_only = f"sqlite:///file:{db}?mode=ro&uri=true"
    spool = tmp_path / "spool"
    for _ in range(2):  # the same run spooled twice (e.g. a retried CI job)
        outcome = record_verdict(verdict(example_findings(), run_id="ro-1"),
                                 database_url=read_only, spool_dir=spool)
        assert not outcome.recorded and "readonly" in outcome.message.replace("-", "")
    assert len(pending(spool)) == 1
    record_verdict(verdict(example_findings()[:2], run_id="ro-2"), database_url=read_only,
                   spool_dir=spool)
    output = _replay(spool, f"sqlite:///{db}")
    assert "5 opened" in output and output.count("run ro-") == 2
    assert _open_entries(f"sqlite:///{db}") == 5


def test_out_of_date_schema_spools_too(tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    outcome = record_verdict(verdict([], run_id="x"), database_url=empty, spool_dir=tmp_path)
    assert not outcome.recorded and "gate db upgrade" in outcome.message


def test_register_record_with_the_database_down_exits_2_in_one_line_and_spools(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    files = []
    for number, findings in enumerate((example_findings(), example_findings()[2:]), start=1):
        path = tmp_path / f"run{number}.json"
        path.write_text(verdict(findings, run_id=f"down-{number}", at=T0 + timedelta(days=number))
                        .model_dump_json())
        files.append(str(path))
    spool = tmp_path / "spool"
    env = {**os.environ, "GATE_SPOOL_DIR": str(spool), "GATE_DATABASE_URL": CLOSED_PORT_URL}
    down = subprocess.run([sys.executable, "-m", "gate", "register", "record", *files],
                          capture_output=True, text=True, env=env, timeout=60, check=False)

    assert down.returncode == 2, down.stderr
    assert len(down.stderr.strip().splitlines()) == 1, down.stderr
    assert "unavailable" in down.stderr and "2 run(s) not recorded were spooled" in down.stderr
    assert "s3cret" not in down.stderr and "Traceback" not in down.stderr
    assert len(pending(spool)) == 2

    replayed = _replay(spool, database_url)
    assert "5 opened" in replayed and "2 fixed" in replayed
    assert pending(spool) == [] and _open_entries(database_url) == 3
