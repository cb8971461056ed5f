"""Triage: assign, accept, reopen, mark false positive, and expire acceptances.

Every change appends a `RiskEvent` (who, when, what, why). The caller owns the transaction
(`session_scope`); these functions flush but do not commit. Used by the CLI and the web API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from register import trends
from register.column_limits import OWNER_LIMIT
from register.errors import EntryNotFoundError, TriageRefusedError
from register.models import (
    EntryStatus,
    EventKind,
    Project,
    RiskAcceptance,
    RiskEntry,
    RiskEvent,
    utc_now,
)


def _entry(session: Session, entry_id: int) -> RiskEntry:
    query = select(RiskEntry).where(col(RiskEntry.id) == entry_id).with_for_update()
    entry = session.exec(query).first()
    if entry is None:
        raise EntryNotFoundError(entry_id)
    return entry


def _log(
    session: Session,
    entry: RiskEntry,
    *,
    kind: EventKind,
    actor: str,
    at: datetime,
    detail: str,
    reason: str | None = None,
) -> RiskEvent:
    assert entry.id is not None  # noqa: S101 - stored entries have ids
    event = RiskEvent(
        entry_id=entry.id, at=at, actor=actor, kind=kind.value, detail=detail, reason=reason
    )
    session.add(entry)
    session.add(event)
    session.flush()
    if not session.info.get(_IN_BULK):
        trends.refresh_owners(session.connection(), project_id=entry.project_id, at=at)
    return event


def _require_text(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise TriageRefusedError(f"{what} is required")
    return value.strip()


def assign(
    session: Session,
    *,
    entry_id: int,
    owner: str,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> RiskEntry:
    """Give an entry a new owner."""
    entry, owner = _entry(session, entry_id), _require_text(owner, "an owner")
    if len(owner) > OWNER_LIMIT:
        raise TriageRefusedError(
            f"an owner is at most {OWNER_LIMIT} characters ({len(owner)} given)"
        )
    detail = f"owner {entry.owner or '(none)'} -> {owner}"
    entry.owner = owner
    _log(
        session,
        entry,
        kind=EventKind.ASSIGNED,
        actor=actor,
        at=now or utc_now(),
        detail=detail,
        reason=reason,
    )
    return entry


def acceptance_max_days(session: Session, entry: RiskEntry) -> int:
    """The longest acceptance the entry's project policy allows, in days."""
    return session.exec(
        select(Project.acceptance_max_days).where(col(Project.id) == entry.project_id)
    ).one()


def check_acceptance(*, until: date | None, today: date, max_days: int) -> date:
    """The expiry date if the policy allows it; refused without one, in the past, or too far."""
    if until is None:
        raise TriageRefusedError("an acceptance needs an expiry date (--until)")
    if until < today:
        raise TriageRefusedError(f"acceptance expiry {until} is in the past")
    latest = today + timedelta(days=max_days)
    if until > latest:
        raise TriageRefusedError(
            f"acceptance expiry {until} is beyond the policy maximum of {max_days} days ({latest})"
        )
    return until


def check_approver(*, approver: str | None, actor: str) -> str:
    """Four eyes: the approver, who must be someone other than the person asking."""
    name = _require_text(approver, "an approver")
    if name.casefold() == actor.strip().casefold():
        raise TriageRefusedError(
            f"four eyes: {name} cannot approve their own acceptance; name another approver"
        )
    return name


def accept(
    session: Session,
    *,
    entry_id: int,
    reason: str,
    until: date | None,
    approver: str,
    actor: str,
    max_days: int | None = None,
    now: datetime | None = None,
) -> RiskAcceptance:
    """Accept a risk until a date; `max_days` defaults to the project's policy maximum."""
    entry, at = _entry(session, entry_id), now or utc_now()
    reason, approver = (
        _require_text(reason, "a justification"),
        check_approver(approver=approver, actor=actor),
    )
    if entry.status in (EntryStatus.FIXED.value, EntryStatus.FALSE_POSITIVE.value):
        raise TriageRefusedError(f"entry {entry_id} is {entry.status}: nothing to accept")
    limit = acceptance_max_days(session, entry) if max_days is None else max_days
    expires = check_acceptance(until=until, today=at.date(), max_days=limit)
    _end_acceptances(session, entry_id, at)
    acceptance = RiskAcceptance(
        entry_id=entry_id,
        justification=reason,
        approver=approver,
        created_by=actor,
        created_at=at,
        expires_on=expires,
    )
    session.add(acceptance)
    entry.status, entry.accepted_until = EntryStatus.ACCEPTED.value, expires
    _log(
        session,
        entry,
        kind=EventKind.ACCEPTED,
        actor=actor,
        at=at,
        detail=f"accepted until {expires}, approved by {approver}",
        reason=reason,
    )
    return acceptance


def _end_acceptances(session: Session, entry_id: int, at: datetime) -> None:
    statement = (
        sa.update(RiskAcceptance)
        .where(col(RiskAcceptance.entry_id) == entry_id, col(RiskAcceptance.ended_at).is_(None))
        .values(ended_at=at)
    )
    session.execute(statement)


def reopen(
    session: Session, *, entry_id: int, actor: str, reason: str, now: datetime | None = None
) -> RiskEntry:
    """Open an entry again; a fixed one gets a fresh deadline from its SLA."""
    entry, at = _entry(session, entry_id), now or utc_now()
    reason = _require_text(reason, "a reason")
    if entry.status == EntryStatus.OPEN.value:
        raise TriageRefusedError(f"entry {entry_id} is already open")
    previous = entry.status
    if previous == EntryStatus.FIXED.value:
        entry.fixed_at, entry.reopened_count = None, entry.reopened_count + 1
        entry.due_date = at.date() + timedelta(days=entry.sla_days)
    _end_acceptances(session, entry_id, at)
    entry.status, entry.accepted_until = EntryStatus.OPEN.value, None
    _log(
        session,
        entry,
        kind=EventKind.REOPENED,
        actor=actor,
        at=at,
        detail=f"{previous} -> open, due {entry.due_date}",
        reason=reason,
    )
    return entry


def mark_false_positive(
    session: Session, *, entry_id: int, actor: str, reason: str, now: datetime | None = None
) -> RiskEntry:
    """Close an entry as a false positive (it stays closed when seen again)."""
    entry, at = _entry(session, entry_id), now or utc_now()
    reason = _require_text(reason, "a reason")
    previous = entry.status
    _end_acceptances(session, entry_id, at)
    entry.status, entry.accepted_until = EntryStatus.FALSE_POSITIVE.value, None
    _log(
        session,
        entry,
        kind=EventKind.FALSE_POSITIVE,
        actor=actor,
        at=at,
        detail=f"{previous} -> false_positive",
        reason=reason,
    )
    return entry


def expire_acceptances(
    session: Session, *, now: datetime | None = None, project_id: int | None = None
) -> int:
    """Entries whose acceptance ended before today are open again (and overdue if late)."""
    at = now or utc_now()
    where = [
        col(RiskEntry.status) == EntryStatus.ACCEPTED.value,
        col(RiskEntry.accepted_until) < at.date(),
    ]
    if project_id is not None:
        where.append(col(RiskEntry.project_id) == project_id)
    statement = (
        sa.update(RiskEntry)
        .where(*where)
        .values(status=EntryStatus.OPEN.value, accepted_until=None)
        .returning(col(RiskEntry.id), col(RiskEntry.due_date))
    )
    expired = session.execute(statement, execution_options={"synchronize_session": False}).all()
    if not expired:
        return 0
    ids = [row[0] for row in expired]
    session.execute(
        sa.update(RiskAcceptance)
        .where(col(RiskAcceptance.entry_id).in_(ids), col(RiskAcceptance.ended_at).is_(None))
        .values(ended_at=at)
    )
    events = [_expiry_event(entry_id, due, at) for entry_id, due in expired]
    session.execute(sa.insert(RiskEvent), events)
    trends.refresh_owners_of(session.connection(), entry_ids=ids, at=at)
    return len(expired)


def _expiry_event(entry_id: int, due: date, at: datetime) -> dict[str, object]:
    late = f"; overdue since {due}" if due < at.date() else f"; due {due}"
    return {
        "entry_id": entry_id,
        "at": at,
        "actor": "register",
        "reason": None,
        "kind": EventKind.ACCEPTANCE_EXPIRED.value,
        "run_id": None,
        "detail": f"acceptance expired: open again{late}",
    }


_IN_BULK = "riskgate.bulk_triage"  # session.info flag: recount owners once, after the loop
BULK_LIMIT = 2000
BULK_ACTIONS = ("assign", "accept", "false_positive", "reopen")


@dataclass(frozen=True, kw_only=True)
class BulkResult:
    """What a bulk action did: entries changed, and those skipped with the reason."""

    action: str
    changed: tuple[int, ...]
    skipped: tuple[tuple[int, str], ...]

    def summary(self) -> str:
        """One line for people."""
        line = f"{self.action.replace('_', ' ')}: {len(self.changed)} changed"
        if self.skipped:
            line += f", {len(self.skipped)} skipped ({self.skipped[0][1]}"
            line += ", …)" if len(self.skipped) > 1 else ")"
        return line


def bulk(
    session: Session,
    *,
    entry_ids: Sequence[int],
    action: str,
    actor: str,
    reason: str | None = None,
    owner: str | None = None,
    until: date | None = None,
    approver: str | None = None,
    now: datetime | None = None,
) -> BulkResult:
    """Apply one triage action to many entries in the caller's transaction.

    The inputs are checked once for all (a missing reason, an approver who is the requester,
    more than BULK_LIMIT entries refuse the whole action); an entry the action does not apply
    to (accepting a fixed one, reopening an open one) is skipped and reported.
    """
    if action not in BULK_ACTIONS:
        raise TriageRefusedError(f"unknown action {action!r}; one of {', '.join(BULK_ACTIONS)}")
    if not entry_ids:
        raise TriageRefusedError("no findings selected")
    if len(entry_ids) > BULK_LIMIT:
        raise TriageRefusedError(
            f"{len(entry_ids)} findings selected; at most {BULK_LIMIT} at once: narrow the filter"
        )
    at = now or utc_now()
    apply = _bulk_step(session, action, actor=actor, reason=reason, owner=owner, until=until,
                       approver=approver, at=at)
    changed, skipped = [], []
    session.info[_IN_BULK] = True
    try:
        for entry_id in dict.fromkeys(entry_ids):
            try:
                apply(entry_id)
            except (TriageRefusedError, EntryNotFoundError) as exc:
                skipped.append((entry_id, str(exc)))
            else:
                changed.append(entry_id)
    finally:
        session.info.pop(_IN_BULK, None)
    if changed:
        trends.refresh_owners_of(session.connection(), entry_ids=changed, at=at)
    return BulkResult(action=action, changed=tuple(changed), skipped=tuple(skipped))


def _bulk_step(
    session: Session, action: str, *, actor: str, reason: str | None, owner: str | None,
    until: date | None, approver: str | None, at: datetime,
) -> Callable[[int], object]:
    """The per-entry call, after checking what is common to every entry."""
    if action == "assign":
        who = _require_text(owner, "an owner")
        return lambda entry_id: assign(session, entry_id=entry_id, owner=who, actor=actor,
                                       reason=reason or None, now=at)
    why = _require_text(reason, "a reason")
    if action == "accept":
        approved_by = check_approver(approver=approver, actor=actor)
        if until is None or until < at.date():  # the policy maximum is checked per project
            check_acceptance(until=until, today=at.date(), max_days=0)
        return lambda entry_id: accept(session, entry_id=entry_id, reason=why, until=until,
                                       approver=approved_by, actor=actor, now=at)
    if action == "false_positive":
        return lambda entry_id: mark_false_positive(session, entry_id=entry_id, actor=actor,
                                                    reason=why, now=at)
    return lambda entry_id: reopen(session, entry_id=entry_id, actor=actor, reason=why, now=at)
