"""Runs: the gate's JSON verdict posted by CI (`gate scan --upload`), and the recorded runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from gate.models import Verdict
from register import queries
from register.models import ScanRunPublic
from register.recording import record_run
from register.web.deps import ApiViewer, SessionDep, Uploader
from register.web.schemas import RunRecorded, Text
from register.web.validation import refuse_unstorable

router = APIRouter(prefix="/runs", tags=["runs"])
ProjectQuery = Annotated[Text | None, Query(max_length=200, min_length=1)]


@router.post("", response_model=RunRecorded, status_code=201)
def post_run(
    verdict: Verdict,
    session: SessionDep,
    who: Uploader,
    response: Response,
    project: ProjectQuery = None,
) -> RunRecorded:
    """Record a gate verdict (idempotent per run_id: a repeat answers 200 and changes nothing)."""
    refuse_unstorable(verdict)
    result = record_run(session, verdict, project=project, actor=who.actor)
    if result.already_recorded:
        response.status_code = 200
    return RunRecorded.model_validate(result, from_attributes=True)


@router.get("", response_model=list[ScanRunPublic])
def list_runs(
    session: SessionDep,
    _: ApiViewer,
    project: ProjectQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[ScanRunPublic]:
    """Recorded runs, newest first."""
    rows = queries.list_runs(session, project=project, limit=limit, offset=offset)
    return [ScanRunPublic.model_validate({**run.model_dump(), "project": name})
            for run, name in rows]
