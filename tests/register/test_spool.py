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
from gate.models import Finding, Severity
from gate.recording_sink import record_verdict
from gate.spool import pending, spool_name
from register import queries
from register.db import make_engine, upgrade
from register.verdict_stream import BATCH
from tests.register.factories import T0, dependency, example_findings, verdict

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


def _many_findings(count: int) -> list[Finding]:
    """`count` distinct dependency findings: more than one batch of the streamed reader."""
    return [dependency(f"package-{n}", f"CVE-2026-{n:05d}", severity=Severity.HIGH)
            for n in range(count)]


def _record_while_down(files: list[Path], spool: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATE_SPOOL_DIR": str(spool), "GATE_DATABASE_URL": CLOSED_PORT_URL}
    return subprocess.run([sys.executable, "-m", "gate", "register", "record",
                           *map(str, files)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


def _replay_all(spool: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gate", "register", "replay", "--spool-dir",
                           str(spool), "--database", url],
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_verdict_file_is_spooled_as_its_text_and_replayed_as_a_stream(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    path = tmp_path / "big.json"
    text = json.dumps(verdict(_many_findings(BATCH * 2 + 5), run_id="big-1")
                      .model_dump(mode="json"), indent=1)  # as a person might keep it
    path.write_text(text, encoding="utf-8")
    spool = tmp_path / "spool"

    down = _record_while_down([path], spool)
    assert down.returncode == 2, down.stderr
    [spooled] = pending(spool)
    stored = spooled.read_text(encoding="utf-8")
    assert stored.endswith(f'"verdict": {text}}}'), "the file's text is spooled as it is"
    envelope = json.loads(stored)
    assert (envelope["spool_version"], envelope["kind"]) == (1, "database")
    assert "s3cret" not in stored and "unavailable" in envelope["reason"]

    replayed = _replay_all(spool, database_url)
    assert replayed.returncode == 0, replayed.stderr
    assert f"{BATCH * 2 + 5} opened" in replayed.stdout
    assert pending(spool) == [] and _open_entries(database_url) == BATCH * 2 + 5


def test_spool_files_of_earlier_versions_and_any_field_order_replay(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    earlier = {  # as riskgate wrote it before: `json.dump` of the whole document
        "spool_version": 1, "kind": "database", "destination": "sqlite:///x.db",
        "reason": "down", "spooled_at": "2026-01-05T09:00:00+00:00",
        "verdict": verdict(example_findings(), run_id="old-1").model_dump(mode="json"),
    }
    (spool / "database-old-1.json").write_text(json.dumps(earlier))
    reordered = {"verdict": verdict(example_findings()[:2], run_id="old-2",
                                    at=T0 + timedelta(days=1)).model_dump(mode="json"),
                 "kind": "database", "spool_version": 1}
    later = spool / "database-old-2.json"
    later.write_text(json.dumps(reordered, indent=2))
    os.utime(later, (later.stat().st_atime, later.stat().st_mtime + 5))  # replayed second

    replayed = _replay_all(spool, database_url)
    assert replayed.returncode == 0, replayed.stderr
    assert "run old-1" in replayed.stdout and "3 fixed" in replayed.stdout
    assert pending(spool) == [] and _open_entries(database_url) == 2


def test_a_bad_verdict_file_is_refused_not_spooled_while_the_database_is_down(
    tmp_path: Path,
) -> None:
    document = verdict(_many_findings(BATCH + 10), run_id="bad-1").model_dump(mode="json")
    document["findings"][BATCH + 3]["finding"]["severity"] = "apocalyptic"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    spool = tmp_path / "spool"

    down = _record_while_down([path], spool)
    assert down.returncode == 3, down.stderr
    assert len(down.stderr.strip().splitlines()) == 1, down.stderr
    assert f"{path}: not a verdict: findings.{BATCH + 3}.finding.severity" in down.stderr
    assert pending(spool) == []


def test_damaged_spool_files_are_set_aside_with_the_place_and_the_others_replayed(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    good = verdict(example_findings(), run_id="good-1").model_dump(mode="json")
    bad_finding = verdict(_many_findings(BATCH + 2), run_id="bad-1").model_dump(mode="json")
    bad_finding["findings"][BATCH + 1]["action"] = "shrug"
    broken = json.dumps({"kind": "database", "verdict": good}).replace('"reason"', '"reason', 1)
    damaged = {
        "database-a.json": json.dumps({"kind": "database", "verdict": bad_finding}),
        "database-b.json": json.dumps({"kind": "database"}),
        "database-c.json": json.dumps({"verdict": good, "verdict ": 1})[:-1] + ', "verdict": {}}',
        "database-d.json": broken,
        "database-e.json": "[]",
    }
    for name, text in damaged.items():
        (spool / name).write_text(text)
    (spool / "database-z.json").write_text(json.dumps({"kind": "database", "verdict": good}))

    replayed = _replay_all(spool, database_url)
    assert replayed.returncode == 2, replayed.stderr
    assert replayed.stdout.startswith("database-z.json: run good-1")
    assert _open_entries(database_url) == 5
    errors = replayed.stderr.splitlines()
    assert len(errors) == len(damaged) + 1 and "Traceback" not in replayed.stderr
    assert "set aside" in errors[-1]
    expected = {
        "database-a.json": f"not a verdict: findings.{BATCH + 1}.action",
        "database-b.json": "no field 'verdict'",
        "database-c.json": "a second field 'verdict'",
        "database-d.json": "not valid JSON at line 1",
        "database-e.json": "expected '{'",
    }
    for name, problem in expected.items():
        [line] = [line for line in errors if f"{spool / name}: unreadable spool file" in line]
        assert problem in line, line
        assert f"moved to {spool / 'damaged' / name}" in line
        assert (spool / "damaged" / name).is_file()
    assert pending(spool) == []


def test_a_run_id_that_is_no_file_name_is_spooled_inside_the_spool(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    hostile = "../../outside/run"
    spool = tmp_path / "a" / "b" / "spool"
    outcome = record_verdict(verdict(example_findings(), run_id=hostile),
                             database_url=CLOSED_PORT_URL, spool_dir=spool)
    assert outcome.spooled_to is not None and outcome.spooled_to.parent == spool
    assert not (tmp_path / "a" / "outside").exists()
    assert spool_name("database", hostile) != spool_name("database", "../../outside/run2")
    replayed = _replay_all(spool, database_url)
    assert replayed.returncode == 0, replayed.stderr
    assert f"run {hostile}" in replayed.stdout
