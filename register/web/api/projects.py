"""Projects and the counts and expected loss of their active risks."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from gate.models import RiskContext, TriageDecision
from register.decisions import project_decisions
from register.errors import RegisterInputError
from register.project_settings import configure_project, project_settings
from register.web.deps import ApiAdmin, ApiViewer, DecisionReader, SessionDep
from register.web.present import projects_public
from register.web.schemas import ProjectPublic

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=list[ProjectPublic])
def list_projects(session: SessionDep, _: ApiViewer) -> list[ProjectPublic]:
    """Every project with open, accepted and overdue counts."""
    return projects_public(session)


@router.get("/{name}", response_model=ProjectPublic)
def get_project(name: str, session: SessionDep, _: ApiViewer) -> ProjectPublic:
    """One project's summary."""
    found = next((p for p in projects_public(session) if p.name == name), None)
    if found is None:
        raise HTTPException(404, f"no project named {name!r}")
    return found


@router.get("/{name}/decisions", response_model=dict[str, TriageDecision])
def get_decisions(
    name: str, session: SessionDep, who: DecisionReader
) -> dict[str, TriageDecision]:
    """Accepted risks and false positives by fingerprint, for `gate scan --register` (read-only).

    A project the register does not know yet has no decisions (an empty object); an uploader
    token scoped to projects reads only theirs (403).
    """
    who.check_project(name)
    return project_decisions(session.connection(), project=name)


@router.get("/{name}/settings", response_model=RiskContext)
def get_settings(name: str, session: SessionDep, _: ApiViewer) -> RiskContext:
    """The project's settings: SLA days, criticality, acceptance limit, KEV SLA, money."""
    try:
        return project_settings(session, name)
    except RegisterInputError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.put("/{name}/settings", response_model=RiskContext)
def put_settings(
    name: str, body: RiskContext, session: SessionDep, _: ApiAdmin
) -> RiskContext:
    """Create the project or replace its settings (admin); uploads never change them."""
    configure_project(session, name, body)
    return body
