"""The finding page: evidence in order, links, snippet with line numbers, honest deadline words."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.models import Location, ScanScope
from register import queries
from register.recording import record_verdict_in
from tests.register.factories import T0, code, dependency, verdict
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


def test_finding_page_names_the_manifest_and_the_scan_scope(
    client: TestClient, tokens: dict[str, str], engine: Engine
) -> None:
    nested = dependency("jinja2", "CVE-2024-22195")
    nested = nested.model_copy(update={"location": Location(
        package="jinja2", version="2.11.2", manifest="services/api/requirements.txt")})
    flaw = code("r", "app/views.py", "eval(x)").model_copy(update={"location": Location(
        path="app/views.py", start_line=12, scope="Server.start")})
    record_verdict_in(engine, verdict([nested, flaw], run_id="s1"))
    record_verdict_in(engine, verdict([nested, flaw], run_id="s2", scope=ScanScope.DIFF,
                                      at=T0 + timedelta(days=1)))
    log_in(client, tokens["viewer"])

    dependency_page = client.get("/findings/1").text.split('id="scope">')[1].split("</dd>")[0]
    code_page = client.get("/findings/2").text.split('id="scope">')[1].split("</dd>")[0]
    assert dependency_page == ("manifest services/api/requirements.txt, where jinja2 2.11.2 was "
                               "audited; last seen in a diff-aware scan (only what changed since "
                               "its baseline) of main")
    assert code_page.startswith("app/views.py:12, in Server.start; last seen in a diff-aware")
