"""What a verdict says about its advisory data: where it came from, its age, what is missing.

Two things change a decision. Records that could not be fetched leave findings `unknown`: a
reason says so and a passing run warns (never a silent pass). Data older than the policy's
`advisories.max_age_days` warns, or blocks with `on_stale: block` (fail closed).
"""

from __future__ import annotations

from datetime import UTC, datetime

from gate.models import AdvisoryData, Decision, Severity, Verdict
from gate.policy.schema import AdvisoriesConfig

_STRONGER = {
    "warn": {Decision.PASS: Decision.WARN},
    "block": {Decision.PASS: Decision.BLOCK, Decision.WARN: Decision.BLOCK},
}


def with_advisory_note(
    verdict: Verdict,
    data: AdvisoryData,
    *,
    policy: AdvisoriesConfig | None = None,
    now: datetime | None = None,
) -> Verdict:
    """The verdict with `data` attached (age judged) and the reasons it gives, if any."""
    config = policy or AdvisoriesConfig()
    data = _aged(data, config, now or datetime.now(UTC))
    reasons = list(verdict.reasons)
    decision = verdict.decision
    missing = set(data.unresolved)
    unrated = [
        item
        for item in verdict.findings
        if item.finding.severity is Severity.UNKNOWN and missing.intersection(item.finding.ids)
    ]
    if unrated:
        reasons.append(
            f"advisory lookup failed ({data.note}): {len(unrated)} dependency findings keep "
            "unknown severity"
        )
        decision = _STRONGER["warn"].get(decision, decision)
    if data.stale and data.as_of is not None:
        reasons.append(
            f"advisory data is {data.age_days:.1f} days old (last confirmed current "
            f"{data.as_of:%Y-%m-%d %H:%M} UTC; the policy allows {config.max_age_days}): "
            "run `gate advisories sync`"
        )
        decision = _STRONGER[config.on_stale].get(decision, decision)
    return verdict.model_copy(
        update={"advisories": data, "reasons": tuple(reasons), "decision": decision}
    )


def _aged(data: AdvisoryData, config: AdvisoriesConfig, now: datetime) -> AdvisoryData:
    if data.as_of is None:
        return data
    age = max((now - data.as_of).total_seconds() / 86400, 0.0)
    return data.model_copy(
        update={"age_days": round(age, 2), "stale": age > config.max_age_days}
    )
