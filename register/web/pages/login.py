"""Log in by exchanging an API token for a signed, HttpOnly session cookie; log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from register.models import Role
from register.web.deps import SESSION_TOKEN_KEY, SessionDep
from register.web.pages.render import CsrfChecked, local_path, redirect, render
from register.web.tokens import authenticate

router = APIRouter()


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    """The login form."""
    return render(request, "login.html", {"next": local_path(next)}, principal=None)


@router.post("/login", dependencies=[CsrfChecked])
def login(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the token and start a session for its holder."""
    row = authenticate(session, token.strip()) if token.strip() else None
    error = None
    if row is None:
        error = "That token is unknown or revoked."
    elif row.role == Role.UPLOADER.value:
        error = "Uploader tokens can only post runs; log in with a viewer, triager or admin token."
    if error is not None or row is None:
        context = {"next": local_path(next), "error": error}
        return render(request, "login.html", context, principal=None, status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) on every login
    request.session[SESSION_TOKEN_KEY] = row.id
    return redirect(local_path(next))


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return redirect("/login")
