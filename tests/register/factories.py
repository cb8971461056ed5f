"""Builders of realistic verdicts for register tests (dependency and code findings)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from gate.fingerprint import code_fingerprint, dependency_fingerprint
from gate.models import (
    Action,
    Decision,
    EvaluatedFinding,
    Finding,
    FindingKind,
    Location,
    RiskContext,
    ScannerRun,
    ScannerStatus,
    ScanScope,
    Severity,
    Verdict,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def dependency(
    package: str, advisory: str, *, severity: Severity = Severity.HIGH, **extra: Any
) -> Finding:
    """A pip-audit style finding."""
    values: dict[str, Any] = {"fix_versions": ("1.1",), **extra}
    return Finding(
        kind=FindingKind.DEPENDENCY,
        scanner="pip-audit",
        rule_id=advisory,
        title=f"{package}: {advisory}",
        severity=severity,
        fingerprint=dependency_fingerprint(package=package, advisory_ids=[advisory]),
        location=Location(package=package, version="1.0", manifest="requirements.txt"),
        **values,
    )


def code(rule: str, path: str, snippet: str, **extra: Any) -> Finding:
    """A semgrep style finding."""
    values: dict[str, Any] = {"severity": Severity.MEDIUM, "title": f"{rule} in {path}", **extra}
    return Finding(
        kind=FindingKind.CODE,
        scanner="semgrep",
        rule_id=rule,
        fingerprint=code_fingerprint(rule_id=rule, path=path, matched_code=snippet),
        location=Location(path=path, start_line=3),
        snippet=snippet,
        **values,
    )


def example_findings() -> list[Finding]:
    """The example project's findings: three dependencies and two code flaws."""
    return [
        dependency("jinja2", "CVE-2024-22195", severity=Severity.MEDIUM, cvss_score=5.4),
        dependency("requests", "CVE-2023-32681", severity=Severity.MEDIUM),
        dependency("pyyaml", "CVE-2020-14343", severity=Severity.CRITICAL, cvss_score=9.8,
                   known_exploited=True, kev_due_date=date(2026, 1, 9)),
        code("python.lang.security.audit.eval-detected", "app/views.py", "eval(request.args['q'])",
             severity=Severity.HIGH, confidence="high"),
        code("python.lang.security.audit.subprocess-shell-true", "app/run.py",
             "subprocess.run(cmd, shell=True)", severity=Severity.UNKNOWN),
    ]


def verdict(
    findings: list[Finding],
    *,
    run_id: str,
    at: datetime = T0,
    project: str = "shop",
    branch: str | None = "main",
    scope: ScanScope = ScanScope.FULL,
    context: RiskContext | None = None,
    owner: str | None = None,
) -> Verdict:
    """A verdict of `project` at `at` whose findings all block."""
    evaluated = tuple(
        EvaluatedFinding(finding=f, action=Action.BLOCK, reason="severity high", owner=owner)
        for f in findings
    )
    return Verdict(
        run_id=run_id,
        decision=Decision.BLOCK if findings else Decision.PASS,
        findings=evaluated,
        scanners=(
            ScannerRun(name="pip-audit", status=ScannerStatus.OK, version="2.7.3"),
            ScannerRun(name="semgrep", status=ScannerStatus.OK, version="1.90.0"),
        ),
        context=context or RiskContext(default_owner="team-shop"),
        scope=scope,
        project=project,
        commit="0123abcd",
        branch=branch,
        policy_name="default",
        policy_digest="sha256:feedbeef",
        started_at=at,
        finished_at=at,
    )
