"""The register's remediation plan, its loss by exposure, and how many risks are unrated.

A vulnerable component is one package at one version in one project; its active advisories
are one exposure. SQL groups the active dependency entries by component (how many risks, their
summed score, the largest expected loss among them, the distinct remediation targets); Python
only picks each component's target (the highest by version order) and ranks the upgrades with
`gate.remediation`. Loss by exposure: each component counts its largest loss once, every other
risk its own (the combination rule of `gate.remediation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from gate.remediation import NOT_AUDITED_RULE, RemediationPlan, Upgrade, ranked, versions_above
from register.filters import project_condition
from register.models import Project
from register.queries import ACTIVE_STATUSES, ENTRY, SUMMARY, ProjectSummary, project_summaries

UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class Loss:
    """An expected annual loss range."""

    low: float
    high: float


def component_condition() -> ColumnElement[bool]:
    """Entries that are a vulnerable component's advisory (not a 'could not audit' entry)."""
    return sa.and_(
        ENTRY.c.kind == "dependency",
        ENTRY.c.package.is_not(None),
        ENTRY.c.rule_id != NOT_AUDITED_RULE,
    )


def _active(project: str | None) -> list[ColumnElement[bool]]:
    return [ENTRY.c.status.in_(ACTIVE_STATUSES), project_condition(project)]


def register_plan(session: Session, *, project: str | None = None) -> RemediationPlan:
    """One upgrade per active vulnerable component, ranked by the risk it removes."""
    key = (ENTRY.c.project_id, ENTRY.c.package, ENTRY.c.version)
    groups = sa.select(
        *key, sa.func.count(), sa.func.sum(ENTRY.c.score),
        sa.func.max(ENTRY.c.annual_loss_low), sa.func.max(ENTRY.c.annual_loss_high),
    ).where(*_active(project), component_condition()).group_by(*key)
    targets = (
        sa.select(*key, ENTRY.c.remediation_target)
        .where(*_active(project), component_condition(), ENTRY.c.remediation_target.is_not(None))
        .group_by(*key, ENTRY.c.remediation_target)
    )
    found: dict[tuple[Any, ...], list[str]] = {}
    for project_id, package, version, target in session.execute(targets).all():
        found.setdefault((project_id, package, version), []).append(target)
    return ranked(_upgrade(row, found) for row in session.execute(groups).all())


def _upgrade(row: Sequence[Any], targets: dict[tuple[Any, ...], list[str]]) -> Upgrade:
    project_id, package, version, risks, score, low, high = row
    above = versions_above(version, targets.get((project_id, package, version), []))
    return Upgrade(
        package=package,
        from_version=version,
        to_version=above[-1] if above else None,
        risks=int(risks),
        score=int(score or 0),
        loss_low=None if low is None else float(low),
        loss_high=None if high is None else float(high),
    )


def exposure_losses(session: Session) -> dict[str, Loss]:
    """Per project name: expected loss counting each vulnerable component once.

    The active loss of every risk comes from `risk_summary`; the component entries (read
    through `ix_risk_entry_component`) trade their summed loss for their largest one.
    """
    component = component_condition()
    active = SUMMARY.c.status.in_(ACTIVE_STATUSES)
    every_risk = sa.select(
        SUMMARY.c.project_id, SUMMARY.c.loss_low.label("low"),
        SUMMARY.c.loss_high.label("high"), SUMMARY.c.priced.label("priced"),
    ).where(active)
    component_risks = sa.select(
        ENTRY.c.project_id, -sa.func.coalesce(ENTRY.c.annual_loss_low, 0.0),
        -sa.func.coalesce(ENTRY.c.annual_loss_high, 0.0), sa.literal(0),
    ).where(*_active(None), component)
    component_once = (
        sa.select(
            ENTRY.c.project_id, sa.func.coalesce(sa.func.max(ENTRY.c.annual_loss_low), 0.0),
            sa.func.coalesce(sa.func.max(ENTRY.c.annual_loss_high), 0.0), sa.literal(0),
        )
        .where(*_active(None), component)
        .group_by(ENTRY.c.project_id, ENTRY.c.package, ENTRY.c.version)
    )
    exposures = sa.union_all(every_risk, component_risks, component_once).subquery("exposure")
    query = (
        sa.select(col(Project.name), sa.func.sum(exposures.c.low), sa.func.sum(exposures.c.high))
        .join(exposures, exposures.c.project_id == Project.id)
        .group_by(col(Project.name))
        .having(sa.func.sum(exposures.c.priced) > 0)
    )
    return {
        name: Loss(low=float(low), high=float(high or 0.0))
        for name, low, high in session.execute(query).all()
    }


def exposure_summaries(session: Session) -> list[ProjectSummary]:
    """Every project's summary with its expected loss by exposure (each vulnerable component
    counted once): what the overview, the trends, the printable report and the API show."""
    losses = exposure_losses(session)
    return [
        replace(s, annual_loss_low=losses[s.name].low, annual_loss_high=losses[s.name].high)
        if s.name in losses and s.annual_loss_low is not None else s
        for s in project_summaries(session)
    ]


def unrated_count(session: Session, *, project: str | None = None) -> int:
    """Active risks whose severity no advisory record gave (`unknown`)."""
    query = sa.select(sa.func.count()).where(*_active(project), ENTRY.c.severity == UNKNOWN)
    return int(session.execute(query).scalar_one())


def plan_currency(session: Session, *, project: str | None = None) -> str | None:
    """The currency of the project(s), when they use exactly one."""
    query = sa.select(col(Project.currency)).where(col(Project.currency).is_not(None)).distinct()
    if project is not None:
        query = query.where(col(Project.name) == project)
    found = list(session.execute(query).scalars())
    return found[0] if len(found) == 1 else None
