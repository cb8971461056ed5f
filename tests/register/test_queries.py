"""MTTP (mean and median, by severity and month), SLA compliance and the 5×5 matrix."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.models import DEFAULT_SLA_DAYS, MoneyModel, RiskContext, Severity
from register import queries
from register.recording import record_verdict_in
from tests.register.factories import T0, dependency, verdict

DAY = timedelta(days=1)


def test_mttp_and_sla_from_known_timestamps(engine: Engine) -> None:
    context = RiskContext(sla_days={**DEFAULT_SLA_DAYS, Severity.HIGH: 2})
    h1, h2 = (dependency("a", f"CVE-1-{i}", severity=Severity.HIGH) for i in (1, 2))
    m1, m2, m3 = (dependency("b", f"CVE-2-{i}", severity=Severity.MEDIUM) for i in (1, 2, 3))
    present = [h1, h2, m1, m2, m3]
    # (day of the full run, finding fixed by it): h1 1 day, m1 2, h2 3, m2 4, m3 40 (February).
    for day, gone in [(0, None), (1, h1), (2, m1), (3, h2), (4, m2), (40, m3)]:
        present = [f for f in present if f is not gone]
        record_verdict_in(engine, verdict(present, run_id=f"d{day}", at=T0 + day * DAY,
                                          context=context))
    with Session(engine) as session:
        report = queries.mttp(session)
    rows = {r.group: (r.fixed, r.mean_days, r.median_days) for r in report.by_severity}
    assert rows == {"high": (2, 2.0, 2.0), "medium": (3, 15.33, 4.0)}
    months = {r.group: (r.fixed, r.mean_days, r.median_days) for r in report.by_month}
    assert months == {"2026-01": (4, 2.5, 2.5), "2026-02": (1, 40.0, 40.0)}
    cells = [(c.month, c.severity, c.fixed, c.mean_days) for c in report.by_severity_month]
    assert cells == [
        ("2026-01", "high", 2, 2.0), ("2026-01", "medium", 2, 3.0), ("2026-02", "medium", 1, 40.0)
    ]
    sla = {r.group: (r.fixed, r.within_sla) for r in report.sla_by_severity}
    assert sla == {"high": (2, 1), "medium": (3, 3)}  # h2 took 3 days against a 2-day SLA
    assert report.sla_overall.percent == 80.0


def test_matrix_counts_active_entries_by_probability_and_impact(engine: Engine) -> None:
    findings = [
        dependency("a", "CVE-1", severity=Severity.CRITICAL, known_exploited=True),  # 5 × 5
        dependency("b", "CVE-2", severity=Severity.CRITICAL, known_exploited=True),  # 5 × 5
        dependency("c", "CVE-3", severity=Severity.LOW, fix_versions=()),  # 2 × 2
        dependency("d", "CVE-4", severity=Severity.MEDIUM, epss_percentile=0.9),  # 4 × 3
    ]
    record_verdict_in(engine, verdict(findings, run_id="m", project="pay"))
    record_verdict_in(engine, verdict(findings[:1], run_id="o", project="other"))
    with Session(engine) as session:
        matrix = queries.risk_matrix(session, project="pay")
        everything = queries.risk_matrix(session)
        summaries = queries.project_summaries(session)
    assert matrix[4][4] == 2 and matrix[1][1] == 1 and matrix[3][2] == 1
    assert sum(map(sum, matrix)) == 4 and everything[4][4] == 3
    assert {(s.name, s.open, s.critical) for s in summaries} == {("pay", 4, 2), ("other", 1, 1)}


def test_expected_annual_loss_per_risk_and_per_project(engine: Engine) -> None:
    money = MoneyModel(currency="EUR", loss_per_impact={5: (200_000.0, 1_000_000.0)},
                       annual_frequency_per_probability={5: 0.5})
    context = RiskContext(money=money)
    kev = [dependency(p, f"CVE-{p}", severity=Severity.CRITICAL, known_exploited=True)
           for p in ("a", "b")]
    record_verdict_in(engine, verdict(kev, run_id="money", context=context))
    with Session(engine) as session:
        entries, _ = queries.list_entries(session)
        (summary,) = queries.project_summaries(session)
    assert {(e.annual_loss_low, e.annual_loss_high) for e in entries} == {(100_000.0, 500_000.0)}
    assert (summary.annual_loss_low, summary.annual_loss_high, summary.currency) == (
        200_000.0, 1_000_000.0, "EUR")
