"""The finding page: evidence in order, links, snippet with line numbers, honest deadline words."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from register import queries
from register.recording import record_verdict_in
from tests.register.factories import T0, verdict
from tests.register.test_evidence import findings
from tests.register.web.helpers import log_in


def test_finding_page_shows_evidence_and_overdue_only_while_open(
    client: TestClient, tokens: dict[str, str], engine: Engine
) -> None:
    record_verdict_in(engine, verdict(findings(), run_id="e1"))
    record_verdict_in(engine, verdict([], run_id="e2", at=T0 + timedelta(days=400)))
    with Session(engine) as session:
        fixed = queries.list_entries(session, status="fixed", sort="id")[0]
    record_verdict_in(engine, verdict(findings()[:1], run_id="e3", at=T0 + timedelta(days=401)))
    log_in(client, tokens["viewer"])

    reopened = client.get(f"/findings/{fixed[0].id}").text
    closed = client.get(f"/findings/{fixed[1].id}").text

    assert 'id="snippet"' in reopened and '<td class="line">41</td>' in reopened
    assert "CWE-89: SQL Injection</a>" in reopened and "A03_2021-Injection" in reopened
    assert "Build SQL with parameters." in reopened and "run <code>e3</code>" in reopened
    assert "patch" in reopened.split('id="deadline-words"')[1][:80]
    assert "overdue" not in closed.split('id="deadline-words"')[1][:120]
    assert "fixed on" in closed and "3000.2" in closed and "nvd.nist.gov" in closed
