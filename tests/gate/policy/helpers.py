"""Builders of findings and policies for the policy tests (plain frozen models, no mocks)."""

from __future__ import annotations

from typing import Any

from gate.fingerprint import code_fingerprint, dependency_fingerprint
from gate.models import Finding, FindingKind, Location, Severity
from gate.policy.load import parse_policy
from gate.policy.schema import Policy


def dependency(
    advisory: str = "PYSEC-2020-1",
    *,
    package: str = "jinja2",
    severity: Severity = Severity.HIGH,
    manifest: str = "requirements.txt",
    **extra: Any,
) -> Finding:
    """A dependency finding of pip-audit for `package` and `advisory`."""
    return Finding(
        kind=FindingKind.DEPENDENCY,
        scanner=extra.pop("scanner", "pip-audit"),
        rule_id=advisory,
        title=f"{package}: {advisory}",
        severity=severity,
        fingerprint=dependency_fingerprint(
            package=package, advisory_ids=[advisory, *extra.get("aliases", ())]
        ),
        location=Location(package=package, version="1.0", manifest=manifest),
        **extra,
    )


def code(
    rule: str = "python-sql-injection",
    *,
    path: str = "src/app.py",
    severity: Severity = Severity.HIGH,
    matched: str = "cursor.execute(q)",
    **extra: Any,
) -> Finding:
    """A semgrep code finding of `rule` in `path`."""
    return Finding(
        kind=FindingKind.CODE,
        scanner=extra.pop("scanner", "semgrep"),
        rule_id=rule,
        title=rule,
        severity=severity,
        fingerprint=code_fingerprint(rule_id=rule, path=path, matched_code=matched),
        location=Location(path=path, start_line=3, end_line=3),
        snippet=matched,
        **extra,
    )


def policy(body: str = "") -> Policy:
    """A policy from YAML lines appended to `version: 1` and `name: test`."""
    return parse_policy(f"version: 1\nname: test\n{body}", source="test.yml")
