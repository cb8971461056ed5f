"""Apply a policy to findings: a pure function from findings, policy and baseline to a Verdict.

Per finding: an unexpired matching ignore wins; otherwise the strongest matching rule (block >
warn > pass, the first rule giving that action named), else the policy's default action. A
block or warn that a triage decision covers (a risk accepted until a date not yet past, or a
false positive, from the register or a VEX file) is `ignore`d with the decision as its reason,
if the policy's `decisions:` allows that source and severity. A finding already present at
the baseline is `existing` rather than blocking. The decision: a
failed scanner that is not fail-open is an ERROR (fail closed); then any block, then any warn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from gate.decisions.interface import Decisions
from gate.models import (
    Action,
    Decision,
    EvaluatedFinding,
    ExpiredIgnore,
    Finding,
    ScannerRun,
    ScannerStatus,
    Severity,
    TriageDecision,
    TriageStatus,
    Verdict,
)
from gate.policy.match import matches
from gate.policy.owners import OwnerResolver
from gate.policy.schema import Ignore, Policy, Rule

_VERBS = {
    Action.BLOCK: "blocked",
    Action.WARN: "warned",
    Action.PASS: "passed",
    Action.IGNORE: "ignored",
    Action.EXISTING: "already present at baseline",
}
_ACTION_ORDER = {Action.BLOCK: 0, Action.WARN: 1, Action.EXISTING: 2, Action.PASS: 3}


@dataclass(frozen=True, kw_only=True)
class _Outcome:
    action: Action
    reason: str
    rule: str | None
    triage: TriageDecision | None = None


def evaluate(
    findings: Sequence[Finding],
    policy: Policy,
    *,
    baseline: frozenset[str] | None = None,
    scanners: Sequence[ScannerRun] = (),
    owners: OwnerResolver | None = None,
    decisions: Decisions | None = None,
    today: date | None = None,
) -> Verdict:
    """The verdict of `policy` on `findings`; `today` defaults to the UTC date, else pure."""
    day = today or datetime.now(UTC).date()
    resolver = owners or OwnerResolver(policy)
    active = tuple(i for i in policy.ignores if not i.expired(day))
    expired = tuple(i for i in policy.ignores if i.expired(day))
    unique = dedupe(findings)
    known = Decisions() if decisions is None else decisions
    triage = _Triage(policy=policy, decisions=known, resolved=known.resolve(unique), day=day)
    evaluated = [
        _evaluate_one(
            finding, policy, active=active, expired=expired, baseline=baseline, triage=triage
        )
        for finding in unique
    ]
    results = tuple(
        sorted(
            (_with_owner(item, resolver) for item in evaluated),
            key=lambda item: _order(item, policy),
        )
    )
    runs = tuple(
        run.model_copy(update={"fail_open": policy.scanners.fail_open(run.name)})
        for run in scanners
    )
    return Verdict(
        decision=_decision(results, runs),
        reasons=(
            *_scanner_reasons(runs),
            *(note.describe() for note in triage.decisions.notes),
            *_finding_reasons(results),
            *_triage_reasons(results),
            *_expiry_reasons(expired),
        ),
        findings=results,
        scanners=runs,
        expired_ignores=tuple(_expired_record(i) for i in expired),
        decision_sources=triage.decisions.notes,
        context=policy.risk_context(),
        policy_name=policy.name,
        policy_digest=policy.digest,
    )


def _evaluate_one(
    finding: Finding,
    policy: Policy,
    *,
    active: tuple[Ignore, ...],
    expired: tuple[Ignore, ...],
    baseline: frozenset[str] | None,
    triage: _Triage,
) -> EvaluatedFinding:
    outcome = _ignored(finding, policy, active) or triage.apply(_ruled(finding, policy), finding)
    outcome = _against_baseline(outcome, finding, baseline)
    lapsed = [i for i in expired if matches(i.match, finding, unknown_as=policy.unknown_severity)]
    if lapsed and outcome.action is not Action.IGNORE:
        notes = "; ".join(f"ignore '{i.label}' expired on {i.expires.isoformat()}" for i in lapsed)
        outcome = replace(outcome, reason=f"{outcome.reason} ({notes})")
    return EvaluatedFinding(
        finding=finding,
        action=outcome.action,
        reason=outcome.reason,
        policy_rule=outcome.rule,
        triage=outcome.triage,
        in_baseline=None if baseline is None else finding.fingerprint in baseline,
    )


@dataclass(frozen=True, kw_only=True)
class _Triage:
    """Applies register and VEX decisions to the outcome of the rules."""

    policy: Policy
    decisions: Decisions
    resolved: dict[str, TriageDecision]
    day: date

    def apply(self, outcome: _Outcome, finding: Finding) -> _Outcome:
        """Unblock a block or warn the decision covers; otherwise say why it did not."""
        decision = self.resolved.get(finding.fingerprint)
        if decision is None:
            return outcome
        if outcome.action not in (Action.BLOCK, Action.WARN):
            return replace(outcome, triage=decision)
        refusal = self._refusal(decision, finding)
        if refusal:
            return replace(outcome, reason=f"{outcome.reason} ({refusal})", triage=decision)
        rule = f"{decision.source}:{decision.status.value}"
        return _Outcome(action=Action.IGNORE, reason=decision.describe(), rule=rule,
                        triage=decision)

    def _refusal(self, decision: TriageDecision, finding: Finding) -> str | None:
        settings = self.policy.decisions
        kind = "vex" if decision.source.startswith("VEX") else "register"
        if not settings.allows(kind):
            return f"{decision.describe()}; not used: the policy's decisions.{kind} is false"
        if not decision.active(self.day):
            return _expiry_note(decision)
        severity = self.policy.effective_severity(finding.severity)
        if severity.rank > settings.max_severity.rank:
            return (
                f"{decision.describe()}; not used: the policy lets triage decisions unblock "
                f"only up to {settings.max_severity.value} severity"
            )
        return None


def _against_baseline(
    outcome: _Outcome, finding: Finding, baseline: frozenset[str] | None
) -> _Outcome:
    """A block or warn on a finding that already existed at the baseline does not gate."""
    gating = outcome.action in (Action.BLOCK, Action.WARN)
    if baseline is None or not gating or finding.fingerprint not in baseline:
        return outcome
    return _Outcome(action=Action.EXISTING, reason="already present at baseline", rule=outcome.rule)


def _ignored(finding: Finding, policy: Policy, active: tuple[Ignore, ...]) -> _Outcome | None:
    for ignore in active:
        if matches(ignore.match, finding, unknown_as=policy.unknown_severity):
            reason = (
                f"ignored until {ignore.expires.isoformat()} by {ignore.owner}: {ignore.reason}"
            )
            return _Outcome(action=Action.IGNORE, reason=reason, rule=f"ignore:{ignore.label}")
    return None


def _ruled(finding: Finding, policy: Policy) -> _Outcome:
    best: Rule | None = None
    for rule in policy.rules:
        if matches(rule.match, finding, unknown_as=policy.unknown_severity) and (
            best is None or rule.action.strength > best.action.strength
        ):
            best = rule
    if best is None:
        action = policy.default_action.to_action()
        return _Outcome(action=action, reason="no rule matched; default action", rule=None)
    verb = _VERBS[best.action.to_action()]
    reason = f"{verb} by rule '{best.name}'"
    if _by_unknown_severity(best, finding):
        reason += f": unknown severity, counted as {policy.unknown_severity} by the policy"
    elif best.description.strip():
        reason += f": {best.description.strip()}"
    return _Outcome(action=best.action.to_action(), reason=reason, rule=best.name)


def _by_unknown_severity(rule: Rule, finding: Finding) -> bool:
    """True when the rule matched an unrated finding through its severity condition.

    Its description ("critical or high severity") would then misstate why: the reason names
    the unknown severity instead.
    """
    spec = rule.match
    if finding.severity is not Severity.UNKNOWN:
        return False
    named = spec.severity is not None and Severity.UNKNOWN not in spec.severity
    return named or spec.min_severity is not None


def _with_owner(item: EvaluatedFinding, resolver: OwnerResolver) -> EvaluatedFinding:
    return item.model_copy(update={"owner": resolver.owner_for(item.finding)})


def _order(item: EvaluatedFinding, policy: Policy) -> tuple[int, int, int, str, str]:
    """Most severe first (unknown as the policy reads it), then blocking before the rest."""
    finding = item.finding
    return (
        -policy.effective_severity(finding.severity).rank,
        int(finding.severity.rank == 0),
        _ACTION_ORDER.get(item.action, 4),
        finding.location.display(),
        finding.rule_id,
    )


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per fingerprint: the most informative, with the others' aliases merged."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.fingerprint, []).append(finding)
    return [_merge(group) for group in groups.values()]


def _information(finding: Finding) -> tuple[int, int, int]:
    known = int(finding.severity.rank > 0)
    fields = len(finding.model_dump(exclude_defaults=True))
    return (known, fields, finding.severity.rank)


def _merge(group: list[Finding]) -> Finding:
    if len(group) == 1:
        return group[0]
    best = max(group, key=_information)
    ids = {i for f in group for i in f.ids} - {best.rule_id}
    epss = [f.epss for f in group if f.epss is not None]
    percentiles = [f.epss_percentile for f in group if f.epss_percentile is not None]
    return best.model_copy(
        update={
            "aliases": tuple(sorted(ids)),
            "cwe": tuple(sorted({c for f in group for c in f.cwe})),
            "fix_versions": tuple(dict.fromkeys(v for f in group for v in f.fix_versions)),
            "known_exploited": any(f.known_exploited for f in group),
            "epss": max(epss) if epss else None,
            "epss_percentile": max(percentiles) if percentiles else None,
        }
    )


def _failed(runs: Iterable[ScannerRun]) -> list[ScannerRun]:
    return [run for run in runs if run.status is ScannerStatus.FAILED]


def _decision(results: Sequence[EvaluatedFinding], runs: Sequence[ScannerRun]) -> Decision:
    failed = _failed(runs)
    if any(not run.fail_open for run in failed):
        return Decision.ERROR
    actions = {item.action for item in results}
    if Action.BLOCK in actions:
        return Decision.BLOCK
    if Action.WARN in actions or failed:
        return Decision.WARN
    return Decision.PASS


def _scanner_reasons(runs: Sequence[ScannerRun]) -> list[str]:
    reasons = []
    for run in _failed(runs):
        error = (run.error or "unknown error").removeprefix(f"{run.name}: ")
        mode = "fail open: its findings are missing" if run.fail_open else "fail closed"
        reasons.append(f"{run.name} failed: {error} ({mode})")
    return reasons


def _plural(count: int) -> str:
    return f"{count} finding" if count == 1 else f"{count} findings"


def _finding_reasons(results: Sequence[EvaluatedFinding]) -> list[str]:
    """One line per (action, rule) that blocked or warned, then totals of the rest."""
    counts = Counter((item.action, item.policy_rule) for item in results)
    reasons = []
    for action in (Action.BLOCK, Action.WARN):
        for (acted, rule), count in counts.items():
            if acted is action:
                by = f"rule '{rule}'" if rule else "the default action"
                reasons.append(f"{_plural(count)} {_VERBS[action]} by {by}")
    totals = Counter(item.action for item in results)
    if totals[Action.EXISTING]:
        existing = _plural(totals[Action.EXISTING])
        reasons.append(f"{existing} already present at baseline (not blocking)")
    by_policy = sum(1 for i in results if i.action is Action.IGNORE and not _unblocked(i))
    if by_policy:
        reasons.append(f"{_plural(by_policy)} ignored by the policy's ignores")
    if totals[Action.PASS]:
        reasons.append(f"{_plural(totals[Action.PASS])} passed")
    if not results:
        reasons.append("no findings")
    return reasons


def _unblocked(item: EvaluatedFinding) -> bool:
    """True when a triage decision, not a policy ignore, made this finding not block."""
    return item.action is Action.IGNORE and item.triage is not None and (
        item.policy_rule or ""
    ).endswith((TriageStatus.ACCEPTED.value, TriageStatus.FALSE_POSITIVE.value))


TRIAGE_REASON_LIMIT = 20


def _triage_reasons(results: Sequence[EvaluatedFinding]) -> list[str]:
    """What triage decisions unblocked (a total, then one line per finding, bounded), and
    which findings block again because their acceptance lapsed."""
    lines: list[str] = []
    unblocked = [item for item in results if _unblocked(item)]
    if unblocked:
        accepted = sum(
            1 for i in unblocked if i.triage and i.triage.status is TriageStatus.ACCEPTED
        )
        lines.append(
            f"{_plural(len(unblocked))} not blocking by triage decisions ({accepted} accepted, "
            f"{len(unblocked) - accepted} false positive)"
        )
        lines += _bounded(unblocked, lambda item: item.reason)
    lapsed = [item for item in results if _lapsed(item)]
    if lapsed:
        lines.append(f"{_plural(len(lapsed))} gating again: the acceptance expired")
        lines += _bounded(lapsed, lambda item: _expiry_note(item.triage))
    return lines


def _lapsed(item: EvaluatedFinding) -> bool:
    gating = item.action in (Action.BLOCK, Action.WARN)
    triage = item.triage
    return gating and triage is not None and triage.status is TriageStatus.ACCEPTED and (
        "blocks again" in item.reason
    )


def _expiry_note(triage: TriageDecision | None) -> str:
    source = triage.source if triage else "register"
    if triage is None or triage.until is None:
        return f"acceptance in the {source} has no end date: blocks again"
    return f"acceptance in the {source} expired on {triage.until.isoformat()}: blocks again"


def _bounded(
    items: Sequence[EvaluatedFinding], why: Callable[[EvaluatedFinding], str]
) -> list[str]:
    lines = [
        f"{item.finding.rule_id} at {item.finding.location.display()}: {why(item)}"
        for item in items[:TRIAGE_REASON_LIMIT]
    ]
    if len(items) > TRIAGE_REASON_LIMIT:
        lines.append(f"… and {len(items) - TRIAGE_REASON_LIMIT} more (see the findings)")
    return lines


def _expiry_reasons(expired: Sequence[Ignore]) -> list[str]:
    return [
        f"ignore '{i.label}' expired on {i.expires.isoformat()}; it no longer applies"
        for i in expired
    ]


def _expired_record(ignore: Ignore) -> ExpiredIgnore:
    return ExpiredIgnore(
        rule=ignore.label, reason=ignore.reason, owner=ignore.owner, expired_on=ignore.expires
    )
