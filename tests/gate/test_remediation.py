"""Remediation targets, upgrade plans and exposure: pure functions over findings."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from gate.advisories.enrich import records_of
from gate.advisories.osv import MemoryIndex, OsvRecord, load_advisory_dir
from gate.fingerprint import dependency_fingerprint
from gate.models import (
    Action,
    Decision,
    EvaluatedFinding,
    Finding,
    FindingKind,
    Location,
    MoneyModel,
    RiskContext,
    Severity,
    Verdict,
)
from gate.remediation import (
    AdvisoryFix,
    Exposure,
    allocate_losses,
    plan,
    remediation_target,
    verdict_plan,
    versions_above,
    with_remediation,
)
from gate.report.markdown import render_markdown
from gate.report.text import render_text
from tests.conftest import FIXTURES, REPO_ROOT


@pytest.fixture(scope="module")
def aliased() -> MemoryIndex:
    return load_advisory_dir(FIXTURES / "advisories" / "aliases")


def finding(
    advisory: str, *, package: str = "alias-pkg", version: str = "1.2",
    fixes: Sequence[str] = (), manifest: str = "requirements.txt", **extra: object,
) -> Finding:
    return Finding(
        kind=FindingKind.DEPENDENCY, scanner="pip-audit", rule_id=advisory, title=advisory,
        fingerprint=dependency_fingerprint(package=package, advisory_ids=[advisory]),
        location=Location(package=package, version=version, manifest=manifest),
        fix_versions=tuple(fixes), **extra,  # type: ignore[arg-type]
    )


def records(index: MemoryIndex, *ids: str) -> tuple[OsvRecord, ...]:
    return tuple(r for i in ids if (r := index.get(i)) is not None)


def test_target_is_the_smallest_version_above_installed_outside_every_range(
    aliased: MemoryIndex,
) -> None:
    # PYSEC-2099-2 is fixed in 1.3.0 (branch 1.x) and 2.0.5; PYSEC-2099-1 only in 1.4.2:
    # 1.3.0 still has PYSEC-2099-1, so the target is 1.4.2, not the first fix listed.
    advisories = [
        AdvisoryFix(fix_versions=("1.4.2",), records=records(aliased, "PYSEC-2099-1")),
        AdvisoryFix(fix_versions=("1.3.0", "2.0.5"), records=records(aliased, "PYSEC-2099-2")),
    ]
    assert remediation_target("alias-pkg", "1.2", advisories) == "1.4.2"
    # On the 2.x branch: 2.0.5 is the only fix above 2.0.1 and PYSEC-2099-1 no longer applies.
    assert remediation_target("alias-pkg", "2.0.1", advisories[1:]) == "2.0.5"


def test_an_advisory_without_fix_leaves_no_target(aliased: MemoryIndex) -> None:
    advisories = [
        AdvisoryFix(fix_versions=("1.4.2",), records=records(aliased, "PYSEC-2099-1")),
        AdvisoryFix(records=records(aliased, "PYSEC-2099-3")),  # last_affected 1.4.9, no fix
    ]
    assert remediation_target("alias-pkg", "1.2", advisories) is None


def test_without_records_a_fix_above_installed_and_at_most_the_candidate_counts() -> None:
    advisories = [AdvisoryFix(fix_versions=("2.2.5", "3.0.1")), AdvisoryFix(fix_versions=("2.3",))]
    assert remediation_target("p", "2.2.0", advisories) == "2.3"
    assert remediation_target("p", "3.0.0", advisories[:1]) == "3.0.1"
    assert remediation_target("p", "3.0.0", advisories) is None  # 2.3 is no fix above 3.0.0
    assert remediation_target("p", "not a version", advisories) is None


def test_fix_versions_below_the_installed_one_are_never_offered() -> None:
    assert versions_above("3000", ["2015.8.10", "3000.2", "2019.2.4", "3001"]) == ("3000.2", "3001")
    found = with_remediation(
        [finding("PYSEC-1", package="salt", version="3000", fixes=("2015.8.10", "3000.2")),
         finding("PYSEC-2", package="salt", version="3000", fixes=("2019.2.4", "3000.3"))],
        lambda f: (),
    )
    assert [f.fix_versions for f in found] == [("3000.2",), ("3000.3",)]
    assert {f.remediation_target for f in found} == {"3000.3"}


def test_pipeline_records_choose_the_target(aliased: MemoryIndex) -> None:
    found = with_remediation(
        [finding("PYSEC-2099-1", fixes=("1.4.2",)), finding("PYSEC-2099-2", fixes=("1.3.0",))],
        records_of(aliased),
    )
    assert {f.remediation_target for f in found} == {"1.4.2"}


def test_salt_3000_from_the_pypa_data_gets_one_target_above_3000() -> None:
    index = load_advisory_dir(REPO_ROOT / "examples" / "advisories")
    salt = index.query("salt", "3000")
    found = with_remediation(
        [finding(r.id, package="salt", version="3000") for r in salt], records_of(index)
    )
    (target,) = {f.remediation_target for f in found}
    assert target is not None and all(not r.affects("salt", target) for r in salt)


def exposure(key: str, package: str | None, version: str | None, target: str | None,
             score: int, loss: tuple[float, float] | None = None) -> Exposure:
    return Exposure(key=key, package=package, version=version, target=target, score=score,
                    loss_low=loss[0] if loss else None, loss_high=loss[1] if loss else None)


def test_one_exposure_per_component_the_largest_loss_shared() -> None:
    items = allocate_losses([
        exposure("a", "salt", "3000", "3005.2", 20, (100.0, 1000.0)),
        exposure("b", "Salt", "3000", "3005.2", 12, (300.0, 500.0)),
        exposure("c", "salt", "3000", "3005.2", 10, None),
        exposure("d", "flask", "0.12.2", "2.2.5", 16, (50.0, 60.0)),
    ])
    shares = {i.key: (i.loss_low, i.loss_high) for i in items}
    assert shares["a"] == shares["b"] == (150.0, 500.0)  # max low 300, max high 1000, over 2
    assert shares["c"] == (None, None)
    assert shares["d"] == (50.0, 60.0)


def test_plan_ranks_upgrades_by_risk_removed_and_lists_unfixed_apart() -> None:
    steps = plan([
        exposure("a", "flask", "0.12.2", "2.2.5", 16),
        exposure("b", "salt", "3000", "3005.2", 20, (10.0, 20.0)),
        exposure("c", "salt", "3000", "3005.2", 25, (10.0, 20.0)),
        exposure("d", "ecdsa", "0.18", None, 12),
    ])
    assert [(s.package, s.to_version, s.risks, s.score) for s in steps.upgrades] == [
        ("salt", "3005.2", 2, 45), ("flask", "2.2.5", 1, 16)]
    assert steps.upgrades[0].sentence("EUR") == (
        "upgrade salt 3000 → 3005.2: closes 2 risks, score 45, expected loss EUR 20–40 / year")
    assert [s.sentence() for s in steps.unfixed] == [
        "ecdsa 0.18: no fixed version for 1 risk, score 12"]


def _verdict(findings: list[Finding], money: MoneyModel | None = None) -> Verdict:
    evaluated = tuple(
        EvaluatedFinding(finding=f, action=Action.BLOCK, reason="r") for f in findings
    )
    return Verdict(decision=Decision.BLOCK, findings=evaluated, context=RiskContext(money=money))


def test_scan_reports_show_the_plan() -> None:
    money = MoneyModel(currency="EUR", loss_per_impact={4: (1000.0, 2000.0)},
                       annual_frequency_per_probability={3: 0.5})
    findings = [
        finding("PYSEC-1", package="salt", version="3000", fixes=("3000.2",),
                remediation_target="3000.3", severity=Severity.HIGH),
        finding("PYSEC-2", package="salt", version="3000", fixes=("3000.3",),
                remediation_target="3000.3", severity=Severity.HIGH),
        finding("PYSEC-3", package="ecdsa", version="0.18"),
    ]
    verdict = _verdict(findings, money)
    (upgrade,) = verdict_plan(verdict).upgrades
    assert (upgrade.risks, upgrade.score, upgrade.loss_low, upgrade.loss_high) == (2, 24, 500, 1000)
    line = ("upgrade salt 3000 → 3000.3: closes 2 risks, score 24,"
            " expected loss EUR 500–1,000 / year")
    text = render_text(verdict, color=False, width=200)
    assert "Remediation plan:" in text and line in text
    assert "ecdsa 0.18: no fixed version for 1 risk, score 8" in text
    assert "salt 3000 → 3000.3" in text  # the finding's line: package version → fix
    markdown = render_markdown(verdict)
    assert "### Remediation plan" in markdown and "closes 2 risks, score 24" in markdown
