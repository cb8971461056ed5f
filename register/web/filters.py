"""The finding filters of the triage page and the JSON API: one query model, same names.

`/triage?…` and `/api/v1/findings?…` take the same parameters, so a link from any page works
against the API too. Empty form fields mean 'any'.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from register import queries, triage
from register.filters import EntryFilter
from register.web.schemas import Text

Status = Literal["open", "accepted", "fixed", "false_positive", "active", "all"]
Severity = Literal["critical", "high", "medium", "low", "info", "unknown"]
Sort = Literal[
    "score", "due_date", "last_seen", "first_seen", "severity", "id", "title", "owner",
    "status", "package",
]
PAGE_SIZES = (25, 50, 100, 200, 500)
Short = Field(default=None, max_length=200)


class FindingFilters(BaseModel):
    """Which findings, in which order (both the page and the API)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    project: Text | None = Short
    owner: Text | None = Short
    severity: Severity | None = None
    status: Status | None = None
    overdue: bool | None = None
    likelihood: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    q: Text | None = Field(default=None, max_length=200, description="Text in title, path, "
                           "package or rule id (case-insensitive).")
    package: Text | None = Short
    advisory: Text | None = Field(default=None, max_length=200,
                                  description="An advisory or CVE id, or any of its aliases.")
    kev: bool | None = None
    scanner: Text | None = Short
    kind: Literal["dependency", "code"] | None = None
    rule: Text | None = Short
    sort: Sort = "score"
    order: Literal["asc", "desc"] = Field(default="asc", description="desc reverses the sort.")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_any(cls, value: Any) -> Any:
        return None if value == "" else value

    def entry_filter(self, *, default_status: str | None = None) -> EntryFilter:
        """The core filter these parameters mean."""
        return EntryFilter(
            project=self.project, owner=self.owner, severity=self.severity,
            status=self.status or default_status, overdue=self.overdue,
            probability=self.likelihood, impact=self.impact, text=self.q,
            package=self.package, advisory=self.advisory, kev=self.kev,
            scanner=self.scanner, kind=self.kind, rule=self.rule,
        )

    def query(self, **changes: Any) -> str:
        """These parameters as a query string, with `changes` applied (None drops a key)."""
        values = {**self.model_dump(), **changes}
        words = {True: "yes", False: "no"}
        return urlencode({key: words.get(value, value) if isinstance(value, bool) else value
                          for key, value in values.items() if value not in (None, "")})


def bulk_entry_ids(
    session: Session, *, ids: list[int] | None, filters: FindingFilters | None,
    default_status: str | None = None,
) -> list[int]:
    """The entries a bulk action targets: all matching `filters`, else the listed ids.

    One more than the bulk limit is read so the core refuses an over-large selection.
    """
    if filters is not None:
        chosen = filters.entry_filter(default_status=default_status)
        return queries.matching_ids(session, chosen, limit=triage.BULK_LIMIT + 1)
    return list(ids or [])
