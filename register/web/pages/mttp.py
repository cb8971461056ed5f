"""Mean and median time to patch: by severity, month over month, as an SVG chart and numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from starlette.responses import Response

from register.web.charts import line_chart
from register.web.deps import PageViewer, SessionDep
from register.web.pages.render import render
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


@router.get("/mttp")
def mttp_page(
    request: Request,
    session: SessionDep,
    who: PageViewer,
    project: Annotated[Text | None, Query(max_length=200)] = None,
) -> Response:
    """Time to patch by severity and month, with SLA compliance."""
    project = project or None
    report = mttp_public(session, project=project)
    context = {
        "project": project,
        "projects": all_project_names(session),
        "report": report,
        "chart": mttp_chart(report),
        "active": "mttp",
    }
    return render(request, "mttp.html", context, principal=who)
