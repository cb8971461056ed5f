"""Who is asking: the principal behind a request, and where the gatekeeper leaves it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException

from register.models import ApiToken, Role

# The ASGI scope key under which `register.web.gatekeeper` leaves the authenticated principal.
PRINCIPAL_SCOPE_KEY = "riskgate.principal"
# The session cookie's key holding the login session's secret (`register.web.login_sessions`).
LOGIN_SESSION_FIELD = "sid"


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The token behind a request: its id, name (the actor in event logs) and role."""

    token_id: int
    name: str
    role: Role
    projects: frozenset[str] | None = None  # an uploader's scope; None: any project

    @property
    def actor(self) -> str:
        """How this principal appears in the event log."""
        return self.name

    def check_project(self, project: str) -> None:
        """403 unless this principal may post runs for (and read decisions of) `project`."""
        if self.projects is not None and project not in self.projects:
            allowed = ", ".join(sorted(self.projects))
            raise HTTPException(
                403, f"token {self.name!r} is scoped to project(s) {allowed}, not {project!r}"
            )


def principal_of(row: ApiToken) -> Principal:
    """The principal of a stored token."""
    assert row.id is not None  # noqa: S101 - rows read from the database have ids
    scope = None if row.projects is None else frozenset(row.projects)
    return Principal(token_id=row.id, name=row.name, role=Role(row.role), projects=scope)
