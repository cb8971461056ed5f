"""Scoring rules: probability, impact, bands, words, unknown severity, money and deadlines."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from gate.models import Criticality, DataClassification, MoneyModel, RiskContext, Severity
from register.scoring import (
    ScoreFigures,
    Scorer,
    band_for,
    due_date_for,
    expected_annual_loss,
    probability_of,
    score_finding,
    sla_days_of,
)
from tests.register.factories import code, dependency

MEDIUM_INTERNAL = RiskContext()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"known_exploited": True, "epss_percentile": 0.1}, 5),
        ({"epss_percentile": 0.97}, 5),
        ({"epss_percentile": 0.85}, 4),
        ({"epss_percentile": 0.6}, 3),
        ({"epss_percentile": 0.3}, 2),
        ({"epss_percentile": 0.05}, 1),
        ({}, 3),  # a published fix, no EPSS
        ({"fix_versions": ()}, 2),
    ],
)
def test_dependency_probability(extra: dict[str, object], expected: int) -> None:
    finding = dependency("django", "CVE-2024-1", **extra)  # type: ignore[arg-type]
    assert probability_of(finding).value == expected


@pytest.mark.parametrize(("confidence", "expected"), [("HIGH", 4), ("medium", 3), ("low", 2),
                                                      (None, 3)])
def test_code_probability_follows_confidence(confidence: str | None, expected: int) -> None:
    assert probability_of(code("r", "a.py", "x", confidence=confidence)).value == expected


@pytest.mark.parametrize(
    ("severity", "cvss", "context", "impact"),
    [
        (Severity.CRITICAL, None, MEDIUM_INTERNAL, 5),
        (Severity.LOW, None, MEDIUM_INTERNAL, 2),
        (Severity.LOW, 9.8, MEDIUM_INTERNAL, 5),  # CVSS wins over the label
        (Severity.MEDIUM, None, RiskContext(business_criticality=Criticality.CRITICAL), 4),
        (Severity.MEDIUM, None,
         RiskContext(data_classification=DataClassification.RESTRICTED), 4),
        (Severity.MEDIUM, None, RiskContext(business_criticality=Criticality.LOW,
                                            data_classification=DataClassification.PUBLIC), 2),
        (Severity.CRITICAL, None, RiskContext(business_criticality=Criticality.CRITICAL), 5),
        (Severity.INFO, None, RiskContext(business_criticality=Criticality.LOW,
                                          data_classification=DataClassification.PUBLIC), 1),
    ],
)
def test_impact_from_severity_and_business(
    severity: Severity, cvss: float | None, context: RiskContext, impact: int
) -> None:
    finding = dependency("django", "CVE-2024-1", severity=severity, cvss_score=cvss)
    assert score_finding(finding, context).impact == impact


def test_unknown_severity_is_not_hidden() -> None:
    score = score_finding(code("r", "a.py", "x", severity=Severity.UNKNOWN), MEDIUM_INTERNAL)
    assert score.impact == 4
    assert "severity unknown" in score.impact_reason
    assert score.band == "high"


def test_worked_example_from_the_readme() -> None:
    finding = dependency("pyyaml", "CVE-2020-14343", severity=Severity.CRITICAL, cvss_score=9.8,
                         known_exploited=True)
    context = RiskContext(business_criticality=Criticality.HIGH)
    score = score_finding(finding, context)
    assert (score.probability, score.impact, score.score, score.band) == (5, 5, 25, "critical")
    assert (score.likelihood_word, score.impact_word) == ("Almost certain", "Severe")
    assert "KEV" in score.probability_reason and "CVSS 9.8" in score.impact_reason


@pytest.mark.parametrize(("score", "band"), [(1, "low"), (4, "low"), (5, "medium"), (9, "medium"),
                                             (10, "high"), (16, "high"), (20, "critical"),
                                             (25, "critical")])
def test_bands(score: int, band: str) -> None:
    assert band_for(score) == band


def test_expected_annual_loss_is_frequency_times_loss_range() -> None:
    money = MoneyModel(currency="EUR", loss_per_impact={4: (10_000.0, 50_000.0)},
                       annual_frequency_per_probability={3: 0.5})
    loss = expected_annual_loss(probability=3, impact=4, money=money)
    assert loss is not None and (loss.low, loss.high, loss.currency) == (5000.0, 25000.0, "EUR")
    assert expected_annual_loss(probability=2, impact=4, money=money) is None
    assert expected_annual_loss(probability=3, impact=4, money=None) is None


def test_kev_deadline_runs_from_first_seen_never_from_cisas_date() -> None:
    opened = datetime(2026, 1, 5, tzinfo=UTC)
    context = RiskContext(kev_sla_days=14)
    kev = dependency("pyyaml", "CVE-1", known_exploited=True, kev_due_date=date(2022, 5, 3))
    sla = sla_days_of(kev, context)
    assert sla == 14
    assert due_date_for(kev, opened_at=opened, sla_days=sla) == date(2026, 1, 19)
    critical = kev.model_copy(update={"severity": Severity.CRITICAL})
    assert sla_days_of(critical, context) == 7  # the severity's SLA when shorter
    plain = dependency("pyyaml", "CVE-1")
    assert sla_days_of(plain, context) == 30
    assert due_date_for(plain, opened_at=opened, sla_days=30) == date(2026, 2, 4)




def test_the_memoising_scorer_scores_every_finding_as_score_finding_does() -> None:
    """Recording scores with `Scorer` (levels memoised on their raw inputs): never another score."""
    rng = random.Random(7)  # noqa: S311 - test data, not secrets
    money = MoneyModel(currency="EUR", annual_frequency_per_probability={3: 0.2, 4: 0.5, 5: 1.0},
                       loss_per_impact={3: (10, 20), 4: (100, 200), 5: (1000, 2000)})
    context = RiskContext(business_criticality=Criticality.HIGH, kev_sla_days=3, money=money)
    scorer = Scorer(context=context)
    for n in range(3000):
        extra = {
            "severity": rng.choice(list(Severity)),
            "epss_percentile": rng.choice([None, rng.random(), 0.7996, 0.8, 0.19999, 0.0, -0.0]),
            "cvss_score": rng.choice([None, round(rng.uniform(0, 10), 2), 6.95, 7.0, 0.0, -0.0]),
            "known_exploited": rng.random() < 0.1,
        }
        finding = (dependency(f"pkg{n % 7}", f"CVE-2024-{n}",
                              fix_versions=rng.choice([(), ("2.0",)]), **extra)
                   if n % 3 else code("rule", f"m{n}.py", "x", confidence=rng.choice(
                       [None, "high", "Medium", "odd"]), **extra))
        score = score_finding(finding, context)
        loss = expected_annual_loss(
            probability=score.probability, impact=score.impact, money=money)
        probability, impact, figures = scorer.levels(finding)
        assert (probability.value, probability.reason) == (
            score.probability, score.probability_reason), finding
        assert (impact.value, impact.reason) == (score.impact, score.impact_reason), finding
        assert figures == ScoreFigures(
            score=score.score, band=score.band, sla_days=sla_days_of(finding, context),
            loss_low=loss.low if loss else None, loss_high=loss.high if loss else None,
        ), finding
    assert len(scorer.memo) < 3000 / 20  # the point: far fewer distinct figures than findings
