"""The register's tables (SQLModel) and the public shapes the API returns.

Timestamps are stored as naive UTC and read back as aware UTC (`UTCDateTime`), so SQLite and
PostgreSQL behave the same. The schema changes only through `register/migrations`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes in Python, naive UTC in the database (portable across dialects)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


class EntryStatus(StrEnum):
    """Where a register entry stands."""

    OPEN = "open"
    FIXED = "fixed"
    ACCEPTED = "accepted"
    FALSE_POSITIVE = "false_positive"


class EventKind(StrEnum):
    """What an event in the append-only log records."""

    OPENED = "opened"
    FIXED = "fixed"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    ACCEPTANCE_EXPIRED = "acceptance_expired"
    FALSE_POSITIVE = "false_positive"
    CODE_EDITED = "code_edited"
    DEPENDENCY_UPDATED = "dependency_updated"


class Role(StrEnum):
    """What an API token may do."""

    UPLOADER = "uploader"
    TRIAGER = "triager"
    VIEWER = "viewer"
    ADMIN = "admin"


class Project(SQLModel, table=True):
    """An asset the gate scans, with the business context its latest policy gave."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    repository: str | None = None
    business_criticality: str = Field(default="medium", max_length=20)
    data_classification: str = Field(default="internal", max_length=20)
    default_owner: str | None = None
    acceptance_max_days: int = 90
    sla_days: dict[str, int] = Field(default_factory=dict, sa_type=sa.JSON)
    currency: str | None = Field(default=None, max_length=10)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # 0009: the register's full risk context (RiskContext as JSON); NULL on older rows.
    context: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


class ScanRun(SQLModel, table=True):
    """One recorded gate run; `run_id` is unique, which makes recording idempotent."""

    __tablename__ = "scan_run"
    __table_args__ = (sa.Index("ix_scan_run_project_started", "project_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=100, unique=True)
    project_id: int = Field(foreign_key="project.id")
    commit: str | None = Field(default=None, max_length=100)
    branch: str | None = None
    scope: str = Field(max_length=20)
    decision: str = Field(max_length=20)
    policy_name: str | None = None
    policy_digest: str | None = Field(default=None, max_length=200)
    scanner_versions: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    finding_count: int = 0
    opened: int = 0
    seen: int = 0
    reopened: int = 0
    fixed: int = 0
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime = Field(sa_type=UTCDateTime)
    recorded_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    recorded_by: str = Field(default="gate", max_length=200)


class RiskEntry(SQLModel, table=True):
    """One risk of one project, identified by the finding's fingerprint."""

    __tablename__ = "risk_entry"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "fingerprint", name="uq_risk_entry_project_fingerprint"),
        sa.Index("ix_risk_entry_project_status", "project_id", "status"),
        sa.Index("ix_risk_entry_status_due", "status", "due_date"),
        sa.Index("ix_risk_entry_owner", "owner"),
        sa.Index("ix_risk_entry_severity", "severity"),
        sa.Index("ix_risk_entry_score", "score"),
        # 0002: top risks and triage's first page; fixed entries for SLA and time to patch.
        sa.Index("ix_risk_entry_status_rank", "status", sa.text("score DESC"), "due_date", "id"),
        # 0010: the remediation plan and loss by exposure (active dependency entries).
        sa.Index("ix_risk_entry_component", "kind", "status", "project_id", "package", "version"),
        sa.Index(
            "ix_risk_entry_fixed",
            "project_id",
            "severity",
            "fixed_at",
            "first_seen",
            "due_date",
            postgresql_where=sa.text("status = 'fixed'"),
            sqlite_where=sa.text("status = 'fixed'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    fingerprint: str = Field(max_length=128)
    kind: str = Field(max_length=20)
    scanner: str = Field(max_length=100)
    rule_id: str
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    title: str
    severity: str = Field(max_length=20)
    cvss_score: float | None = None
    path: str | None = None
    start_line: int | None = None
    package: str | None = None
    version: str | None = None
    manifest: str | None = None
    fix_versions: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    known_exploited: bool = False
    kev_due_date: date | None = None
    epss: float | None = None
    epss_percentile: float | None = None
    confidence: str | None = Field(default=None, max_length=20)
    action: str = Field(max_length=20)
    status: str = Field(default=EntryStatus.OPEN.value, max_length=20)
    probability: int
    impact: int
    score: int
    band: str = Field(max_length=20)
    probability_reason: str
    impact_reason: str
    owner: str | None = None
    sla_days: int
    due_date: date
    accepted_until: date | None = None
    first_seen: datetime = Field(sa_type=UTCDateTime)
    last_seen: datetime = Field(sa_type=UTCDateTime)
    fixed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_count: int = 0
    branch: str | None = None
    last_run_id: str = Field(max_length=100)
    annual_loss_low: float | None = None
    annual_loss_high: float | None = None
    # Evidence (migration 0004): what the verdict said, for the finding page.
    message: str | None = Field(default=None, sa_type=sa.Text)
    snippet: str | None = Field(default=None, sa_type=sa.Text)
    end_line: int | None = None
    cwe: list[str] | None = Field(default=None, sa_type=sa.JSON)
    owasp: list[str] | None = Field(default=None, sa_type=sa.JSON)
    help_url: str | None = Field(default=None, sa_type=sa.Text)
    cvss_vector: str | None = Field(default=None, max_length=200)
    remediation_target: str | None = Field(default=None, max_length=200)
    # Stable identity (migration 0007): the function or class around a code finding.
    scope: str | None = Field(default=None, max_length=500)


class RiskAcceptance(SQLModel, table=True):
    """A decision to live with a risk until a date, with who approved it and why."""

    __tablename__ = "risk_acceptance"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="risk_entry.id", index=True)
    justification: str
    approver: str
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_on: date
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RiskEvent(SQLModel, table=True):
    """One change to an entry: who, when, what and why. Rows are only ever inserted."""

    __tablename__ = "risk_event"
    __table_args__ = (sa.Index("ix_risk_event_entry_at", "entry_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="risk_entry.id")
    run_id: str | None = Field(default=None, max_length=100)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    detail: str = ""
    reason: str | None = None


class ApiToken(SQLModel, table=True):
    """A hashed API token of the register service and the role it grants."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    token_hash: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # 0009: the projects an uploader token may post runs for; NULL means any project.
    projects: list[str] | None = Field(default=None, sa_type=sa.JSON)


class LoginSession(SQLModel, table=True):
    """A signed-in browser session (0011): the cookie carries its secret, the row its state.

    Logging out ends the row, so a copied cookie stops working at once; so does revoking the
    token behind it.
    """

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    secret_hash: str = Field(max_length=64, unique=True)
    token_id: int = Field(foreign_key="api_token.id", index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RiskEntryPublic(SQLModel):
    """An entry as the API shows it (with its project's name)."""

    id: int
    project: str
    fingerprint: str
    kind: str
    rule_id: str
    aliases: list[str]
    title: str
    severity: str
    cvss_score: float | None
    path: str | None
    start_line: int | None
    package: str | None
    version: str | None
    known_exploited: bool
    kev_due_date: date | None
    epss_percentile: float | None
    action: str
    status: str
    probability: int
    impact: int
    score: int
    band: str
    probability_reason: str
    impact_reason: str
    owner: str | None
    due_date: date
    accepted_until: date | None
    first_seen: datetime
    last_seen: datetime
    fixed_at: datetime | None
    reopened_count: int
    annual_loss_low: float | None
    annual_loss_high: float | None
    manifest: str | None = None
    fix_versions: list[str] = []
    scanner: str = ""
    message: str | None = None
    snippet: str | None = None
    end_line: int | None = None
    cwe: list[str] | None = None
    owasp: list[str] | None = None
    help_url: str | None = None
    cvss_vector: str | None = None
    remediation_target: str | None = None
    scope: str | None = None
    last_run_id: str = ""

    @classmethod
    def from_entry(cls, entry: RiskEntry, *, project: str) -> RiskEntryPublic:
        """The public shape of a stored entry."""
        return cls.model_validate({**entry.model_dump(), "project": project})


class RiskEventPublic(SQLModel):
    """An event as the API shows it."""

    id: int
    entry_id: int
    run_id: str | None
    at: datetime
    actor: str
    kind: str
    detail: str
    reason: str | None


class ScanRunPublic(SQLModel):
    """A recorded run as the API shows it."""

    run_id: str
    project: str
    commit: str | None
    branch: str | None
    scope: str
    decision: str
    policy_digest: str | None
    finding_count: int
    opened: int
    seen: int
    reopened: int
    fixed: int
    started_at: datetime
    finished_at: datetime
