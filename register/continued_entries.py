"""What the two identity matchers share: which entries may be continued, re-keying one, and the
events of those continued (code edits in `register.identity`, dependency moves in
`register.dependency_identity`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from register.models import EntryStatus, EventKind, RiskEntry, RiskEvent

ENTRY = RiskEntry.__table__  # type: ignore[attr-defined]
EVENT = RiskEvent.__table__  # type: ignore[attr-defined]
# Entries a new fingerprint may continue (fixed ones only where a matcher says so).
KEPT_STATUSES = (
    EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value, EntryStatus.FALSE_POSITIVE.value,
)


class Continued(Protocol):
    """An entry that now goes by a new fingerprint."""

    @property
    def entry_id(self) -> int:
        """The continued entry."""
        ...

    def detail(self) -> str:
        """The event's words."""
        ...


def rekey(connection: Connection, *, entry_id: int, fingerprint: str) -> None:
    """Give entry `entry_id` its new fingerprint (before the run's upsert meets it)."""
    connection.execute(
        sa.update(ENTRY).where(ENTRY.c.id == entry_id).values(fingerprint=fingerprint)
    )


def log_continued(
    connection: Connection, continued: Sequence[Continued], *, kind: EventKind, run_id: str,
    at: datetime, actor: str,
) -> None:
    """One `kind` event per continued entry, in one statement (after the run's upsert)."""
    if not continued:
        return
    connection.execute(sa.insert(EVENT), [
        {"entry_id": c.entry_id, "run_id": run_id, "at": at, "actor": actor,
         "kind": kind.value, "detail": c.detail(), "reason": None}
        for c in continued
    ])
