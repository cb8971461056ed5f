"""The register's remediation plan, loss by exposure and unrated count (SQLite and PostgreSQL)."""

from __future__ import annotations

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.cli import cli
from gate.models import Finding, Location, MoneyModel, RiskContext, Severity
from register import queries
from register.config import Settings
from register.db import session_scope
from register.models import Role
from register.plan import exposure_losses, register_plan, unrated_count
from register.recording import record_verdict_in
from register.web.app import create_app
from register.web.tokens import create_token
from tests.register.factories import code, dependency, verdict
from tests.register.web.helpers import log_in

MONEY = MoneyModel(currency="EUR", loss_per_impact={5: (200_000.0, 1_000_000.0),
                                                    4: (10_000.0, 50_000.0)},
                   annual_frequency_per_probability={5: 0.5, 4: 0.2})


def pinned(package: str, version: str, advisory: str, target: str | None,
           severity: Severity = Severity.CRITICAL, **extra: object) -> Finding:
    found = dependency(package, advisory, severity=severity, **extra)
    location = Location(package=package, version=version, manifest="requirements.txt")
    return found.model_copy(update={"location": location, "remediation_target": target})


def salt_and_friends() -> list[Finding]:
    """26 advisories of one salt pin (one upgrade closes them), a second component, code."""
    salt = [pinned("salt", "3000", f"PYSEC-2020-{n}", "3006.2", known_exploited=True)
            for n in range(26)]
    return [
        *salt,
        pinned("jinja2", "2.10", "PYSEC-2019-217", "2.11.3", severity=Severity.MEDIUM),
        pinned("jinja2", "2.10", "PYSEC-2021-66", "2.10.1", severity=Severity.UNKNOWN),
        pinned("oldlib", "0.1", "PYSEC-2099-9", None, severity=Severity.HIGH),
        code("python-eval", "app.py", "eval(x)", severity=Severity.HIGH),
    ]


def record(engine: Engine, findings: list[Finding]) -> None:
    context = RiskContext(money=MONEY)
    record_verdict_in(engine, verdict(findings, run_id="r1", project="shop", context=context))


def test_plan_has_one_upgrade_per_component_ranked_by_risk_removed(engine: Engine) -> None:
    record(engine, salt_and_friends())
    with Session(engine) as session:
        plan = register_plan(session)
        entries, _ = queries.list_entries(session)
    first, second = plan.upgrades
    assert (first.package, first.from_version, first.to_version, first.risks) == (
        "salt", "3000", "3006.2", 26)
    salt_scores = [e.score for e in entries if e.package == "salt"]
    assert first.score == sum(salt_scores)
    # both targets of the jinja2 entries were recorded; the higher one closes both advisories
    assert (second.package, second.to_version, second.risks) == ("jinja2", "2.11.3", 2)
    (unfixed,) = plan.unfixed
    assert (unfixed.package, unfixed.to_version, unfixed.risks) == ("oldlib", None, 1)
    assert first.sentence("EUR").startswith("upgrade salt 3000 → 3006.2: closes 26 risks")


def test_loss_counts_each_component_once(engine: Engine) -> None:
    record(engine, salt_and_friends())
    with Session(engine) as session:
        entries, _ = queries.list_entries(session)
        losses = exposure_losses(session)
        (summary,) = queries.project_summaries(session)
        plan = register_plan(session)
    salt = {(e.annual_loss_low, e.annual_loss_high) for e in entries if e.package == "salt"}
    assert salt == {(100_000.0, 500_000.0)}  # each advisory alone: the component's loss
    component_max: dict[tuple[str, str], float] = {}
    code_loss = 0.0
    for e in entries:
        if e.annual_loss_high is None:
            continue
        if e.package is None:
            code_loss += e.annual_loss_high
        else:
            key = (e.package, e.version or "")
            component_max[key] = max(component_max.get(key, 0.0), e.annual_loss_high)
    assert losses["shop"].high == sum(component_max.values()) + code_loss
    assert losses["shop"].high < 2 * 500_000.0  # not 26 salt losses
    assert summary.annual_loss_high is not None and summary.annual_loss_high >= 26 * 500_000.0
    assert plan.upgrades[0].loss_high == 500_000.0


def test_unrated_counts_active_unknown_severity_risks(engine: Engine) -> None:
    record(engine, salt_and_friends())
    with Session(engine) as session:
        assert unrated_count(session) == 1
        assert unrated_count(session, project="shop") == 1
        assert unrated_count(session, project="other") == 0


def test_gate_register_plan_prints_ranked_upgrades(engine: Engine, database_url: str) -> None:
    record(engine, salt_and_friends())
    result = CliRunner().invoke(cli, ["register", "plan", "--database", database_url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("Remediation plan (all projects): 2 upgrades, "
                        "1 components without a fixed version")
    assert lines[1].startswith("  1. upgrade salt 3000 → 3006.2: closes 26 risks, score ")
    assert lines[1].endswith("expected loss EUR 100,000–500,000 / year")  # once, not 26 times
    assert lines[2].startswith("  2. upgrade jinja2 2.10 → 2.11.3: closes 2 risks")
    assert lines[3].startswith("  3. oldlib 0.1: no fixed version for 1 risk")
    assert lines[4].startswith("1 active risks are unrated (unknown severity)")
    limited = CliRunner().invoke(cli, ["register", "plan", "--limit", "1", "--database",
                                       database_url])
    assert "… 1 more upgrades" in limited.output


def test_overview_shows_the_plan_unrated_risks_and_loss_by_exposure(
    engine: Engine, database_url: str
) -> None:
    record(engine, salt_and_friends())
    settings = Settings(database_url=database_url, secret_key="k" * 40)
    with session_scope(engine) as session:
        viewer = create_token(session, name="v", role=Role.VIEWER)[1]
    with TestClient(create_app(settings)) as client:
        log_in(client, viewer)
        html = client.get("/").text
    plan = html[html.index('id="remediation-plan"'):html.index("By project")]
    assert "upgrade salt 3000 → 3006.2: closes 26 risks" in plan
    assert plan.index("salt") < plan.index("jinja2") < plan.index("oldlib")
    assert 'id="unrated-count">1<' in html
    assert "each vulnerable component counted once" in html
