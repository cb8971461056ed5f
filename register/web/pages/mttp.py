"""Mean and median time to patch: by severity, month over month, as an SVG chart and numbers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from sqlmodel import Session
from starlette.responses import Response

from register import queries, trends
from register.web.charts import line_chart
from register.web.deps import PageViewer, SessionDep
from register.web.pages.cache import render_cached
from register.web.present import all_project_names, mttp_public
from register.web.schemas import MttpPublic, Text

router = APIRouter()


def mttp_chart(report: MttpPublic) -> Markup:
    """Mean and median days to patch per month of the fix."""
    months = [row.group for row in report.by_month]
    series: dict[str, list[float | None]] = {
        "Mean days": [row.mean_days for row in report.by_month],
        "Median days": [row.median_days for row in report.by_month],
    }
    return line_chart(
        categories=months, series=series, y_label="days to patch",
        title="Time to patch, month over month",
    )


SEVERITY_ORDER = ("critical", "high", "unknown", "medium", "low", "info")


def severity_chart(report: MttpPublic, targets: dict[str, float] | None = None) -> Markup:
    """Mean days to patch per month of the fix, one line per severity, with SLA targets."""
    months = sorted({cell.month for cell in report.by_severity_month})
    means = {(cell.severity, cell.month): cell.mean_days for cell in report.by_severity_month}
    present = {cell.severity for cell in report.by_severity_month}
    series: dict[str, list[float | None]] = {
        severity: [means.get((severity, month)) for month in months]
        for severity in SEVERITY_ORDER
        if severity in present
    }
    shown = {name: days for name, days in (targets or {}).items() if name in series}
    return line_chart(
        categories=months, series=series, y_label="mean days to patch",
        title="Mean time to patch by severity, month over month", targets=shown,
    )


@router.get("/mttp")
def mttp_page(
    request: Request,
    session: SessionDep,
    who: PageViewer,
    project: Annotated[Text | None, Query(max_length=200)] = None,
) -> Response:
    """Time to patch by severity and month, with SLA compliance."""
    return render_cached(request, session, who, "mttp.html",
                         lambda: mttp_context(session, project or None))


def mttp_context(session: Session, project: str | None) -> dict[str, Any]:
    """What the time-to-patch page shows."""
    report = mttp_public(session, project=project)
    chosen = queries.get_project(session, name=project) if project else None
    targets = trends.sla_targets(chosen.sla_days if chosen else None)
    return {
        "targets": targets,
        "project": project,
        "projects": all_project_names(session),
        "report": report,
        "chart": mttp_chart(report),
        "severity_chart": severity_chart(report, targets),
        "active": "mttp",
    }
