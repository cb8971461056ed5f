"""Request and response shapes of the JSON API; entries reuse the register's Public models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gate.models import Verdict
from register.models import RiskEntryPublic, RiskEventPublic, Role

TEXT_LIMIT = 2000
MAX_ID = 2**31 - 1  # database integer ids
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A database id.")]


def no_nul(value: str) -> str:
    """Refuse NUL characters: PostgreSQL text cannot store them."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(no_nul)]
NAME_LIMIT = 200


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FindingPage(BaseModel):
    """One page of register entries and how many match in total."""

    items: list[RiskEntryPublic]
    total: int
    limit: int
    offset: int


class FindingDetail(BaseModel):
    """An entry with its business words and its full event log, oldest first."""

    finding: RiskEntryPublic
    likelihood: str
    impact: str
    events: list[RiskEventPublic]


class AssignRequest(_Request):
    """Give an entry an owner."""

    owner: Text = Field(min_length=1, max_length=NAME_LIMIT)
    reason: Text | None = Field(default=None, max_length=TEXT_LIMIT)


class AcceptRequest(_Request):
    """Accept a risk until a date, with a justification and an approver (not the caller)."""

    reason: Text = Field(min_length=1, max_length=TEXT_LIMIT)
    expires_on: date
    approver: Text = Field(
        min_length=1, max_length=NAME_LIMIT,
        description="Who approved it: four eyes, someone other than the caller's token name.",
    )


class ReasonRequest(_Request):
    """A triage action that needs only a reason (false positive, reopen)."""

    reason: Text = Field(min_length=1, max_length=TEXT_LIMIT)


class MttpRowPublic(BaseModel):
    """Time to patch of one group (a severity, or a month `YYYY-MM`)."""

    group: str
    fixed: int
    mean_days: float
    median_days: float


class MttpCellPublic(BaseModel):
    """Mean time to patch of one severity in one month of the fix."""

    severity: str
    month: str
    fixed: int
    mean_days: float


class SlaPublic(BaseModel):
    """Fixed entries of a group and how many were fixed by their deadline."""

    group: str
    fixed: int
    within_sla: int
    percent: float


class TrendWeekPublic(BaseModel):
    """One week of the register: open risks per band, accepted, overdue, expected loss."""

    week: date
    open_by_band: dict[str, int]
    accepted: int
    overdue: int
    priced: int
    loss_low: float | None
    loss_high: float | None


class TrendsPublic(BaseModel):
    """Weekly trend (oldest first) and the figures now; every loss counts each vulnerable
    component once (the overview's loss by exposure)."""

    project: str | None
    open: int
    overdue: int
    annual_loss_low: float | None
    annual_loss_high: float | None
    currency: str | None
    weeks: list[TrendWeekPublic]


class MttpPublic(BaseModel):
    """Mean/median time to patch by severity and month, and SLA compliance."""

    project: str | None
    by_severity: list[MttpRowPublic]
    by_month: list[MttpRowPublic]
    by_severity_month: list[MttpCellPublic]
    sla_overall: SlaPublic
    sla_by_severity: list[SlaPublic]


class MatrixPublic(BaseModel):
    """5×5 counts of active entries: `counts[likelihood - 1][impact - 1]`."""

    project: str | None
    likelihood: list[str]
    impact: list[str]
    counts: list[list[int]]
    total: int


class ProjectPublic(BaseModel):
    """A project's active risks: counts and expected annual loss by exposure (an estimate)."""

    name: str
    open: int
    accepted: int
    overdue: int
    critical: int
    high: int
    annual_loss_low: float | None
    annual_loss_high: float | None
    currency: str | None


class TokenCreate(_Request):
    """A new API token's name and role."""

    name: Text = Field(min_length=1, max_length=NAME_LIMIT)
    role: Role
    # Uploader tokens only: the projects it may post runs for (omitted: any project).
    projects: list[Text] | None = Field(default=None, min_length=1, max_length=100)


class TokenPublic(BaseModel):
    """An API token without its secret."""

    id: int
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    projects: list[str] | None = None


class TokenCreated(TokenPublic):
    """A new token; `token` is shown this once and never stored."""

    token: str


class RunRecorded(BaseModel):
    """What recording an uploaded verdict changed; `already_recorded` for a repeated run id."""

    run_id: str
    project: str
    already_recorded: bool
    findings: int
    opened: int
    seen: int
    reopened: int
    fixed: int


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """`node` with every `#/$defs/...` reference replaced by its definition."""
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return _inline(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def verdict_request_body() -> dict[str, Any]:
    """The OpenAPI request body of `POST /runs`: a `Verdict`, read by the route itself.

    The route streams its body (it may be large and gzip-compressed), so FastAPI does not
    see a body parameter; the schema is given here, self-contained.
    """
    schema = Verdict.model_json_schema()
    definitions = schema.pop("$defs", {})
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(schema, definitions)}},
        }
    }


class BulkRequest(_Request):
    """One triage action on many findings: the listed ids, or all matching `filters`."""

    action: Literal["assign", "accept", "false_positive", "reopen"]
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=2000)
    filters: dict[str, Any] | None = Field(
        default=None, description="The /findings query parameters; every matching finding."
    )
    reason: Text | None = Field(default=None, max_length=TEXT_LIMIT)
    owner: Text | None = Field(default=None, max_length=NAME_LIMIT)
    expires_on: date | None = None
    approver: Text | None = Field(default=None, max_length=NAME_LIMIT)


class BulkResultPublic(BaseModel):
    """What a bulk action changed and what it skipped, with reasons."""

    action: str
    changed: list[int]
    skipped: list[dict[str, Any]]
    summary: str
