"""Verdicts built directly from gate.models for the report tests, including hostile text."""

from __future__ import annotations

from datetime import date
from typing import Any

from gate.fingerprint import code_fingerprint, dependency_fingerprint
from gate.models import (
    Action,
    Decision,
    EvaluatedFinding,
    ExpiredIgnore,
    Finding,
    FindingKind,
    Location,
    ScannerRun,
    ScannerStatus,
    Severity,
    Verdict,
)

HOSTILE = (
    "<script>alert(1)</script> a|b `tick` 100% ::error::x, k:v [bold red]markup[/] "
    "Ünïcødé 日本語 \x00\x07\x1b[31m\nsecond line\r\n::set-output name=x::y"
)
LONG_TITLE = "very long title " * 400


def code_finding(**overrides: Any) -> Finding:
    """A semgrep-style SQL injection finding."""
    snippet = overrides.pop("snippet", 'cursor.execute("SELECT * FROM t WHERE id=" + uid)')
    rule_id = overrides.pop("rule_id", "python.sqli.string-concat")
    path = overrides.pop("path", "app/db.py")
    values: dict[str, Any] = {
        "kind": FindingKind.CODE,
        "scanner": "semgrep",
        "rule_id": rule_id,
        "title": "SQL built by string concatenation",
        "severity": Severity.HIGH,
        "fingerprint": code_fingerprint(rule_id=rule_id, path=path, matched_code=snippet),
        "location": Location(path=path, start_line=12, end_line=13),
        "message": "User input reaches a SQL query.",
        "cwe": ("CWE-89: Improper Neutralization of Special Elements used in an SQL Command",),
        "snippet": snippet,
        "help_url": "https://semgrep.dev/r/python.sqli",
    }
    values.update(overrides)
    return Finding(**values)


def dependency_finding(**overrides: Any) -> Finding:
    """A pip-audit-style vulnerable dependency."""
    rule_id = overrides.pop("rule_id", "PYSEC-2021-66")
    package = overrides.pop("package", "jinja2")
    aliases = overrides.pop("aliases", ("CVE-2020-28493",))
    values: dict[str, Any] = {
        "kind": FindingKind.DEPENDENCY,
        "scanner": "pip-audit",
        "rule_id": rule_id,
        "title": "ReDoS in the urlize filter",
        "severity": Severity.MEDIUM,
        "fingerprint": dependency_fingerprint(package=package, advisory_ids=[rule_id, *aliases]),
        "location": Location(package=package, version="2.11.2", manifest="requirements.txt"),
        "aliases": aliases,
        "cvss_score": 5.3,
        "fix_versions": ("2.11.3",),
    }
    values.update(overrides)
    return Finding(**values)


def evaluated(finding: Finding, action: Action, reason: str = "policy rule") -> EvaluatedFinding:
    """A finding with the policy's action."""
    return EvaluatedFinding(finding=finding, action=action, reason=reason)


def scanners(*, failed: bool = False) -> tuple[ScannerRun, ...]:
    """Both scanners ran; semgrep optionally failed."""
    semgrep = (
        ScannerRun(name="semgrep", status=ScannerStatus.FAILED,
                   error="semgrep: timed out after 60 s")
        if failed
        else ScannerRun(name="semgrep", status=ScannerStatus.OK, version="1.90.0",
                        duration_seconds=3.2, finding_count=2)
    )
    pip_audit = ScannerRun(name="pip-audit", status=ScannerStatus.OK, version="2.7.3",
                           duration_seconds=1.5, finding_count=2)
    return (semgrep, pip_audit)


def mixed_verdict(**overrides: Any) -> Verdict:
    """One finding per action, both kinds, a KEV dependency and an expired ignore."""
    findings = (
        evaluated(code_finding(), Action.BLOCK, "high severity code finding"),
        evaluated(
            dependency_finding(rule_id="GHSA-h5c8-rqwp-cp95", package="requests",
                               aliases=("CVE-2023-32681",), severity=Severity.CRITICAL,
                               cvss_score=9.8, known_exploited=True,
                               location=Location(package="requests", version="2.0.0",
                                                 manifest="requirements.txt", start_line=3)),
            Action.BLOCK, "known exploited",
        ),
        evaluated(dependency_finding(), Action.WARN, "medium dependency"),
        evaluated(code_finding(rule_id="python.exec", severity=Severity.UNKNOWN,
                               snippet="exec(x)", cwe=()), Action.IGNORE, "accepted until June"),
        evaluated(code_finding(rule_id="python.assert", severity=Severity.LOW,
                               snippet="assert x", cwe=()), Action.EXISTING, "in baseline"),
        evaluated(dependency_finding(rule_id="PYSEC-2020-1", package="six",
                                     aliases=(), severity=Severity.INFO, cvss_score=None,
                                     fix_versions=()), Action.PASS, "below threshold"),
    )
    values: dict[str, Any] = {
        "decision": Decision.BLOCK,
        "reasons": ("2 findings at or above high", "1 known exploited vulnerability"),
        "findings": findings,
        "scanners": scanners(),
        "expired_ignores": (ExpiredIgnore(rule="python.exec", reason="temporary",
                                          owner="alice", expired_on=date(2024, 1, 31)),),
        "project": "shop",
    }
    values.update(overrides)
    return Verdict(**values)


def hostile_verdict(count: int = 3) -> Verdict:
    """Findings whose every scanner-provided string is hostile."""
    findings = []
    for index in range(count):
        finding = code_finding(
            rule_id=f"rule|{index}::x,y%",
            title=HOSTILE if index else LONG_TITLE + HOSTILE,
            message=HOSTILE,
            path=f"src/we ird,dir/fi:le%{index}.py",
            snippet=HOSTILE,
            help_url="https://example.com/<script>",
        )
        evaluated_finding = evaluated(finding, Action.BLOCK if index % 2 == 0 else Action.WARN,
                                      reason=HOSTILE)
        findings.append(evaluated_finding)
    return Verdict(
        decision=Decision.BLOCK,
        reasons=(HOSTILE,),
        findings=tuple(findings),
        scanners=(ScannerRun(name="semgrep", status=ScannerStatus.OK, version=HOSTILE),),
        expired_ignores=(ExpiredIgnore(rule=HOSTILE, reason=HOSTILE, owner=HOSTILE,
                                       expired_on=date(2024, 1, 1)),),
        project=HOSTILE,
    )
