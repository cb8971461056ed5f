"""The register's triage decisions as the gate reads them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.models import TriageStatus
from register import triage
from register.decisions import project_decisions
from register.recording import record_verdict_in
from tests.register.factories import T0, example_findings, verdict

NOW = datetime(2026, 1, 6, 12, 0, tzinfo=T0.tzinfo)


def _fingerprint(engine: Engine, entry_id: int) -> str:
    with engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT fingerprint FROM risk_entry WHERE id = ?" if engine.dialect.name == "sqlite"
            else "SELECT fingerprint FROM risk_entry WHERE id = %s", (entry_id,)
        ).one()
    return str(row[0])


def test_accepted_and_false_positive_entries_with_their_reasons(engine: Engine) -> None:
    findings = example_findings()
    record_verdict_in(engine, verdict(findings, run_id="a"))
    record_verdict_in(engine, verdict(findings, run_id="b", project="other"))
    with Session(engine) as session, session.begin():
        triage.accept(session, entry_id=1, reason="vendor patch pending",
                      until=date(2026, 2, 1), approver="ciso", actor="bob", now=NOW)
        triage.accept(session, entry_id=2, reason="first reason", until=date(2026, 2, 1),
                      approver="ciso", actor="bob", now=NOW)
        triage.accept(session, entry_id=2, reason="renewed", until=date(2026, 3, 1),
                      approver="cto", actor="bob", now=NOW)
        triage.mark_false_positive(session, entry_id=4, actor="alice", reason="test code only",
                                   now=NOW)
        triage.assign(session, entry_id=5, owner="carol", actor="bob", now=NOW)
    with engine.connect() as connection:
        found = project_decisions(connection, project="shop")
        other = project_decisions(connection, project="other")
        unknown = project_decisions(connection, project="nobody")
    assert set(found) == {_fingerprint(engine, i) for i in (1, 2, 4)}
    first, renewed, false_positive = (found[_fingerprint(engine, i)] for i in (1, 2, 4))
    assert (first.status, first.until, first.by, first.reason) == (
        TriageStatus.ACCEPTED, date(2026, 2, 1), "ciso", "vendor patch pending")
    assert (renewed.until, renewed.by, renewed.reason) == (date(2026, 3, 1), "cto", "renewed")
    assert (false_positive.status, false_positive.by, false_positive.reason) == (
        TriageStatus.FALSE_POSITIVE, "alice", "test code only")
    assert other == {} and unknown == {}


def test_an_expired_acceptance_is_no_decision_once_expiry_ran(engine: Engine) -> None:
    record_verdict_in(engine, verdict(example_findings(), run_id="a"))
    with Session(engine) as session, session.begin():
        triage.accept(session, entry_id=1, reason="pending", until=date(2026, 1, 10),
                      approver="ciso", actor="bob", now=NOW)
    with engine.connect() as connection:
        assert len(project_decisions(connection, project="shop")) == 1
    with Session(engine) as session, session.begin():
        triage.expire_acceptances(session, now=datetime(2026, 1, 20, tzinfo=T0.tzinfo))
    with engine.connect() as connection:
        assert project_decisions(connection, project="shop") == {}
