"""End to end: a blocked run; the risk is accepted in the register; the next `gate scan`
passes and says why in every report; after the acceptance's last day it blocks again.

Real scanners (pip-audit on the example's pins, offline advisories), a real register
database (SQLite and PostgreSQL) read with `--database`.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlmodel import Session

from gate.cli import cli
from register import triage
from register.db import make_engine
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "vulnerable-app"
ADVISORIES = REPO_ROOT / "examples" / "advisories"
POLICY = """version: 1
name: decisions-e2e
rules:
  - {name: block-everything, action: block}
decisions: {max_severity: critical}
"""


def gate(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    copy = tmp_path / "payments-api"
    shutil.copytree(EXAMPLE, copy)
    (copy / "policy.yml").write_text(POLICY)
    return copy


def scan(app: Path, database: str, *extra: str) -> Result:
    return gate(
        "scan", str(app), "--policy", str(app / "policy.yml"), "--advisories", str(ADVISORIES),
        "--scanner", "pip-audit", "--project", "payments", "--database", database,
        "--no-progress", *extra,
    )


def accept_everything_open(database: str, *, days: int) -> int:
    engine = make_engine(database)
    try:
        with Session(engine) as session, session.begin():
            ids = session.execute(sa.text("SELECT id FROM risk_entry WHERE status = 'open'"))
            result = triage.bulk(
                session, entry_ids=[row[0] for row in ids], action="accept", actor="dev",
                approver="ciso", reason="upgrade planned in sprint 12",
                until=datetime.now(UTC).date() + timedelta(days=days),
            )
    finally:
        engine.dispose()
    return len(result.changed)


def let_acceptances_lapse(database: str) -> None:
    """Time passes: every acceptance's last day becomes yesterday."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    engine = make_engine(database)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE risk_entry SET accepted_until = :d "
                                   "WHERE status = 'accepted'"), {"d": yesterday})
        connection.execute(sa.text("UPDATE risk_acceptance SET expires_on = :d"), {"d": yesterday})
    engine.dispose()


@pytest.mark.shared
def test_accepting_in_the_register_unblocks_until_the_acceptance_lapses(
    app: Path, database_url: str, tmp_path: Path, shared_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATE_SPOOL_DIR", str(tmp_path / "spool"))
    assert gate("db", "upgrade", "--database", database_url).exit_code == 0
    blocked = scan(app, database_url, "--record")
    assert blocked.exit_code == 1, blocked.output
    assert "triage decisions: 0 decisions from register database" in blocked.output

    accepted = accept_everything_open(database_url, days=30)
    assert accepted >= 5
    sarif, junit, markdown = tmp_path / "r.sarif", tmp_path / "r.xml", tmp_path / "r.md"
    annotations = tmp_path / "annotations.txt"
    passed = scan(app, database_url, "--sarif", str(sarif), "--junit", str(junit),
                  "--markdown", str(markdown), "--json", str(tmp_path / "r.json"),
                  "--github-annotations", str(annotations), "-v")
    assert passed.exit_code == 0, passed.output
    why = "accepted in the register until"
    assert f"{accepted} decisions from register database" in passed.output
    assert f"{accepted} findings not blocking by triage decisions" in passed.output
    assert why in passed.output and "approved by ciso" in passed.output
    assert why in markdown.read_text() and why in junit.read_text()
    assert 'name="triage.decisions"' in junit.read_text()
    assert f"{accepted} findings not blocking by triage decisions" in annotations.read_text()
    verdict = json.loads((tmp_path / "r.json").read_text())
    assert {f["action"] for f in verdict["findings"]} == {"ignore"}
    assert all(f["triage"]["by"] == "ciso" for f in verdict["findings"])
    document = json.loads(sarif.read_text())
    schema = json.loads((shared_dir / "data/sarif/sarif-schema-2.1.0.json").read_text())
    assert list(jsonschema.Draft7Validator(schema).iter_errors(document)) == []
    suppressions = [r["suppressions"] for run in document["runs"] for r in run["results"]]
    assert len(suppressions) == accepted
    assert all(why in s[0]["justification"] for s in suppressions)
    assert all(s[0]["properties"]["until"] for s in suppressions)
    notes = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("decisions from register database" in n["message"]["text"] for n in notes)

    let_acceptances_lapse(database_url)
    again = scan(app, database_url)
    assert again.exit_code == 1, again.output
    assert "expired on" in again.output and "blocks again" in again.output


def test_an_unreachable_register_database_is_said_and_nothing_is_waived(
    app: Path, tmp_path: Path,
) -> None:
    closed_port = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
    sarif = tmp_path / "r.sarif"
    annotations = tmp_path / "annotations.txt"
    result = scan(app, closed_port, "--sarif", str(sarif), "--format", "markdown",
                  "--github-annotations", str(annotations))
    assert result.exit_code == 1
    assert any(line.startswith("::warning title=riskgate%3A triage decisions::register database")
               and "none applied" in line for line in annotations.read_text().splitlines())
    assert "unreachable" in result.output and "none applied" in result.output
    notes = json.loads(sarif.read_text())["runs"][0]["invocations"][0]
    assert "none applied" in json.dumps(notes)


def _triage_one_of_each(database: str) -> tuple[str, str]:
    """Mark one jinja2 advisory a false positive, accept every requests advisory."""
    engine = make_engine(database)
    until = datetime.now(UTC).date() + timedelta(days=20)
    with Session(engine) as session, session.begin():
        rows = session.execute(sa.text(
            "SELECT id, package, rule_id FROM risk_entry WHERE kind = 'dependency' ORDER BY id"
        )).all()
        jinja = next(row for row in rows if row[1] == "jinja2")
        triage.mark_false_positive(session, entry_id=jinja[0], actor="alice",
                                   reason="vulnerable_code_not_in_execute_path: no sandbox use")
        for row in rows:
            if row[1] == "requests":
                triage.accept(session, entry_id=row[0], reason="upgrade with the API rewrite",
                              until=until, approver="ciso", actor="bob")
    engine.dispose()
    return str(jinja[2]), until.isoformat()


OPENVEX_SCHEMA = REPO_ROOT / "schemas" / "openvex-0.2.0.schema.json"


def _check_openvex(document: dict[str, object]) -> None:
    """The document conforms to OpenVEX 0.2.0's schema (stored under schemas/)."""
    schema = json.loads(OPENVEX_SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(document)]
    assert not errors, errors


def test_openvex_schema_refuses_what_a_writer_can_break() -> None:
    schema = json.loads(OPENVEX_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    good = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
            "author": "appsec", "timestamp": "2026-12-02T10:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": "CVE-2024-1"}, "status": "affected",
                            "action_statement": "upgrade"}]}
    _check_openvex(good)
    statement = good["statements"][0]  # type: ignore[index]
    broken = [
        {**good, "statements": []},
        {**good, "statements": [{"vulnerability": {"name": "X"}, "status": "affected"}]},
        {**good, "statements": [{"vulnerability": {"name": "X"}, "status": "not_affected"}]},
        {**good, "statements": [{"vulnerability": {"name": "X"}, "status": "not_affected",
                                 "justification": "component_not_present",
                                 "impact_statement": "both"}]},
        {**good, "statements": [{**statement, "status": "wontfix"}]},
        {key: value for key, value in good.items() if key != "author"},
    ]
    validator = jsonschema.Draft202012Validator(schema)
    assert all(not validator.is_valid(document) for document in broken)


def test_register_export_vex_round_trips_into_gate_scan(
    app: Path, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATE_SPOOL_DIR", str(tmp_path / "spool"))
    assert gate("db", "upgrade", "--database", database_url).exit_code == 0
    empty = gate("register", "export", "--vex", "--database", database_url)
    assert empty.exit_code == 3 and "nothing to export" in empty.output
    assert scan(app, database_url, "--record").exit_code == 1
    jinja_advisory, until = _triage_one_of_each(database_url)

    vex = tmp_path / "payments.vex.json"
    exported = gate("register", "export", "--vex", "--project", "payments", "-o", str(vex),
                    "--database", database_url, "--author", "appsec@example.com")
    assert exported.exit_code == 0, exported.output
    document = json.loads(vex.read_text())
    _check_openvex(document)
    statuses = {(s["products"][0]["@id"].split("@")[0], s["status"])
                for s in document["statements"]}
    assert statuses == {("pkg:pypi/jinja2", "not_affected"), ("pkg:pypi/requests", "affected")}
    false_positive = next(s for s in document["statements"] if s["status"] == "not_affected")
    assert false_positive["justification"] == "vulnerable_code_not_in_execute_path"
    assert false_positive["vulnerability"]["name"] == jinja_advisory

    out = tmp_path / "verdict.json"
    result = gate("scan", str(app), "--policy", str(app / "policy.yml"), "--advisories",
                  str(ADVISORIES), "--scanner", "pip-audit", "--vex", str(vex), "--no-progress",
                  "--json", str(out))
    assert result.exit_code == 1, "salt, flask, pyyaml still block"
    findings = json.loads(out.read_text())["findings"]
    waived = {(f["finding"]["location"]["package"], f["triage"]["status"])
              for f in findings if f["action"] == "ignore"}
    assert waived == {("jinja2", "false_positive"), ("requests", "accepted")}
    accepted = next(f for f in findings if f["finding"]["location"]["package"] == "requests")
    assert accepted["triage"]["until"] == until
    assert f"accepted in the VEX file {vex} until {until}" in accepted["reason"]
    assert "triage decisions:" in result.output and "from VEX file" in result.output
