"""Aggregates: the 5×5 risk matrix, time to patch with SLA compliance, and weekly trends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from register.web.deps import ApiViewer, SessionDep
from register.web.present import matrix_public, mttp_public, trends_public
from register.web.schemas import MatrixPublic, MttpPublic, Text, TrendsPublic

router = APIRouter(tags=["metrics"])
ProjectQuery = Annotated[Text | None, Query(max_length=200, description="One project's name.")]


@router.get("/matrix", response_model=MatrixPublic)
def get_matrix(session: SessionDep, _: ApiViewer, project: ProjectQuery = None) -> MatrixPublic:
    """Counts of open and accepted risks by likelihood × impact."""
    return matrix_public(session, project=project)


@router.get("/metrics/mttp", response_model=MttpPublic)
def get_mttp(session: SessionDep, _: ApiViewer, project: ProjectQuery = None) -> MttpPublic:
    """Mean and median days to patch by severity and by month, and SLA compliance."""
    return mttp_public(session, project=project)


@router.get("/metrics/trends", response_model=TrendsPublic)
def get_trends(session: SessionDep, _: ApiViewer, project: ProjectQuery = None) -> TrendsPublic:
    """Open risks by band, overdue and expected loss (by exposure) per week, and now."""
    return trends_public(session, project=project or None)
