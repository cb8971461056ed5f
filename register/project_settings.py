"""A project's settings (its risk context) belong to the register, not to whoever uploads.

SLA days, criticality, classification, default owner, acceptance limit, KEV SLA and money are
set by an admin (`PUT /api/v1/projects/{name}/settings`, `gate register project set`) or by
recording straight into the database (whoever holds the database credentials can change
anything anyway). A run uploaded through the service is scored with the stored settings and
never changes them; a project an upload creates starts with the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, select

from gate.models import RiskContext
from register.errors import RegisterInputError, field_path
from register.models import Project, utc_now

SETTING_COLUMNS = (
    "business_criticality", "data_classification", "default_owner", "acceptance_max_days",
    "sla_days", "currency", "context",
)


def column_values(context: RiskContext) -> dict[str, Any]:
    """The project columns that hold `context` (the summary columns and the full JSON)."""
    return {
        "business_criticality": context.business_criticality.value,
        "data_classification": context.data_classification.value,
        "default_owner": context.default_owner,
        "acceptance_max_days": context.acceptance_max_days,
        "sla_days": {str(k): v for k, v in context.sla_days.items()},
        "currency": context.money.currency if context.money else None,
        "context": context.model_dump(mode="json"),
    }


def context_of(values: Mapping[str, Any]) -> RiskContext:
    """The risk context stored in a project's columns (`SETTING_COLUMNS`)."""
    if values.get("context"):
        return RiskContext.model_validate(values["context"])
    # A row from before migration 0009: the summary columns are all there is.
    return RiskContext.model_validate({
        "sla_days": values["sla_days"] or RiskContext().sla_days,
        "business_criticality": values["business_criticality"],
        "data_classification": values["data_classification"],
        "default_owner": values["default_owner"],
        "acceptance_max_days": values["acceptance_max_days"],
    })


def parse_context(data: Any, *, source: str) -> RiskContext:
    """A risk context from JSON data; `RegisterInputError` naming the first bad field."""
    try:
        return RiskContext.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field_path(first["loc"]) or "settings"
        raise RegisterInputError(f"{source}: {where}: {first['msg']}") from None


def project_settings(session: Session, name: str) -> RiskContext:
    """The stored settings of project `name`; `RegisterInputError` when there is none."""
    row = session.exec(select(Project).where(Project.name == name)).first()
    if row is None:
        raise RegisterInputError(f"no project named {name!r}")
    return context_of(row.model_dump())


def configure_project(session: Session, name: str, context: RiskContext) -> Project:
    """Create project `name` or replace its settings with `context` (an admin's change)."""
    if not name.strip() or len(name) > 200:
        raise RegisterInputError("a project name is 1 to 200 characters")
    row = session.exec(select(Project).where(Project.name == name)).first() or Project(name=name)
    for key, value in column_values(context).items():
        setattr(row, key, value)
    row.updated_at = utc_now()
    session.add(row)
    session.flush()
    return row
