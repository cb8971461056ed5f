"""Scoring in business terms: probability and impact 1-5 with reasons, 5×5 band, money estimate.

Every function here is pure (`Scorer` memoises them for a large run); the register scores
entries with it and the gate's reports rank remediation by it (`gate.remediation`). The rules
(also in the README):

Probability (likelihood of exploitation)
  5  listed in CISA KEV (known exploited)
  EPSS percentile p when known: p ≥ 0.95 → 5, ≥ 0.80 → 4, ≥ 0.50 → 3, ≥ 0.20 → 2, else 1
  dependency without EPSS: a published fix → 3 (the patch shows the flaw), no fix → 2
  code finding: scanner confidence high → 4, medium → 3, low → 2, not reported → 3

Impact (harm if exploited)
  from CVSS base score when known (≥ 9 → 5, ≥ 7 → 4, ≥ 4 → 3, > 0 → 2, 0 → 1), else severity
  (critical 5, high 4, medium 3, low 2, info 1; unknown → 4, "treated as high until triaged"),
  then moved by at most one level: +1 for business criticality high/critical or data
  restricted/confidential, -1 for criticality low or public data (both must agree to move it
  down; either raises it), clamped to 1..5.

Score = probability × impact; bands: 1-4 low, 5-9 medium, 10-16 high, 20-25 critical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from gate.models import (
    Criticality,
    DataClassification,
    Finding,
    FindingKind,
    MoneyModel,
    RiskContext,
    Severity,
)

LIKELIHOOD_WORDS = {1: "Rare", 2: "Unlikely", 3: "Possible", 4: "Likely", 5: "Almost certain"}
IMPACT_WORDS = {1: "Negligible", 2: "Minor", 3: "Moderate", 4: "Major", 5: "Severe"}
BANDS = (("low", 1, 4), ("medium", 5, 9), ("high", 10, 16), ("critical", 20, 25))
UNKNOWN_SEVERITY_IMPACT = 4

_SEVERITY_IMPACT = {
    Severity.CRITICAL: 5,
    Severity.HIGH: 4,
    Severity.MEDIUM: 3,
    Severity.LOW: 2,
    Severity.INFO: 1,
}
_EPSS_LEVELS = ((0.95, 5), (0.80, 4), (0.50, 3), (0.20, 2))
_CVSS_LEVELS = ((9.0, 5), (7.0, 4), (4.0, 3), (0.1, 2))
_CONFIDENCE = {"high": 4, "medium": 3, "low": 2}
_RAISING_CRITICALITY = {Criticality.HIGH, Criticality.CRITICAL}
_RAISING_DATA = {DataClassification.CONFIDENTIAL, DataClassification.RESTRICTED}


@dataclass(frozen=True, kw_only=True)
class Level:
    """A 1-5 level and why."""

    value: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class RiskScore:
    """Probability, impact, their product, the band and the words a manager reads."""

    probability: int
    impact: int
    probability_reason: str
    impact_reason: str
    score: int
    band: str
    likelihood_word: str
    impact_word: str


@dataclass(frozen=True, kw_only=True)
class AnnualLoss:
    """Expected annual loss range (an estimate, FAIR-style: frequency × loss magnitude)."""

    low: float
    high: float
    currency: str


def band_for(score: int) -> str:
    """The band of a 1-25 score."""
    for name, low, high in BANDS:
        if low <= score <= high:
            return name
    raise ValueError(f"score {score} is outside 1..25")


def probability_of(finding: Finding) -> Level:
    """How likely exploitation is, from KEV, EPSS, a public fix, or code-finding confidence."""
    if finding.known_exploited:
        return Level(value=5, reason="listed in CISA KEV: known to be exploited")
    if finding.epss_percentile is not None:
        value, reason = _epss_level(finding.epss_percentile)
        return Level(value=value, reason=reason)
    if finding.kind is FindingKind.CODE:
        return _code_probability(finding.confidence)
    if finding.fix_available:
        return Level(value=3, reason="public advisory with a published fix (the patch shows how)")
    return Level(value=2, reason="public advisory, no fix published, no exploit data")


def _epss_level(percentile: float) -> tuple[int, str]:
    return _epss_value(percentile), _epss_text(percentile)


def _epss_value(percentile: float) -> int:
    for threshold, value in _EPSS_LEVELS:
        if percentile >= threshold:
            return value
    return 1


def _epss_text(percentile: float) -> str:
    return f"EPSS percentile {percentile:.2f}"


def _cvss_level(score: float) -> tuple[int, str]:
    return next((v for t, v in _CVSS_LEVELS if score >= t), 1), f"CVSS {score:.1f}"


def _code_probability(confidence: str | None) -> Level:
    key = (confidence or "").lower()
    if key in _CONFIDENCE:
        return Level(value=_CONFIDENCE[key], reason=f"code finding, scanner confidence {key}")
    return Level(value=3, reason="code finding, confidence not reported: possible")


def base_impact(finding: Finding) -> Level:
    """Impact from the CVSS base score, else the severity; unknown severity counts as high."""
    if finding.cvss_score is not None:
        value, reason = _cvss_level(finding.cvss_score)
        return Level(value=value, reason=reason)
    if finding.severity is Severity.UNKNOWN:
        return Level(
            value=UNKNOWN_SEVERITY_IMPACT,
            reason="severity unknown: treated as high until triaged",
        )
    return Level(value=_SEVERITY_IMPACT[finding.severity], reason=f"severity {finding.severity}")


def business_adjustment(context: RiskContext) -> Level:
    """-1, 0 or +1 from the asset's business criticality and data classification."""
    crit, data = context.business_criticality, context.data_classification
    what = f"criticality {crit}, data {data}"
    if crit in _RAISING_CRITICALITY or data in _RAISING_DATA:
        return Level(value=1, reason=f"raised by {what}")
    if crit is Criticality.LOW and data is DataClassification.PUBLIC:
        return Level(value=-1, reason=f"lowered by {what}")
    return Level(value=0, reason=what)


def impact_of(finding: Finding, context: RiskContext) -> Level:
    """Base impact moved by the business adjustment, clamped to 1..5."""
    base, adjust = base_impact(finding), business_adjustment(context)
    value = min(5, max(1, base.value + adjust.value))
    return Level(value=value, reason=f"{base.reason}; {adjust.reason}")


def score_finding(finding: Finding, context: RiskContext) -> RiskScore:
    """The full business score of one finding in one asset's context."""
    return score_of(probability_of(finding), impact_of(finding, context))


def score_of(probability: Level, impact: Level) -> RiskScore:
    """The score of a probability and an impact (`score_finding` after its two levels)."""
    score = probability.value * impact.value
    return RiskScore(
        probability=probability.value,
        impact=impact.value,
        probability_reason=probability.reason,
        impact_reason=impact.reason,
        score=score,
        band=band_for(score),
        likelihood_word=LIKELIHOOD_WORDS[probability.value],
        impact_word=IMPACT_WORDS[impact.value],
    )


def expected_annual_loss(
    *, probability: int, impact: int, money: MoneyModel | None
) -> AnnualLoss | None:
    """Annual frequency for the probability × loss range for the impact, or None if not given."""
    if money is None:
        return None
    frequency = money.annual_frequency_per_probability.get(probability)
    loss = money.loss_per_impact.get(impact)
    if frequency is None or loss is None:
        return None
    return AnnualLoss(low=frequency * loss[0], high=frequency * loss[1], currency=money.currency)


def sla_days_for(severity: Severity, context: RiskContext) -> int:
    """Days allowed to fix a risk of this severity under the policy."""
    return context.sla_days.get(severity, context.sla_days.get(Severity.UNKNOWN, 30))


def sla_days_of(finding: Finding, context: RiskContext) -> int:
    """The finding's SLA: its severity's, or the policy's KEV SLA when shorter and it is in KEV.

    CISA's own due date is a deadline for US federal agencies set when CISA listed the CVE,
    often years ago; ours runs from when we first saw the risk (the date is kept as a field).
    """
    days = sla_days_for(finding.severity, context)
    return min(days, context.kev_sla_days) if finding.known_exploited else days


def due_date_for(finding: Finding, *, opened_at: datetime, sla_days: int) -> date:
    """The deadline: the day the risk was opened (first seen or reopened) + its SLA days.

    Never before that day, whatever dates the finding carries (CISA's due date is not ours).
    """
    del finding  # the SLA already holds what the finding changes (see `sla_days_of`)
    return opened_at.date() + timedelta(days=sla_days)


class ScoreFigures(NamedTuple):
    """What a score adds to its two levels: product, band, SLA days and expected loss."""

    score: int
    band: str
    sla_days: int
    loss_low: float | None
    loss_high: float | None


@dataclass(kw_only=True)
class Scorer:
    """Scores, SLA days and loss of many findings in one context, each computed once per input.

    Probability and impact are memoised apart on what each reads of a finding (the EPSS
    percentile as its level and its shown text, see `probability_of`; the CVSS score and
    severity, see `impact_of`), and the figures on the two levels' values with what the SLA
    reads: a large run holds many EPSS and CVSS values but few distinct levels and texts.
    """

    context: RiskContext
    probability: dict[tuple[Any, ...], Level] = field(default_factory=dict)
    impact: dict[tuple[Any, ...], Level] = field(default_factory=dict)
    memo: dict[tuple[Any, ...], ScoreFigures] = field(default_factory=dict)

    def levels(self, finding: Finding) -> tuple[Level, Level, ScoreFigures]:
        """The finding's probability, impact and figures, as `score_finding`,
        `sla_days_of` and `expected_annual_loss` give them."""
        epss = finding.epss_percentile
        if finding.known_exploited:
            chance: tuple[Any, ...] = (True,)
        elif epss is not None:
            chance = (_epss_value(epss), _epss_text(epss))
        elif finding.kind is FindingKind.CODE:
            chance = (finding.kind, finding.confidence)
        else:
            chance = (finding.kind, bool(finding.fix_versions))
        probability = self.probability.get(chance)
        if probability is None:
            probability = self.probability[chance] = probability_of(finding)
        harm = (_exact(finding.cvss_score), finding.severity)
        impact = self.impact.get(harm)
        if impact is None:
            impact = self.impact[harm] = impact_of(finding, self.context)
        key = (probability.value, impact.value, finding.severity, finding.known_exploited)
        figures = self.memo.get(key)
        if figures is None:
            figures = self.memo[key] = self._figures(probability, impact, finding)
        return probability, impact, figures

    def _figures(self, probability: Level, impact: Level, finding: Finding) -> ScoreFigures:
        score = score_of(probability, impact)
        loss = expected_annual_loss(
            probability=score.probability, impact=score.impact, money=self.context.money
        )
        return ScoreFigures(
            score=score.score, band=score.band, sla_days=sla_days_of(finding, self.context),
            loss_low=loss.low if loss else None, loss_high=loss.high if loss else None,
        )


def _exact(number: float | None) -> float | str | None:
    """A number as a memo key: -0.0 equals 0.0 but reads "-0.0" in a reason."""
    return repr(number) if number == 0 else number
