"""Which register entries a list, a count or a bulk triage means: one filter, one SQL form.

The pages, the JSON API, the CLI and bulk triage all build an `EntryFilter`, so a matrix cell,
a page of the triage queue and "all N matching" select exactly the same entries. Filters over
columns that `risk_summary` keys (project, status, likelihood, impact, overdue) can be counted
from the summary; any other filter counts the entries themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from register.models import EntryStatus, Project, RiskEntry

ENTRY: sa.Table = RiskEntry.__table__  # type: ignore[attr-defined]
ACTIVE = "active"  # open or accepted: what the matrix and the overview count
ANY_STATUS = "all"
_SUMMARY_FIELDS = frozenset({"project", "status", "probability", "impact", "overdue"})


@dataclass(frozen=True, kw_only=True)
class EntryFilter:
    """Conditions on entries; `None` means any. `status` also takes 'active' and 'all'."""

    project: str | None = None
    status: str | None = None
    owner: str | None = None
    severity: str | None = None
    overdue: bool | None = None
    probability: int | None = None
    impact: int | None = None
    text: str | None = None
    package: str | None = None
    advisory: str | None = None
    kev: bool | None = None
    scanner: str | None = None
    kind: str | None = None
    rule: str | None = None

    def summary_countable(self) -> bool:
        """Whether `risk_summary` alone can count the matching entries."""
        return all(
            getattr(self, f.name) is None for f in fields(self) if f.name not in _SUMMARY_FIELDS
        )


def statuses(status: str | None) -> tuple[str, ...] | None:
    """The stored statuses a status filter means (`None`: every status)."""
    if status in (None, "", ANY_STATUS):
        return None
    if status == ACTIVE:
        return (EntryStatus.OPEN.value, EntryStatus.ACCEPTED.value)
    return (str(status),)


def project_condition(project: str | None, table: sa.FromClause = ENTRY) -> ColumnElement[bool]:
    """Entries (or summary rows) of one project by name."""
    if project is None:
        return sa.true()
    return table.c.project_id.in_(select(Project.id).where(col(Project.name) == project))


def overdue_condition(on: date, table: sa.FromClause = ENTRY) -> ColumnElement[bool]:
    """Open entries past their deadline on `on` (of `risk_entry` or of the summary)."""
    return sa.and_(table.c.status == EntryStatus.OPEN.value, table.c.due_date < on)


def summary_conditions(
    chosen: EntryFilter, table: sa.FromClause, *, on: date
) -> list[ColumnElement[bool]]:
    """The conditions on columns that both `risk_entry` and `risk_summary` have."""
    conditions = [project_condition(chosen.project, table)]
    wanted = statuses(chosen.status)
    if wanted is not None:
        conditions.append(table.c.status.in_(wanted) if len(wanted) > 1
                          else table.c.status == wanted[0])
    if chosen.probability:
        conditions.append(table.c.probability == chosen.probability)
    if chosen.impact:
        conditions.append(table.c.impact == chosen.impact)
    if chosen.overdue is not None:
        clause = overdue_condition(on, table)
        conditions.append(clause if chosen.overdue else sa.not_(clause))
    return conditions


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.func.lower(column).like(f"%{escaped}%", escape="\\")


def _advisory(identifier: str) -> ColumnElement[bool]:
    # Aliases are a JSON list of strings: match the quoted identifier in its text.
    quoted = f'"{identifier.upper()}"'
    return sa.or_(
        sa.func.upper(ENTRY.c.rule_id) == identifier.upper(),
        sa.func.upper(sa.cast(ENTRY.c.aliases, sa.Text)).contains(quoted, autoescape=True),
    )


def entry_conditions(chosen: EntryFilter, *, on: date) -> list[ColumnElement[bool]]:
    """Every condition of `chosen` on `risk_entry`."""
    conditions = summary_conditions(chosen, ENTRY, on=on)
    equal = {"owner": ENTRY.c.owner, "severity": ENTRY.c.severity, "scanner": ENTRY.c.scanner,
             "kind": ENTRY.c.kind, "rule": ENTRY.c.rule_id}
    conditions += [column == getattr(chosen, name)
                   for name, column in equal.items() if getattr(chosen, name)]
    if chosen.package:
        conditions.append(sa.func.lower(ENTRY.c.package) == chosen.package.strip().lower())
    if chosen.kev is not None:
        conditions.append(ENTRY.c.known_exploited.is_(sa.true() if chosen.kev else sa.false()))
    if chosen.advisory:
        conditions.append(_advisory(chosen.advisory.strip()))
    if chosen.text:
        needle = chosen.text.strip()
        conditions.append(sa.or_(*(_contains(ENTRY.c[name], needle)
                                   for name in ("title", "path", "package", "rule_id"))))
    return conditions
