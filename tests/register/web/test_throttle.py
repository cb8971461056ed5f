"""Failed sign-ins and unknown API tokens are throttled per client: 429 with Retry-After.

A client that only ever presents good tokens is never slowed; another client is not affected
by its neighbour's failures; the lock lifts when the failures leave the window.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from register.config import Settings
from register.web.app import create_app
from tests.register.web.helpers import bearer, csrf_from

LIMIT, WINDOW = 3, 2

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture()
def strict_app(engine: Engine, database_url: str) -> FastAPI:
    """The service allowing 3 failures per client in 2 seconds."""
    settings = Settings(database_url=database_url, secret_key="k" * 40,
                        auth_failure_limit=LIMIT, auth_failure_window_seconds=WINDOW)
    return create_app(settings)


@pytest.fixture()
def attacker(strict_app: FastAPI) -> Iterator[TestClient]:
    """A client at 10.0.0.66."""
    with TestClient(strict_app, client=("10.0.0.66", 4000)) as client:
        yield client


def _login(client: TestClient, token: str) -> int:
    csrf = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"token": token, "csrf_token": csrf},
                           follow_redirects=False)
    return response.status_code


def test_bad_api_tokens_get_429_with_retry_after_then_the_lock_lifts(
    strict_app: FastAPI, attacker: TestClient, tokens: dict[str, str]
) -> None:
    statuses = [attacker.get("/api/v1/projects", headers=bearer(f"rg_guess{n}")).status_code
                for n in range(LIMIT)]
    locked = attacker.post("/api/v1/findings/bulk", headers=bearer("rg_guess"),
                           content=b"x" * 10_000)
    good_but_locked = attacker.get("/api/v1/projects", headers=bearer(tokens["viewer"]))

    assert statuses == [401] * LIMIT
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= WINDOW
    assert locked.json()["detail"].startswith("too many failed sign-ins or API tokens")
    assert good_but_locked.status_code == 429  # no oracle while locked
    with TestClient(strict_app, client=("10.0.0.7", 4000)) as neighbour:
        assert neighbour.get("/api/v1/projects",
                             headers=bearer(tokens["viewer"])).status_code == 200

    time.sleep(WINDOW + 0.2)
    assert attacker.get("/api/v1/projects", headers=bearer(tokens["viewer"])).status_code == 200


def test_failed_logins_get_429_and_good_clients_are_never_slowed(
    strict_app: FastAPI, attacker: TestClient, tokens: dict[str, str]
) -> None:
    assert [_login(attacker, "rg_wrong") for _ in range(LIMIT)] == [401] * LIMIT
    csrf = csrf_from(attacker.get("/login").text)
    locked = attacker.post("/login", data={"token": tokens["viewer"], "csrf_token": csrf})
    assert locked.status_code == 429 and "retry after" in locked.text
    assert locked.headers["Retry-After"].isdigit()

    with TestClient(strict_app, client=("10.0.0.8", 4000)) as ci:
        answers = {ci.get("/api/v1/projects", headers=bearer(tokens["viewer"])).status_code
                   for _ in range(5 * LIMIT)}
        assert answers == {200}
        assert {_login(ci, tokens["viewer"]) for _ in range(2 * LIMIT)} == {303}
        # an uploader token at the login form is refused, but it is no guess: not counted
        assert {_login(ci, tokens["uploader"]) for _ in range(2 * LIMIT)} == {401}
        assert _login(ci, tokens["viewer"]) == 303
