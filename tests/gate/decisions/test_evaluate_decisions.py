"""Triage decisions in `evaluate()`: what they unblock, what they do not, and what reports say."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gate.decisions.interface import AdvisoryDecision, Decisions
from gate.models import (
    Action,
    CodeAnchor,
    Decision,
    DecisionsNote,
    DecisionsStatus,
    Finding,
    Severity,
    TriageDecision,
    TriageStatus,
    Verdict,
)
from gate.policy.evaluate import evaluate
from gate.policy.schema import Policy
from tests.gate.policy.helpers import code, dependency, policy

TODAY = date(2026, 6, 1)
BLOCK_HIGH = """
rules:
  - {name: block-high, action: block, match: {min_severity: high}}
  - {name: warn-medium, action: warn, match: {severity: [medium]}}
"""


def accepted(until: date | None = date(2026, 6, 30)) -> TriageDecision:
    return TriageDecision(status=TriageStatus.ACCEPTED, reason="vendor fix due in June",
                          by="ciso", until=until, source="register")


FALSE_POSITIVE = TriageDecision(status=TriageStatus.FALSE_POSITIVE, reason="test fixture only",
                                by="alice", source="register")


def _run(finding: Finding, decision: TriageDecision, rules: Policy | None = None) -> Verdict:
    decisions = Decisions({finding.fingerprint: decision})
    return evaluate([finding], rules or policy(BLOCK_HIGH), decisions=decisions, today=TODAY)


def test_an_accepted_risk_does_not_block_and_says_why() -> None:
    verdict = _run(dependency(), accepted())
    item = verdict.findings[0]
    assert verdict.decision is Decision.PASS
    assert item.action is Action.IGNORE and item.policy_rule == "register:accepted"
    assert item.reason == (
        "accepted in the register until 2026-06-30, approved by ciso: vendor fix due in June"
    )
    assert item.triage == accepted()
    assert "1 finding not blocking by triage decisions (1 accepted, 0 false positive)" in (
        verdict.reasons)
    assert any(r.startswith("PYSEC-2020-1 at jinja2==1.0") for r in verdict.reasons)
    assert not any("policy's ignores" in r for r in verdict.reasons)


def test_the_last_day_of_an_acceptance_still_counts_and_the_day_after_blocks() -> None:
    assert _run(dependency(), accepted(until=TODAY)).decision is Decision.PASS
    lapsed = _run(dependency(), accepted(until=date(2026, 5, 31)))
    item = lapsed.findings[0]
    assert lapsed.decision is Decision.BLOCK and item.action is Action.BLOCK
    assert "acceptance in the register expired on 2026-05-31: blocks again" in item.reason
    assert _run(dependency(), accepted(until=None)).decision is Decision.BLOCK


def test_a_false_positive_unblocks_warnings_too() -> None:
    verdict = _run(code(severity=Severity.MEDIUM), FALSE_POSITIVE)
    assert verdict.decision is Decision.PASS
    assert verdict.findings[0].reason == (
        "false positive in the register, approved by alice: test fixture only")


def test_decisions_unblock_only_up_to_the_policys_max_severity() -> None:
    critical = dependency(severity=Severity.CRITICAL)
    default = _run(critical, accepted())
    assert default.decision is Decision.BLOCK
    assert "only up to high severity" in default.findings[0].reason
    allowed = policy(BLOCK_HIGH + "decisions: {max_severity: critical}\n")
    assert _run(critical, accepted(), allowed).decision is Decision.PASS
    # unknown severity is read as the policy's unknown_severity (critical here)
    unknown = dependency(severity=Severity.UNKNOWN)
    strict = policy(BLOCK_HIGH + "unknown_severity: critical\n")
    assert _run(unknown, accepted(), strict).decision is Decision.BLOCK


def test_the_policy_can_turn_register_decisions_off() -> None:
    rules = policy(BLOCK_HIGH + "decisions: {register: false}\n")
    verdict = _run(dependency(), accepted(), rules)
    assert verdict.decision is Decision.BLOCK
    assert "not used: the policy's decisions.register is false" in verdict.findings[0].reason


def test_a_policy_ignore_wins_and_a_passing_finding_keeps_its_action() -> None:
    rules = policy(BLOCK_HIGH + """
ignores:
  - {match: {package: [jinja2]}, reason: known, owner: bob, expires: 2026-12-31}
""")
    item = _run(dependency(), accepted(), rules).findings[0]
    assert item.policy_rule is not None and item.policy_rule.startswith("ignore:")
    low = _run(dependency(severity=Severity.LOW), accepted()).findings[0]
    assert low.action is Action.PASS and low.triage == accepted()


def test_vex_statements_match_by_package_and_any_alias() -> None:
    finding = dependency("PYSEC-2020-1", aliases=("CVE-2020-28493",))
    vex = TriageDecision(status=TriageStatus.FALSE_POSITIVE, reason="vulnerable_code_not_present",
                         source="VEX file a.json")
    rule = AdvisoryDecision(package="Jinja2", ids=frozenset({"CVE-2020-28493"}), decision=vex)
    other_version = AdvisoryDecision(package="jinja2", version="9.9",
                                     ids=frozenset({"CVE-2020-28493"}), decision=vex)
    assert Decisions(by_advisory=(other_version,)).for_finding(finding) is None
    verdict = evaluate([finding], policy(BLOCK_HIGH), decisions=Decisions(by_advisory=(rule,)),
                       today=TODAY)
    assert verdict.decision is Decision.PASS
    assert verdict.findings[0].policy_rule == "VEX file a.json:false_positive"


@pytest.mark.parametrize(
    ("note", "text"),
    [
        (DecisionsNote(source="register http://r", status=DecisionsStatus.LIVE, count=2),
         "triage decisions: 2 decisions from register http://r"),
        (DecisionsNote(source="register http://r", status=DecisionsStatus.CACHED, count=1,
                       fetched_at=datetime(2026, 5, 31, 9, 0, tzinfo=UTC), error="timed out"),
         "register http://r unreachable (timed out): using 1 cached decision from "
         "2026-05-31 09:00 UTC ("),
        (DecisionsNote(source="register http://r", status=DecisionsStatus.UNAVAILABLE,
                       error="connection refused"),
         "register http://r unreachable (connection refused): no cached decisions; none applied"),
    ],
)
def test_every_verdict_says_where_its_decisions_stood(note: DecisionsNote, text: str) -> None:
    decisions = Decisions(notes=(note,))
    verdict = evaluate([dependency()], policy(BLOCK_HIGH), decisions=decisions, today=TODAY)
    assert verdict.decision_sources == (note,)
    assert any(reason.startswith(text) for reason in verdict.reasons), verdict.reasons


def test_a_decision_on_code_follows_an_in_place_edit_but_not_unrelated_code() -> None:
    before = code(matched='app.run(host="0.0.0.0", debug=debug)')
    after = code(matched='app.run(host="0.0.0.0", debug=False)')
    unrelated = code(matched="cursor.execute(query_built_from_user_input + suffix)")
    anchor = CodeAnchor(rule_id=before.rule_id, path="src/app.py", snippet=before.snippet or "",
                        start_line=3)
    decision = accepted().model_copy(update={"code": anchor})
    decisions = Decisions({before.fingerprint: decision})
    edited = evaluate([after], policy(BLOCK_HIGH), decisions=decisions, today=TODAY)
    assert edited.decision is Decision.PASS
    assert "code edited since the decision" in edited.findings[0].reason
    still_there = evaluate([before, after], policy(BLOCK_HIGH), decisions=decisions, today=TODAY)
    assert still_there.decision is Decision.BLOCK, "the decided code is still there: a new one"
    other = evaluate([unrelated], policy(BLOCK_HIGH), decisions=decisions, today=TODAY)
    assert other.decision is Decision.BLOCK
