"""Stable identity end to end: real semgrep, a real register. Editing the matched line in
place, moving it within its function, re-indenting it keep the entry (and its acceptance);
identical matches on different lines are distinct entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlmodel import Session

from gate.cli import cli
from register import triage
from register.db import make_engine

SERVER = '''"""A tiny service."""


def serve(app, debug):
    app.run(host="0.0.0.0", debug=debug)


def helper(sock):
    sock.bind(("0.0.0.0", 9000))
    sock.bind(("0.0.0.0", 9000))
'''
RULE = "python-bind-all-interfaces"
POLICY = "version: 1\nname: all-block\nrules:\n  - {name: block-all, action: block}\n"


def gate(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def record(project: Path, database: str) -> Result:
    result = gate("scan", str(project), "--scanner", "semgrep", "--project", "svc", "--record",
                  "--policy", str(project.parent / "policy.yml"),
                  "--database", database, "--no-progress", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result


def entries(database: str) -> list[tuple[int, str, int, str]]:
    engine = make_engine(database)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT id, status, start_line, fingerprint FROM risk_entry "
            "WHERE rule_id = :rule ORDER BY start_line, id"), {"rule": RULE}).all()
    engine.dispose()
    return [(int(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]


def events(database: str, entry_id: int) -> list[str]:
    engine = make_engine(database)
    with engine.connect() as connection:
        kinds = connection.execute(sa.text(
            "SELECT kind FROM risk_event WHERE entry_id = :e ORDER BY id"), {"e": entry_id})
        found = [str(k[0]) for k in kinds]
    engine.dispose()
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_edits_moves_and_reindents_keep_the_entry(
    tmp_path: Path, database_url: str, semgrep_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATE_SPOOL_DIR", str(tmp_path / "spool"))
    project = tmp_path / "svc"
    project.mkdir()
    source = project / "server.py"
    source.write_text(SERVER)
    (tmp_path / "policy.yml").write_text(POLICY)
    assert gate("db", "upgrade", "--database", database_url).exit_code == 0
    record(project, database_url)
    first = entries(database_url)
    assert [(status, line) for _, status, line, _ in first] == [
        ("open", 5), ("open", 9), ("open", 10)], "identical binds on two lines: two entries"
    bind_id = first[0][0]
    engine = make_engine(database_url)
    with Session(engine) as session, session.begin():
        triage.accept(session, entry_id=bind_id, reason="behind the VPN", approver="ciso",
                      actor="dev", until=datetime.now(UTC).date() + timedelta(days=30))
    engine.dispose()

    steps = [
        ('app.run(host="0.0.0.0", debug=debug)', 'app.run(host="0.0.0.0", debug=False)'),
        ('    app.run(host="0.0.0.0", debug=False)',
         '    port = 8080\n    app.run(host="0.0.0.0", debug=False, port=port)'),
        ('    app.run(host="0.0.0.0", debug=False, port=port)',
         '    app.run(\n        host="0.0.0.0",\n        debug=False,\n        port=port,\n    )'),
    ]
    for old, new in steps:
        source.write_text(source.read_text().replace(old, new))
        gated = gate("scan", str(project), "--scanner", "semgrep", "--project", "svc",
                     "--policy", str(project.parent / "policy.yml"),
                     "--database", database_url, "--no-progress", "--format", "json")
        bind = next(f for f in json.loads(gated.stdout)["findings"]
                    if f["finding"]["rule_id"] == RULE and "app.run" in f["finding"]["snippet"])
        assert bind["action"] == "ignore", bind["reason"]
        assert "code edited since the decision" in bind["reason"]
        verdict = record(project, database_url)
        now = entries(database_url)
        assert sorted(e[0] for e in now) == sorted(e[0] for e in first), (new, verdict.output)
        assert now[0][:2] == (bind_id, "accepted")
    assert events(database_url, bind_id).count("code_edited") == 3
    assert entries(database_url)[0][2] == 6, "the entry follows the code to its new line"

    source.write_text(source.read_text().replace("def serve(app, debug):",
                                                 "def serve(app, debug):\n    pass"))
    record(project, database_url)
    assert len(entries(database_url)) == 3, "a move keeps the fingerprint itself"
