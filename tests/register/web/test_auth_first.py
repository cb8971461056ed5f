"""Authentication before the body: no anonymous caller makes the service read a request body.

Each body-taking route is called through the ASGI interface with a large body whose reads are
counted: an anonymous or bad-token request gets its 401 (a page form post its redirect to the
login form) having read 0 bytes. The same harness shows an authenticated request does read its
body, so the count is real. A real uvicorn answers 401 to a 50 MB declared body it never got.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

import anyio
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from register.config import Settings
from register.web.app import create_app
from tests.register.web.live import live_server

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CHUNK = 64 * 1024
UPLOAD_LIMIT = 64 * 1024 * 1024
DECLARED = 40 * 1024 * 1024  # under the upload limit, so only authentication can refuse it
FORM_DECLARED = 900 * 1024  # under the form limit
PATH_VALUES = {"entry_id": "1", "token_id": "1", "name": "shop"}
# The pages' form posts (not in the OpenAPI document), and a path no route has: the rule is
# "every page request with a body but the login form needs a live session".
PAGE_POSTS = ["/logout", "/triage/bulk", "/findings/1/assign", "/findings/1/accept",
              "/findings/1/false-positive", "/findings/1/reopen", "/no-such-page"]


@dataclass
class Outcome:
    """What the app answered and how many body bytes it pulled."""

    status: int
    read: int
    headers: dict[str, str]


async def _call(app: FastAPI, method: str, path: str, headers: dict[str, str],
                declared: int) -> Outcome:
    read = 0
    sent = False
    start: dict[str, object] = {}

    async def receive() -> dict[str, object]:
        nonlocal read, sent
        if sent:
            await anyio.sleep(3600)  # like a client that never sends the rest
        chunk = min(CHUNK, declared - read)
        read += chunk
        sent = read >= declared
        return {"type": "http.request", "body": b"x" * chunk, "more_body": not sent}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)

    raw = [(name.lower().encode(), value.encode()) for name, value in
           {**headers, "content-length": str(declared), "host": "testserver"}.items()]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": raw, "client": ("10.0.0.9", 40000),
        "server": ("testserver", 80), "state": {},
    }
    with anyio.fail_after(30):
        await app(scope, receive, send)  # type: ignore[arg-type]
    answer = {k.decode(): v.decode() for k, v in start.get("headers", [])}  # type: ignore[attr-defined]
    return Outcome(status=int(start["status"]), read=read, headers=answer)  # type: ignore[call-overload]


def call(app: FastAPI, method: str, path: str, *, declared: int = DECLARED,
         headers: dict[str, str] | None = None) -> Outcome:
    """One request through the ASGI app with a body of `declared` bytes, counted as read."""
    base = {"content-type": "application/json"}
    return anyio.run(_call, app, method, path, {**base, **(headers or {})}, declared)


def api_body_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, concrete path) of the API that takes a request body."""
    found = []
    for template, operations in app.openapi()["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], template)
        found += [(method.upper(), path) for method in operations
                  if method.upper() in BODY_METHODS]
    return found


@pytest.fixture()
def big_app(engine: Engine, database_url: str) -> FastAPI:
    """The service with a large upload limit and a throttle that does not get in the way."""
    settings = Settings(database_url=database_url, secret_key="k" * 40,
                        max_upload_bytes=UPLOAD_LIMIT, auth_failure_limit=10_000)
    return create_app(settings)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_body_route_reads_a_byte_before_authentication(
    big_app: FastAPI, tokens: dict[str, str]
) -> None:
    api = api_body_routes(big_app)
    assert len(api) >= 9, api

    for method, path in api:
        for headers in ({}, {"authorization": "Bearer rg_not-a-token"},
                        {"authorization": "Basic YWRtaW46YWRtaW4="}):
            outcome = call(big_app, method, path, headers=headers)
            assert (outcome.status, outcome.read) == (401, 0), (method, path, headers)
            assert outcome.headers["www-authenticate"] == "Bearer"
    for path in PAGE_POSTS:
        outcome = call(big_app, "POST", path, declared=FORM_DECLARED,
                       headers={"content-type": "application/x-www-form-urlencoded"})
        assert (outcome.status, outcome.read) == (303, 0), path
        assert outcome.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_count_is_real_an_authenticated_body_is_read(
    big_app: FastAPI, tokens: dict[str, str]
) -> None:
    triager = {"authorization": f"Bearer {tokens['triager']}"}
    outcome = call(big_app, "POST", "/api/v1/findings/bulk", declared=2 * CHUNK,
                   headers=triager)
    assert outcome.read == 2 * CHUNK and outcome.status == 422


def test_real_uvicorn_answers_401_before_a_50_mb_body_arrives(
    engine: Engine, database_url: str
) -> None:
    request = (b"POST /api/v1/findings/bulk HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
               + b'{"ids": [' + b"1, " * 1000)
    with live_server(database_url) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(request)  # 3 KB of the 50 MB declared; the rest never comes
            answer = b""
            while b"missing API token" not in answer and (chunk := conn.recv(4096)):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"missing API token" in answer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_anonymous_login_form_is_capped_small(big_app: FastAPI) -> None:
    outcome = call(big_app, "POST", "/login", declared=2 * 1024 * 1024,
                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert (outcome.status, outcome.read) == (413, 0)
