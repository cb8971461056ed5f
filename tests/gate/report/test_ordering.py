"""Every report lists the most urgent findings first: blocked, known-exploited, most severe."""

from __future__ import annotations

from gate.models import Action, Severity
from gate.report._common import ordered
from tests.gate.report.verdicts import code_finding, dependency_finding, evaluated


def test_known_exploited_comes_first_among_blocked_findings() -> None:
    critical_code = evaluated(code_finding(severity=Severity.CRITICAL), Action.BLOCK)
    kev_unknown = evaluated(
        dependency_finding(severity=Severity.UNKNOWN, known_exploited=True), Action.BLOCK
    )
    warned = evaluated(dependency_finding(package="pyyaml", known_exploited=True), Action.WARN)
    assert ordered([warned, critical_code, kev_unknown]) == [kev_unknown, critical_code, warned]
