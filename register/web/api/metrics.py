"""Aggregates: the 5×5 risk matrix and mean/median time to patch with SLA compliance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from register.web.deps import ApiViewer, SessionDep
from register.web.present import matrix_public, mttp_public
from register.web.schemas import MatrixPublic, MttpPublic, Text

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
