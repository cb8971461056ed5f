"""Texts longer than the register's bounded columns can hold are refused, naming the field.

PostgreSQL refuses a value longer than its `varchar(n)` column (SQLite stores it anyway), so an
upload with a 200-character confidence used to fail inside the database with a 500. Recording
checks the bounded columns first and refuses the run with one line naming the verdict field,
its length and the limit (422 for an upload, exit 3 for `gate register record`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gate.models import Verdict
from register.errors import RegisterInputError
from register.models import Project, RiskEntry, ScanRun
from register.trends import OWNERS

# The verdict field each bounded entry column is filled from (the others are enums or ours).
_ENTRY_FIELDS = {
    "fingerprint": "finding.fingerprint",
    "scanner": "finding.scanner",
    "confidence": "finding.confidence",
    "cvss_vector": "finding.cvss_vector",
    "remediation_target": "finding.remediation_target",
    "scope": "finding.location.scope",
}
_RUN_FIELDS = {"run_id": "run_id", "commit": "commit", "policy_digest": "policy_digest"}


def _length(table: Any, column: str) -> int:
    length = getattr(table.c[column].type, "length", None)  # String or sqlmodel's AutoString
    assert isinstance(length, int), column  # noqa: S101 - a schema fact
    return length


# Unbounded texts the register indexes. PostgreSQL refuses an index entry over 2,704 bytes
# (the component index holds package and version together), so these are bounded well below
# it at 4 bytes a character: an upload with a 3,000-character owner was a 503 "unavailable".
# An owner is also counted per owner in a varchar(200) column (trends.OWNERS).
OWNER_LIMIT = _length(OWNERS, "owner")
_INDEXED_ENTRY_LIMITS = (
    ("owner", "owner", OWNER_LIMIT),
    ("package", "finding.location.package", 400),
    ("version", "finding.location.version", 200),
)

ENTRY_LIMITS = tuple(
    (column, field, _length(RiskEntry.__table__, column))  # type: ignore[attr-defined]
    for column, field in _ENTRY_FIELDS.items()
) + _INDEXED_ENTRY_LIMITS
RUN_LIMITS = tuple(
    (column, field, _length(ScanRun.__table__, column))  # type: ignore[attr-defined]
    for column, field in _RUN_FIELDS.items()
)
PROJECT_NAME_LIMIT = _length(Project.__table__, "name")  # type: ignore[attr-defined]


def _too_long(where: str, value: str, limit: int) -> RegisterInputError:
    return RegisterInputError(
        f"invalid verdict: {where} is {len(value)} characters long; the register holds at most"
        f" {limit}"
    )


def refuse_overlong_run(verdict: Verdict, project: str) -> None:
    """Refuse a verdict whose run fields or project name exceed their columns."""
    values = verdict.model_dump(include=set(_RUN_FIELDS))
    for column, field, limit in RUN_LIMITS:
        value = values.get(column)
        if isinstance(value, str) and len(value) > limit:
            raise _too_long(field, value, limit)
    if len(project) > PROJECT_NAME_LIMIT:
        raise _too_long("project", project, PROJECT_NAME_LIMIT)
    default_owner = verdict.context.default_owner
    if default_owner is not None and len(default_owner) > OWNER_LIMIT:
        raise _too_long("context.default_owner", default_owner, OWNER_LIMIT)


def entry_limits(position: Mapping[str, int]) -> tuple[tuple[int, str, int], ...]:
    """`ENTRY_LIMITS` with each column given by its `position` in a row of values."""
    return tuple((position[column], field, limit) for column, field, limit in ENTRY_LIMITS)


def refuse_overlong_entry(
    row: Sequence[Any], index: int, limits: Sequence[tuple[int, str, int]]
) -> None:
    """Refuse the `index`-th finding when a bounded column's value is too long (`limits`:
    see `entry_limits`)."""
    for position, field, limit in limits:
        value = row[position]
        if value is not None and len(value) > limit:
            raise _too_long(f"findings.{index}.{field}", value, limit)
