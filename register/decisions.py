"""The triage decisions of one project, as the gate reads them: by fingerprint, with why.

An accepted entry gives its current acceptance (justification, approver, last day); a false
positive gives the reason of the event that closed it. Acceptances past their last day are
returned too, with that day, so the gate can say "expired on …" even before
`expire_acceptances` has run. One query for both the API and the gate's direct read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlmodel import col

from gate.models import TriageDecision, TriageStatus
from register.models import EntryStatus, EventKind, Project, RiskAcceptance, RiskEntry, RiskEvent

SOURCE = "register"
_TRIAGED = (EntryStatus.ACCEPTED.value, EntryStatus.FALSE_POSITIVE.value)


def project_decisions(connection: Connection, *, project: str) -> dict[str, TriageDecision]:
    """Fingerprint → decision for every accepted or false-positive entry of `project`."""
    marked = aliased(RiskEvent)
    latest_fp = (
        sa.select(sa.func.max(col(marked.id)))
        .where(
            col(marked.entry_id) == col(RiskEntry.id),
            col(marked.kind) == EventKind.FALSE_POSITIVE.value,
        )
        .correlate(RiskEntry)
        .scalar_subquery()
    )
    statement = (
        sa.select(
            col(RiskEntry.fingerprint),
            col(RiskEntry.status),
            col(RiskEntry.accepted_until),
            col(RiskAcceptance.justification),
            col(RiskAcceptance.approver),
            col(RiskEvent.reason),
            col(RiskEvent.actor),
        )
        .join(Project, col(Project.id) == col(RiskEntry.project_id))
        .outerjoin(
            RiskAcceptance,
            sa.and_(
                col(RiskAcceptance.entry_id) == col(RiskEntry.id),
                col(RiskAcceptance.ended_at).is_(None),
            ),
        )
        .outerjoin(RiskEvent, col(RiskEvent.id) == latest_fp)
        .where(col(Project.name) == project, col(RiskEntry.status).in_(_TRIAGED))
    )
    return {row[0]: _decision(row) for row in connection.execute(statement)}


def _decision(row: Sequence[object]) -> TriageDecision:
    _, status, until, justification, approver, fp_reason, fp_actor = row
    if status == EntryStatus.FALSE_POSITIVE.value:
        return TriageDecision(
            status=TriageStatus.FALSE_POSITIVE,
            reason=str(fp_reason or "marked false positive"),
            by=str(fp_actor) if fp_actor else None,
            source=SOURCE,
        )
    return TriageDecision(
        status=TriageStatus.ACCEPTED,
        reason=str(justification or "accepted"),
        by=str(approver) if approver else None,
        until=until if isinstance(until, date) else None,
        source=SOURCE,
    )
