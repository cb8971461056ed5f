"""evaluate(): actions per finding, ignores, baseline, scanner failures, dedupe, the decision."""

from __future__ import annotations

from datetime import date

import pytest

from gate.config import REPO_ROOT
from gate.models import (
    Action,
    Decision,
    EvaluatedFinding,
    Finding,
    ScannerRun,
    ScannerStatus,
    Severity,
    Verdict,
)
from gate.policy.evaluate import evaluate
from gate.policy.load import load_policy
from gate.policy.schema import Policy
from tests.gate.policy.helpers import code, dependency, policy

TODAY = date(2026, 6, 1)

PRECEDENCE = policy(
    """
rules:
  - {name: pass-jinja, action: pass, match: {package: [jinja2]}}
  - {name: warn-everything, action: warn, description: "look at it"}
  - {name: block-high, action: block, description: "high or worse", match: {min_severity: high}}
  - {name: block-critical, action: block, match: {severity: [critical]}}
"""
)


def _run(findings: list[Finding], rules: Policy, **options: object) -> Verdict:
    return evaluate(findings, rules, today=TODAY, **options)  # type: ignore[arg-type]


def _only(verdict: Verdict) -> EvaluatedFinding:
    assert len(verdict.findings) == 1
    return verdict.findings[0]


def test_strongest_action_wins_and_first_rule_giving_it_is_named() -> None:
    verdict = _run([dependency(severity=Severity.CRITICAL)], PRECEDENCE)
    item = _only(verdict)
    assert item.action is Action.BLOCK
    assert item.policy_rule == "block-high"
    assert item.reason == "blocked by rule 'block-high': high or worse"
    assert verdict.decision is Decision.BLOCK
    assert verdict.exit_code == 1
    assert "1 finding blocked by rule 'block-high'" in verdict.reasons


def test_warn_beats_pass() -> None:
    item = _only(_run([dependency(severity=Severity.LOW)], PRECEDENCE))
    assert (item.action, item.policy_rule) == (Action.WARN, "warn-everything")
    assert item.reason == "warned by rule 'warn-everything': look at it"


def test_no_matching_rule_gets_the_default_action() -> None:
    rules = policy("default_action: warn\nrules: [{name: r, action: block, match: {kind: code}}]\n")
    verdict = _run([dependency(severity=Severity.LOW)], rules)
    item = _only(verdict)
    assert (item.action, item.reason, item.policy_rule) == (
        Action.WARN,
        "no rule matched; default action",
        None,
    )
    assert verdict.decision is Decision.WARN
    assert verdict.exit_code == 0
    assert "1 finding warned by the default action" in verdict.reasons


def test_counts_per_blocking_rule() -> None:
    findings = [
        dependency("PYSEC-1", severity=Severity.CRITICAL),
        dependency("PYSEC-2", severity=Severity.HIGH),
        code(severity=Severity.MEDIUM),
    ]
    verdict = _run(findings, PRECEDENCE)
    assert verdict.reasons == (
        "2 findings blocked by rule 'block-high'",
        "1 finding warned by rule 'warn-everything'",
    )


def test_no_findings_pass() -> None:
    verdict = _run([], PRECEDENCE)
    assert verdict.decision is Decision.PASS
    assert verdict.reasons == ("no findings",)


IGNORING = policy(
    """
rules: [{name: block-all, action: block}]
ignores:
  - name: jinja-not-reachable
    match: {rule_id: [PYSEC-2019-217]}
    reason: "we never render user templates"
    owner: "@alice"
    expires: 2026-06-01
"""
)


def test_active_ignore_suppresses_with_owner_reason_and_expiry() -> None:
    verdict = _run([dependency("PYSEC-2019-217")], IGNORING)
    item = _only(verdict)
    assert item.action is Action.IGNORE
    assert item.reason == "ignored until 2026-06-01 by @alice: we never render user templates"
    assert verdict.decision is Decision.PASS
    assert verdict.expired_ignores == ()


def test_expired_ignore_no_longer_applies_and_says_so() -> None:
    verdict = evaluate([dependency("PYSEC-2019-217")], IGNORING, today=date(2026, 6, 2))
    item = _only(verdict)
    assert item.action is Action.BLOCK
    assert "ignore 'jinja-not-reachable' expired on 2026-06-01" in item.reason
    assert verdict.decision is Decision.BLOCK
    assert [e.rule for e in verdict.expired_ignores] == ["jinja-not-reachable"]
    assert verdict.expired_ignores[0].owner == "@alice"
    assert verdict.expired_ignores[0].expired_on == date(2026, 6, 1)
    assert "ignore 'jinja-not-reachable' expired on 2026-06-01; it no longer applies" in (
        verdict.reasons
    )


def test_expired_ignore_is_listed_once_however_many_findings() -> None:
    findings = [dependency("PYSEC-2019-217", package=p) for p in ("jinja2", "other")]
    verdict = evaluate(findings, IGNORING, today=date(2027, 1, 1))
    assert len(verdict.expired_ignores) == 1
    assert sum("no longer applies" in r for r in verdict.reasons) == 1


def test_today_defaults_to_the_current_date() -> None:
    far = policy(
        "ignores: [{match: {rule_id: X}, reason: r, owner: o, expires: 2999-01-01}]\n"
        "rules: [{name: b, action: block}]\n"
    )
    assert _only(evaluate([dependency("X")], far)).action is Action.IGNORE


@pytest.mark.parametrize(
    ("unknown_severity", "expected"),
    [("high", Action.BLOCK), ("critical", Action.BLOCK), ("medium", Action.PASS)],
)
def test_unknown_severity_is_treated_as_the_policy_says(
    unknown_severity: str, expected: Action
) -> None:
    rules = policy(
        f"unknown_severity: {unknown_severity}\n"
        "rules: [{name: b, action: block, match: {severity: [critical, high]}}]\n"
    )
    item = _only(_run([dependency(severity=Severity.UNKNOWN)], rules))
    assert item.action is expected
    assert item.finding.severity is Severity.UNKNOWN


def test_unknown_severity_counts_for_min_severity_too() -> None:
    rules = policy(
        "unknown_severity: high\nrules: [{name: b, action: block, match: {min_severity: high}}]\n"
    )
    assert _only(_run([code(severity=Severity.UNKNOWN)], rules)).action is Action.BLOCK


def test_severity_list_may_name_unknown_literally() -> None:
    rules = policy(
        "unknown_severity: low\nrules: [{name: w, action: warn, match: {severity: [unknown]}}]\n"
    )
    assert _only(_run([code(severity=Severity.UNKNOWN)], rules)).action is Action.WARN
    assert _only(_run([code(severity=Severity.LOW)], rules)).action is Action.PASS


def test_reason_says_unknown_severity_when_that_is_why_a_severity_rule_matched() -> None:
    rules = policy(
        "unknown_severity: high\nrules:\n"
        "  - {name: block-critical-high, action: block, description: 'critical or high severity',"
        " match: {severity: [critical, high]}}\n"
        "  - {name: warn-medium, action: warn, description: 'medium',"
        " match: {min_severity: medium}}\n"
    )
    unknown = _only(_run([dependency(severity=Severity.UNKNOWN)], rules))
    assert unknown.reason == (
        "blocked by rule 'block-critical-high': unknown severity, counted as high by the policy"
    )
    rated = _only(_run([dependency(severity=Severity.HIGH)], rules))
    assert rated.reason == "blocked by rule 'block-critical-high': critical or high severity"
    literal = policy(
        "rules: [{name: w, action: warn, description: 'look', match: {severity: [unknown]}}]\n"
    )
    item = _only(_run([code(severity=Severity.UNKNOWN)], literal))
    assert item.reason == "warned by rule 'w': look"


def _action(match: str, finding: Finding) -> Action:
    rules = policy(f"rules: [{{name: m, action: block, match: {match}}}]\n")
    return _only(_run([finding], rules)).action


@pytest.mark.parametrize(
    ("match", "finding", "expected"),
    [
        ("{known_exploited: true}", dependency(severity=Severity.LOW, known_exploited=True), True),
        ("{known_exploited: true}", dependency(severity=Severity.LOW), False),
        ("{epss_min: 0.1}", dependency(epss=0.1), True),
        ("{epss_min: 0.1}", dependency(epss=0.09), False),
        ("{epss_min: 0.1}", dependency(), False),
        ("{epss_percentile_min: 0.9}", dependency(epss_percentile=0.95), True),
        ("{fix_available: true}", dependency(fix_versions=("2.0",)), True),
        ("{fix_available: true}", dependency(), False),
        ("{fix_available: false}", dependency(), True),
        ("{cwe: [CWE-89]}", code(cwe=("CWE-89: Improper Neutralization in SQL",)), True),
        ("{cwe: ['89', CWE-78]}", code(cwe=("cwe-89",)), True),
        ("{cwe: [CWE-78]}", code(cwe=("CWE-89",)), False),
        ("{path: ['src/**']}", code(path="src/pkg/app.py"), True),
        ("{path: ['*.py']}", code(path="deep/down/app.py"), True),
        ("{path: ['src/**']}", code(path="tests/app.py"), False),
        ("{path: ['services/api/*.txt']}", dependency(manifest="services/api/req.txt"), True),
        ("{package: ['django*']}", dependency(package="Django_REST.framework"), True),
        ("{package: [jinja2]}", dependency(package="Jinja2"), True),
        ("{package: [jinja2]}", code(), False),
        (
            "{rule_id: ['CVE-2020-*']}",
            dependency("PYSEC-2020-9", aliases=("CVE-2020-28493",)),
            True,
        ),
        (
            "{rule_id: ['CVE-2021-*']}",
            dependency("PYSEC-2020-9", aliases=("CVE-2020-28493",)),
            False,
        ),
        ("{rule_id: ['pysec-*']}", dependency("PYSEC-2020-9"), True),
        ("{rule_id: ['python-*']}", code("policies.semgrep.python-sql-injection"), True),
        ("{scanner: [semgrep]}", code(), True),
        ("{scanner: [semgrep]}", dependency(), False),
        ("{kind: code, path: ['src/**']}", dependency(manifest="src/requirements.txt"), False),
    ],
)
def test_match_conditions(match: str, finding: Finding, expected: bool) -> None:
    assert (_action(match, finding) is Action.BLOCK) is expected


def test_baseline_findings_are_existing_and_only_new_ones_block() -> None:
    old, new = dependency("PYSEC-OLD"), dependency("PYSEC-NEW")
    rules = policy("rules: [{name: block-all, action: block}]\n")
    verdict = _run([old, new], rules, baseline=frozenset({old.fingerprint}))
    actions = {item.finding.rule_id: (item.action, item.reason) for item in verdict.findings}
    assert actions["PYSEC-OLD"] == (Action.EXISTING, "already present at baseline")
    assert actions["PYSEC-NEW"][0] is Action.BLOCK
    assert verdict.decision is Decision.BLOCK
    assert "1 finding already present at baseline (not blocking)" in verdict.reasons


def test_only_baseline_findings_pass() -> None:
    old = code()
    rules = policy("rules: [{name: block-all, action: block}]\n")
    assert _run([old], rules, baseline=frozenset({old.fingerprint})).decision is Decision.PASS


FAIL_OPEN_SEMGREP = policy("scanners: {semgrep: {fail_open: true}}\n")


def _failed(name: str) -> ScannerRun:
    return ScannerRun(name=name, status=ScannerStatus.FAILED, error=f"{name}: timed out after 600s")


def test_failed_scanner_fails_closed() -> None:
    rules = policy("rules: [{name: block-all, action: block}]\n")
    verdict = _run([code()], rules, scanners=[_failed("semgrep")])
    assert verdict.decision is Decision.ERROR
    assert verdict.exit_code == 2
    assert verdict.reasons[0] == "semgrep failed: timed out after 600s (fail closed)"


def test_fail_open_scanner_failure_only_warns() -> None:
    ok = ScannerRun(name="pip-audit", status=ScannerStatus.OK)
    verdict = _run([], FAIL_OPEN_SEMGREP, scanners=[ok, _failed("semgrep")])
    assert verdict.decision is Decision.WARN
    assert verdict.reasons[0].startswith("semgrep failed: timed out after 600s (fail open")
    assert [run.fail_open for run in verdict.scanners] == [False, True]


def test_fail_open_is_decided_by_the_policy_not_the_run() -> None:
    claims_open = _failed("pip-audit").model_copy(update={"fail_open": True})
    verdict = _run([], FAIL_OPEN_SEMGREP, scanners=[claims_open])
    assert verdict.decision is Decision.ERROR


def test_skipped_scanner_does_not_change_the_decision() -> None:
    skipped = ScannerRun(name="semgrep", status=ScannerStatus.SKIPPED)
    assert _run([], PRECEDENCE, scanners=[skipped]).decision is Decision.PASS


def test_same_fingerprint_is_one_finding_with_merged_information() -> None:
    from_pip_audit = dependency("PYSEC-2021-66", severity=Severity.UNKNOWN, aliases=("CVE-2021-1",))
    from_sarif = dependency(
        "PYSEC-2021-66",
        scanner="sarif",
        severity=Severity.CRITICAL,
        aliases=("GHSA-aaaa-bbbb-cccc",),
        fix_versions=("2.11.3",),
        known_exploited=True,
    )
    assert from_pip_audit.fingerprint != from_sarif.fingerprint  # different aliases hash apart
    same = from_sarif.model_copy(update={"fingerprint": from_pip_audit.fingerprint})
    item = _only(_run([from_pip_audit, same], PRECEDENCE))
    assert item.finding.severity is Severity.CRITICAL
    assert set(item.finding.aliases) == {"CVE-2021-1", "GHSA-aaaa-bbbb-cccc"}
    assert item.finding.known_exploited is True
    assert item.finding.fix_versions == ("2.11.3",)


def test_findings_are_ordered_most_severe_first() -> None:
    findings = [
        code("r-low", severity=Severity.LOW),
        code("r-unknown", severity=Severity.UNKNOWN),
        code("r-critical", severity=Severity.CRITICAL),
        code("r-high", severity=Severity.HIGH),
        code("r-info", severity=Severity.INFO),
    ]
    verdict = _run(findings, PRECEDENCE)
    order = [item.finding.rule_id for item in verdict.findings]
    assert order == ["r-critical", "r-high", "r-unknown", "r-low", "r-info"]


def test_verdict_carries_policy_identity_and_context() -> None:
    rules = policy("sla_days: {critical: 3}\nowners: {default: '@sec'}\n")
    verdict = _run([code()], rules)
    assert verdict.policy_name == "test"
    assert verdict.policy_digest == rules.digest
    assert verdict.context.sla_days[Severity.CRITICAL] == 3
    assert verdict.findings[0].owner == "@sec"


DEFAULT = load_policy(REPO_ROOT / "policies" / "default.yml")


@pytest.mark.parametrize(
    ("finding", "expected", "rule"),
    [
        (dependency(severity=Severity.CRITICAL), Action.BLOCK, "block-critical-high"),
        (dependency(severity=Severity.UNKNOWN), Action.BLOCK, "block-critical-high"),
        (dependency(severity=Severity.MEDIUM), Action.WARN, "warn-medium"),
        (dependency(severity=Severity.LOW), Action.PASS, "pass-low-info"),
        (
            dependency(severity=Severity.LOW, known_exploited=True),
            Action.BLOCK,
            "block-known-exploited",
        ),
        (
            dependency("riskgate-dependency-not-audited", severity=Severity.UNKNOWN),
            Action.BLOCK,
            "block-not-audited",
        ),
        (code(severity=Severity.INFO), Action.PASS, "pass-low-info"),
    ],
)
def test_default_policy_decisions(finding: Finding, expected: Action, rule: str) -> None:
    item = _only(_run([finding], DEFAULT))
    assert (item.action, item.policy_rule) == (expected, rule)


def test_baseline_does_not_undo_an_ignore_or_a_pass() -> None:
    ignored, passed = dependency("PYSEC-IGNORED"), code(severity=Severity.LOW)
    rules = policy(
        "rules: [{name: block-deps, action: block, match: {kind: dependency}}]\n"
        "ignores: [{match: {rule_id: PYSEC-IGNORED}, reason: r, owner: o, expires: 2099-01-01}]\n"
    )
    baseline = frozenset({ignored.fingerprint, passed.fingerprint})
    verdict = _run([ignored, passed], rules, baseline=baseline)
    actions = {item.finding.rule_id: item.action for item in verdict.findings}
    assert actions == {"PYSEC-IGNORED": Action.IGNORE, "python-sql-injection": Action.PASS}
