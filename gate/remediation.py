"""Remediation and exposure: fix targets, upgrade plans and expected loss per vulnerable component.

Pure functions, used by the gate's reports and by the register alike.

- **Remediation target** of a component (a package at an installed version): the smallest
  version above the installed one that no advisory of the component affects. Candidates are the
  advisories' fixed versions; an advisory's records (their ranges and version lists) decide
  whether a candidate is affected, so a fix on another release branch is never proposed when it
  does not close every advisory. Without records, an advisory counts as fixed at a candidate
  when one of its fixed versions lies above the installed version and at or below the candidate.
- **Exposure**: each vulnerable component is one exposure. Its expected annual loss is the
  largest among its advisories' (one compromise of the component is the loss event; one upgrade
  closes them all), and is allocated equally to its risks so that any sum over risks counts
  each component once. Other risks (code findings) are each their own exposure.
- **Plan**: one upgrade per component that has a target, ranked by the risk it removes (the sum
  of its risks' scores, then expected loss); components with no target are listed apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gate.advisories.osv import OsvAffected, OsvRecord
from gate.models import Finding, FindingKind, Verdict
from gate.scoring import expected_annual_loss, score_finding

NOT_AUDITED_RULE = "riskgate-dependency-not-audited"


@dataclass(frozen=True, kw_only=True)
class AdvisoryFix:
    """What is known about fixing one advisory of a component: fixed versions and records."""

    fix_versions: tuple[str, ...] = ()
    records: tuple[OsvRecord, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Exposure:
    """One risk as the plan sees it (a finding of a scan, or a register entry)."""

    key: str
    package: str | None
    version: str | None
    target: str | None
    score: int
    loss_low: float | None = None
    loss_high: float | None = None


@dataclass(frozen=True, kw_only=True)
class Upgrade:
    """One step of the plan: upgrade a component, closing its risks (no target: no fix yet)."""

    package: str
    from_version: str | None
    to_version: str | None
    risks: int
    score: int
    loss_low: float | None = None
    loss_high: float | None = None
    keys: tuple[str, ...] = field(default=(), compare=False)

    def sentence(self, currency: str | None = None) -> str:
        """`upgrade salt 3000 → 3006.2: closes 26 risks, score 410, expected loss EUR …`."""
        installed = f" {self.from_version}" if self.from_version else ""
        risks = f"{self.risks} risk" if self.risks == 1 else f"{self.risks} risks"
        if self.to_version is None:
            head = f"{self.package}{installed}: no fixed version for {risks}"
        else:
            head = f"upgrade {self.package}{installed} → {self.to_version}: closes {risks}"
        text = f"{head}, score {self.score}"
        if self.loss_low is not None and self.loss_high is not None and currency:
            text += f", expected loss {money_range(self.loss_low, self.loss_high, currency)}"
        return text


@dataclass(frozen=True, kw_only=True)
class RemediationPlan:
    """Upgrades ranked by risk removed, and components no published version fixes."""

    upgrades: tuple[Upgrade, ...] = ()
    unfixed: tuple[Upgrade, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.upgrades or self.unfixed)

    def lines(self, currency: str | None = None, *, limit: int = 10) -> list[str]:
        """As sentences: the first `limit` upgrades by risk removed, then what has no fix."""
        lines = [step.sentence(currency) for step in self.upgrades[:limit]]
        if len(self.upgrades) > limit:
            lines.append(f"… {len(self.upgrades) - limit} more upgrades")
        lines += [step.sentence(currency) for step in self.unfixed[:limit]]
        if len(self.unfixed) > limit:
            lines.append(f"… {len(self.unfixed) - limit} more components without a fix")
        return lines


def parse_version(text: str | None) -> Version | None:
    """A PEP 440 version, or None for anything else."""
    return _parse(text) if text else None


@lru_cache(maxsize=8192)
def _parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def versions_above(installed: str | None, versions: Iterable[str]) -> tuple[str, ...]:
    """The versions strictly above `installed`, ascending (all of them if it is unparseable)."""
    floor = parse_version(installed)
    parsed = {v: parse_version(v) for v in dict.fromkeys(versions)}
    kept = [v for v, p in parsed.items() if p is not None and (floor is None or p > floor)]
    return tuple(sorted(kept, key=lambda v: parse_version(v) or Version("0")))


def remediation_target(
    package: str, installed: str | None, advisories: Sequence[AdvisoryFix]
) -> str | None:
    """The smallest version above `installed` that none of `advisories` affects, else None."""
    floor = parse_version(installed)
    if floor is None or not advisories:
        return None
    candidates = versions_above(installed, _candidates(package, advisories))
    for candidate in candidates:
        if not any(_affects(package, floor, candidate, a) for a in advisories):
            return candidate
    return None


def _candidates(package: str, advisories: Sequence[AdvisoryFix]) -> list[str]:
    found = [v for a in advisories for v in a.fix_versions]
    for advisory in advisories:
        found.extend(
            event.version
            for record in advisory.records
            for affected in _entries(record, package)
            for vrange in affected.ranges
            for event in vrange.events
            if event.kind == "fixed"
        )
    return found


def _entries(record: OsvRecord, package: str) -> list[OsvAffected]:
    name = canonicalize_name(package)
    return [
        a for a in record.affected
        if a.ecosystem.lower() == "pypi" and a.normalised_package == name
    ]


def _affects(package: str, installed: Version, candidate: str, advisory: AdvisoryFix) -> bool:
    """Whether the advisory still applies at `candidate` (records decide when they cover it)."""
    records = [r for r in advisory.records if _entries(r, package)]
    if records:
        return any(r.affects(package, candidate) for r in records)
    upper = parse_version(candidate)
    fixes = [parse_version(v) for v in advisory.fix_versions]
    return upper is None or not any(f is not None and installed < f <= upper for f in fixes)


def is_component_finding(finding: Finding) -> bool:
    """A dependency advisory finding with a package (not a 'could not audit' finding)."""
    return (
        finding.kind is FindingKind.DEPENDENCY
        and finding.location.package is not None
        and finding.rule_id != NOT_AUDITED_RULE
    )


def component_of(package: str | None, version: str | None) -> tuple[str, str]:
    """The component key: normalised package name and version."""
    return canonicalize_name(package or ""), version or ""


def with_remediation(
    findings: Sequence[Finding], records_of: Callable[[Finding], Sequence[OsvRecord]]
) -> list[Finding]:
    """Findings with fix versions above the installed one only, and their component's target.

    `records_of` gives a finding's advisory records (empty when none are known).
    """
    fixes: dict[tuple[str, str], list[AdvisoryFix]] = {}
    for finding in findings:
        if is_component_finding(finding):
            key = component_of(finding.location.package, finding.location.version)
            fix = AdvisoryFix(fix_versions=finding.fix_versions, records=tuple(records_of(finding)))
            fixes.setdefault(key, []).append(fix)
    targets = {
        key: remediation_target(key[0], key[1] or None, advisories)
        for key, advisories in fixes.items()
    }
    result: list[Finding] = []
    for finding in findings:
        if not is_component_finding(finding):
            result.append(finding)
            continue
        installed = finding.location.version
        key = component_of(finding.location.package, installed)
        update = {
            "fix_versions": versions_above(installed, finding.fix_versions),
            "remediation_target": targets[key],
        }
        result.append(finding.model_copy(update=update))
    return result


def allocate_losses(exposures: Sequence[Exposure]) -> list[Exposure]:
    """Each component's loss (the largest of its risks') shared equally among its risks."""
    groups: dict[tuple[str, str], list[Exposure]] = {}
    for item in exposures:
        if item.package and item.loss_low is not None and item.loss_high is not None:
            groups.setdefault(component_of(item.package, item.version), []).append(item)
    shares: dict[str, tuple[float, float]] = {}
    for members in groups.values():
        low = max(m.loss_low or 0.0 for m in members) / len(members)
        high = max(m.loss_high or 0.0 for m in members) / len(members)
        shares.update((m.key, (low, high)) for m in members)
    return [
        _with_loss(item, *shares[item.key]) if item.key in shares else item for item in exposures
    ]


def _with_loss(item: Exposure, low: float, high: float) -> Exposure:
    return Exposure(
        key=item.key, package=item.package, version=item.version, target=item.target,
        score=item.score, loss_low=low, loss_high=high,
    )


def plan(exposures: Iterable[Exposure]) -> RemediationPlan:
    """Group component risks into upgrades; rank by summed score, then expected loss."""
    groups: dict[tuple[str, str], list[Exposure]] = {}
    for item in exposures:
        if item.package:
            groups.setdefault(component_of(item.package, item.version), []).append(item)
    return ranked(_upgrade(members) for members in groups.values())


def ranked(steps: Iterable[Upgrade]) -> RemediationPlan:
    """Upgrades by summed score, then expected loss; those without a target listed apart."""
    order = sorted(steps, key=lambda s: (-s.score, -(s.loss_high or 0.0), s.package))
    return RemediationPlan(
        upgrades=tuple(s for s in order if s.to_version is not None),
        unfixed=tuple(s for s in order if s.to_version is None),
    )


def _upgrade(members: list[Exposure]) -> Upgrade:
    first = members[0]
    targets = versions_above(first.version, [m.target for m in members if m.target])
    lows = [m.loss_low for m in members if m.loss_low is not None]
    highs = [m.loss_high for m in members if m.loss_high is not None]
    return Upgrade(
        package=first.package or "",
        from_version=first.version,
        to_version=targets[-1] if targets else None,
        risks=len(members),
        score=sum(m.score for m in members),
        loss_low=sum(lows) if lows else None,
        loss_high=sum(highs) if highs else None,
        keys=tuple(m.key for m in members),
    )


def verdict_exposures(verdict: Verdict) -> list[Exposure]:
    """The verdict's component risks, scored in its context, losses allocated per component."""
    items: list[Exposure] = []
    for evaluated in verdict.findings:
        finding = evaluated.finding
        if not is_component_finding(finding):
            continue
        score = score_finding(finding, verdict.context)
        loss = expected_annual_loss(
            probability=score.probability, impact=score.impact, money=verdict.context.money
        )
        items.append(Exposure(
            key=finding.fingerprint,
            package=finding.location.package,
            version=finding.location.version,
            target=finding.remediation_target,
            score=score.score,
            loss_low=loss.low if loss else None,
            loss_high=loss.high if loss else None,
        ))
    return allocate_losses(items)


def verdict_plan(verdict: Verdict) -> RemediationPlan:
    """The remediation plan of one scan."""
    return plan(verdict_exposures(verdict))


def money_range(low: float, high: float, currency: str) -> str:
    """`EUR 12,500–62,500 / year`."""
    return f"{currency} {low:,.0f}–{high:,.0f} / year"
