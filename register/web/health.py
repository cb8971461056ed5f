"""The database's health: `/healthz`, and the one-line 503 every route answers while it is down.

A database that is down, unreachable or locked past the busy timeout is not the caller's fault
and not a bug: the caller gets 503 with `Retry-After` and one line that reveals nothing about
where the database lives; the operator gets one log line naming it and the driver's reason.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.requests import Request
from starlette.responses import JSONResponse

from register.db import unavailable
from register.errors import DatabaseUnavailableError

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError,
    DatabaseUnavailableError,
)
DOWN_MESSAGE = "the register's database is unavailable; try again shortly"
RETRY_AFTER_SECONDS = 5
log = logging.getLogger("riskgate.web")


def database_down(engine: Engine, exc: BaseException) -> tuple[int, str, dict[str, str]]:
    """Status, detail and headers of the answer to a request the database could not serve."""
    reason = exc if isinstance(exc, DatabaseUnavailableError) else unavailable(engine.url, exc)
    log.error("503: %s", reason)
    return 503, DOWN_MESSAGE, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def database_state(engine: Engine) -> str | None:
    """None when the database answers a trivial query; otherwise why not (one line)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DATABASE_ERRORS as exc:
        return str(exc if isinstance(exc, DatabaseUnavailableError)
                   else unavailable(engine.url, exc))
    return None


def healthz(request: Request) -> JSONResponse:
    """200 when the service and its database answer; 503 naming the database state when not."""
    problem = database_state(request.app.state.engine)
    if problem is None:
        return JSONResponse({"status": "ok", "database": "ok"})
    log.error("healthz: %s", problem)
    return JSONResponse(
        {"status": "unavailable", "database": "unavailable"}, status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
