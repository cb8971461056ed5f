"""The register's scoring, kept in `gate.scoring` (the gate's reports rank remediation by it too).

Re-exported here so the register reads `register.scoring` as before.
"""

from gate.scoring import (
    BANDS,
    IMPACT_WORDS,
    LIKELIHOOD_WORDS,
    UNKNOWN_SEVERITY_IMPACT,
    AnnualLoss,
    Level,
    RiskScore,
    ScoreFigures,
    Scorer,
    band_for,
    base_impact,
    business_adjustment,
    due_date_for,
    expected_annual_loss,
    impact_of,
    probability_of,
    score_finding,
    score_of,
    sla_days_for,
    sla_days_of,
)

__all__ = [
    "AnnualLoss",
    "BANDS",
    "IMPACT_WORDS",
    "LIKELIHOOD_WORDS",
    "Level",
    "RiskScore",
    "UNKNOWN_SEVERITY_IMPACT",
    "band_for",
    "base_impact",
    "business_adjustment",
    "due_date_for",
    "expected_annual_loss",
    "impact_of",
    "probability_of",
    "score_finding",
    "Scorer",
    "ScoreFigures",
    "score_of",
    "sla_days_for",
    "sla_days_of",
]
