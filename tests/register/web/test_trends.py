"""Trends, SLA with the overdue backlog, owners, the MTTP targets and the one-page report."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.cli import cli
from gate.models import MoneyModel, RiskContext
from register import trends
from register.recording import record_verdict_in
from register.web.wording import money
from tests.register.factories import T0, code, dependency, example_findings, verdict
from tests.register.web.helpers import bearer, log_in

MONEY = RiskContext(default_owner="team-shop", money=MoneyModel(
    currency="EUR", loss_per_impact={i: (1000.0 * i, 5000.0 * i) for i in range(1, 6)},
    annual_frequency_per_probability={p: 0.1 * p for p in range(1, 6)}))


@pytest.fixture()
def history(engine: Engine) -> Engine:
    """Three weekly runs: five risks, then two more, then the code flaws fixed."""
    base = example_findings()
    more = [dependency("salt", "CVE-2020-11651", known_exploited=True), code("r", "a.py", "x")]
    runs = [(base, 0), ([*base, *more], 7), ([*base[:3], *more], 14)]
    for number, (findings, days) in enumerate(runs):
        record_verdict_in(engine, verdict(findings, run_id=f"w{number}", context=MONEY,
                                          at=T0 + timedelta(days=days)))
    return engine


def test_weekly_trend_follows_the_runs_and_carries_forward(history: Engine) -> None:
    with Session(history) as session:
        weeks = trends.weekly_trend(session, weeks=4, today=(T0 + timedelta(days=21)).date())

    assert [w.week for w in weeks] == [date(2026, 1, 5) + timedelta(weeks=n) for n in range(4)]
    assert [w.open for w in weeks] == [5, 7, 5, 5]  # the last week carries the third run
    assert weeks[1].open_by_band["critical"] >= 1 and weeks[0].priced == 5
    assert weeks[2].loss_high < weeks[1].loss_high


def test_on_time_counts_the_open_overdue_backlog() -> None:
    on_time = trends.OnTime(fixed=2, within_sla=1, overdue_open=35)

    assert on_time.counted == 37 and round(on_time.percent or 0) == 3
    assert trends.OnTime(fixed=0, within_sla=0, overdue_open=0).percent is None


def test_trends_page_owner_table_and_legend(
    history: Engine, client: TestClient, tokens: dict[str, str]
) -> None:
    log_in(client, tokens["triager"])

    page = client.get("/trends").text
    overview = client.get("/").text
    mttp = client.get("/mttp").text

    assert page.count("<polyline") >= 4 and 'id="loss-trend"' in page
    owners = re.findall(r'<td><a href="/triage\?owner=([^&"]+)[^"]*">', page)
    assert owners == ["team-shop"]
    assert "still open past deadline" in page and "Patched on time" in page
    assert 'id="matrix-legend"' in overview and "score 20–25" in overview
    assert 'class="target"' in mttp and "Time to patch</strong> is the days" in mttp


def test_owner_table_follows_bulk_assign(
    history: Engine, client: TestClient, tokens: dict[str, str]
) -> None:
    client.post("/api/v1/findings/bulk", headers=bearer(tokens["triager"]),
                json={"action": "assign", "filters": {"kind": "dependency"}, "owner": "deps"})
    with Session(history) as session:
        owners = {row.owner: row.open for row in trends.owner_table(session)}

    assert owners == {"deps": 4, "team-shop": 1}


def test_report_page_and_file_in_business_words(
    history: Engine, client: TestClient, tokens: dict[str, str], database_url: str,
    tmp_path: Path,
) -> None:
    log_in(client, tokens["viewer"])
    out = tmp_path / "board.html"

    page = client.get("/report")
    written = CliRunner().invoke(cli, ["register", "report", "--html", str(out),
                                       "--database", database_url])

    assert page.status_code == 200
    assert '<link rel="stylesheet" href="/static/report.css">' in page.text
    assert "open security risks" in page.text and "past the deadline our policy sets" in page.text
    assert "a year</strong>" in page.text
    assert written.exit_code == 0, written.output
    html = out.read_text()
    assert "<style>" in html and "@media print" in html and 'href="/static' not in html
    assert "Top risks" in html and "Who owns the work" in html


def test_overview_report_trends_and_api_count_each_package_once(
    engine: Engine, client: TestClient, tokens: dict[str, str]
) -> None:
    """Three advisories of one salt pin are one exposure: one upgrade closes them all."""
    salt = [dependency("salt", advisory) for advisory in
            ("CVE-2020-11651", "CVE-2020-11652", "CVE-2020-25592")]
    findings = [*salt, dependency("jinja2", "CVE-2024-22195"), code("r", "a.py", "x")]
    record_verdict_in(engine, verdict(findings, run_id="w0", context=MONEY, at=T0))
    headers = bearer(tokens["viewer"])

    (project,) = client.get("/api/v1/projects", headers=headers).json()
    api = client.get("/api/v1/metrics/trends", headers=headers).json()
    per_advisory = client.get("/api/v1/findings?limit=100", headers=headers).json()["items"]
    summed = sum(item["annual_loss_low"] for item in per_advisory)
    by_package = project["annual_loss_low"]
    salt_share = max(i["annual_loss_low"] for i in per_advisory if i["package"] == "salt")
    assert by_package == pytest.approx(summed - 2 * salt_share), "salt counted once, not thrice"
    assert api["annual_loss_low"] == pytest.approx(by_package)
    assert api["weeks"][-1]["loss_low"] == pytest.approx(by_package)
    assert api["annual_loss_high"] == pytest.approx(project["annual_loss_high"])
    assert api["weeks"][-1]["loss_high"] == pytest.approx(project["annual_loss_high"])

    shown = money(by_package, "EUR")
    log_in(client, tokens["viewer"])
    for page in ("/", "/trends", "/report"):
        assert shown in client.get(page).text, page
    assert money(summed, "EUR") not in client.get("/report").text
