"""Runs: the gate's JSON verdict posted by CI (`gate scan --upload`), and the recorded runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from register import queries
from register.config import Settings
from register.errors import RegisterInputError
from register.models import ScanRunPublic, utc_now
from register.recording import RecordResult, record_findings
from register.verdict_stream import (
    VerdictFile,
    VerdictFileError,
    exactly_on_refusal,
    read_verdict_file,
)
from register.web.deps import ApiViewer, SessionDep, SettingsDep, Uploader
from register.web.principal import Principal
from register.web.run_times import check_run_times
from register.web.schemas import RunRecorded, Text, verdict_request_body
from register.web.upload_spool import spool_bounded, spool_file
from register.web.validation import refuse_unstorable_file

router = APIRouter(prefix="/runs", tags=["runs"])
ProjectQuery = Annotated[Text | None, Query(max_length=200, min_length=1)]
VERDICT_BODY = verdict_request_body()


@router.post("", response_model=RunRecorded, status_code=201, openapi_extra=VERDICT_BODY)
async def post_run(
    request: Request,
    session: SessionDep,
    who: Uploader,
    settings: SettingsDep,
    response: Response,
    project: ProjectQuery = None,
) -> RunRecorded:
    """Record a gate verdict (idempotent per run_id: a repeat answers 200 and changes nothing).

    The body may be gzip-compressed (`Content-Encoding: gzip`); it is spooled to a temporary
    file under `GATE_MAX_UPLOAD_BYTES` and recorded from there one finding at a time.
    A token scoped to projects may post runs for those only (403).
    """
    if project is not None:
        who.check_project(project)
    handle, path = spool_file()
    try:
        with handle:
            encoding = request.headers.get("content-encoding", "")
            await spool_bounded(
                request.stream(), encoding=encoding, limit=settings.max_upload_bytes, into=handle
            )
        result = await run_in_threadpool(
            record_uploaded_file, session, path, project=project, who=who, settings=settings,
        )
    finally:
        path.unlink(missing_ok=True)
    if result.already_recorded:
        response.status_code = 200
    return RunRecorded.model_validate(result, from_attributes=True)


def record_uploaded_file(
    session: Session, path: Path, *, project: str | None, who: Principal, settings: Settings
) -> RecordResult:
    """Read, check and record a spooled verdict (422 with one line when it is not one).

    The run's times must lie near the register's clock and are capped at its receipt; the
    project's settings are the register's, whatever the verdict's context says.
    """
    received_at = utc_now()

    def record(verdict: VerdictFile) -> RecordResult:
        with session.begin_nested():  # a refused fast read leaves nothing behind
            name = project or verdict.header.project
            if name:
                who.check_project(name)
            check_run_times(verdict.header, now=received_at, settings=settings)
            if verdict.may_hold_nul:
                refuse_unstorable_file(verdict)
            return record_findings(
                session, verdict.header, verdict.findings(), project=project, actor=who.actor,
                may_hold_nul=False, received_at=received_at, adopt_context=False,
            )

    try:
        verdict = read_verdict_file(path, fast=True)
        return exactly_on_refusal(verdict, record, refusals=(RegisterInputError, HTTPException))
    except VerdictFileError as exc:
        raise RegisterInputError(exc.request_message()) from exc


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
