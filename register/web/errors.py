"""Errors as JSON `{"detail": "..."}` for the API and as a small HTML page for people.

Register errors map to HTTP statuses: unknown entry 404, refused triage 409, bad input 422,
database down 503. A validation error becomes one clear line naming the first bad field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from register.errors import (
    DatabaseUnavailableError,
    EntryNotFoundError,
    RegisterError,
    RegisterInputError,
    SchemaOutOfDateError,
    TriageRefusedError,
    field_path,
)
from register.web.health import DATABASE_ERRORS, database_down


class LoginRequiredError(Exception):
    """A page needs a signed-in person; the handler redirects to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__("login required")
        self.next_path = next_path


def status_for(exc: RegisterError) -> int:
    """The HTTP status of a register error."""
    if isinstance(exc, EntryNotFoundError):
        return 404
    if isinstance(exc, TriageRefusedError):
        return 409
    if isinstance(exc, RegisterInputError):
        return 422
    if isinstance(exc, DatabaseUnavailableError | SchemaOutOfDateError):
        return 503
    return 500


def validation_message(errors: Sequence[Any]) -> str:
    """One line: the first invalid field and why, plus how many more there are."""
    if not errors:
        return "invalid request"
    first = errors[0]
    location = field_path(part for part in first.get("loc", ()) if part != "body")
    text = f"invalid request: {location or 'body'}: {first.get('msg', 'invalid value')}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more problems)"
    return text


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _render(request: Request, status: int, detail: str, headers: Any = None) -> Response:
    if _wants_html(request):
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "detail": detail},
            status_code=status,
            headers=headers,
        )
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type
    return _render(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type
    return _render(request, 422, validation_message(exc.errors()))


async def _register_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegisterError)  # noqa: S101 - registered for this type
    return _render(request, status_for(exc), str(exc))


async def _data_error(request: Request, exc: Exception) -> Response:
    # A backstop: input the validators let through but the database refuses is the
    # caller's mistake (422), not a server error.
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return _render(request, 422, f"the database refused a value: {lines[0] if lines else exc}")


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequiredError)  # noqa: S101 - registered for this type
    return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on `app`."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RegisterError, _register_error)
    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(DataError, _data_error)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _database_down)


async def _database_down(request: Request, exc: Exception) -> Response:
    status, detail, headers = database_down(request.app.state.engine, exc)
    return _render(request, status, detail, headers)
