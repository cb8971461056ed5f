"""Fuzzing the upload endpoint with hostile verdicts: never a 500, never half a run recorded.

Each example takes a genuine verdict (five findings) and does one hostile thing to it: a value
anywhere replaced by a wrong type, a huge or control-character or HTML/format-string string,
a deep nesting, a lone surrogate, a huge number; or the bytes themselves broken (cut short,
invalid UTF-8, nested 100,000 deep, not an object). The answer is 201 with the whole run
recorded, or a 4xx with one line of detail and the register exactly as it was. Bounded in
examples, no deadline (not a timing test).
"""

from __future__ import annotations

import json
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from starlette.responses import PlainTextResponse, Response

from register.config import Settings
from register.models import utc_now
from register.web.app import create_app
from tests.register.factories import example_findings, verdict
from tests.register.web.helpers import bearer

FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
LIMIT = 4 * 1024 * 1024
TABLES = ("scan_run", "risk_entry", "risk_event", "project")

HOSTILE_TEXT = st.sampled_from([
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "{{7*7}}", "%s%n%x",
    "'; DROP TABLE risk_entry; --", "=HYPERLINK(\"http://evil\")", "line\r\nInjected: yes",
    "\u202eexe.txt", "\x00", "a\x00b", "\x1b[31mred", "", " ", "../../etc/passwd",
    "\ufeff", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "🦀" * 1000, "x" * 300_000, "\\ud800",
    "\ud800", "lone \udfff surrogate",  # sent as JSON escapes: no UTF-8 encodes them
])
HOSTILE = st.one_of(
    HOSTILE_TEXT,
    st.text(max_size=200),
    st.none(), st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([[], {}, [None], {"": None}, "9999-12-30T00:00:00Z", "1969-12-31T23:59:59Z",
                     "not a date", -1, 0, 2**63, 1e308]),
    st.recursive(st.none() | st.integers() | st.text(max_size=5),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                     st.text(max_size=5), inner, max_size=3), max_leaves=20),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return document


def genuine() -> dict[str, Any]:
    """A verdict the register accepts, with a fresh run id."""
    run = verdict(example_findings(), run_id=f"fuzz-{uuid.uuid4().hex}", at=utc_now())
    document: dict[str, Any] = json.loads(run.model_dump_json())
    return document


PATHS = list(_paths(genuine()))


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    """A genuine verdict with one hostile change, as the bytes sent."""
    document = genuine()
    kind = draw(st.sampled_from(["value", "value", "value", "bytes"]))
    if kind == "value":
        mutated = _replace(document, draw(st.sampled_from(PATHS)), draw(HOSTILE))
        return json.dumps(mutated).encode()
    raw = json.dumps(document).encode()
    return draw(st.sampled_from([
        raw[: draw(st.integers(min_value=0, max_value=len(raw) - 1))],
        raw.replace(b'"title": "', b'"title": "\xff\xfe\xc3(', 1),
        raw.replace(b'"title": "', b'"title": "\xed\xa0\x80', 1),  # a UTF-8 encoded surrogate
        raw.replace(b'"reason": ', b'"reason": ' + b"[" * 100_000, 1),
        b"[" * 100_000 + b"]" * 100_000,
        b'"just a string"', b"null", b"[]", b"", b"\x00" * 64, b"\xef\xbb\xbf" + raw,
        raw + b"trailing", raw.replace(b"{", b"{\"decision\": \"block\", ", 1),
    ]))


def counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the register."""
    with engine.connect() as connection:
        return {table: int(connection.execute(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed names
                           .scalar_one()) for table in TABLES}


@pytest.fixture()
def fuzz_app(engine: Engine, database_url: str) -> FastAPI:
    """The service with a 4 MiB upload limit (room for the huge strings); the traceback of a
    server error is kept in `app.state.server_errors`, so a failure shows its cause."""
    app = create_app(Settings(database_url=database_url, secret_key="k" * 40,
                              max_upload_bytes=LIMIT))
    app.state.server_errors = []

    async def keep_traceback(request: Request, exc: Exception) -> Response:
        app.state.server_errors.append("".join(traceback.format_exception(exc)))
        return PlainTextResponse("Internal Server Error", status_code=500)

    app.add_exception_handler(Exception, keep_traceback)
    return app


def test_hostile_uploads_are_4xx_in_one_line_or_recorded_whole(
    fuzz_app: FastAPI, engine: Engine, tokens: dict[str, str]
) -> None:
    headers = {**bearer(tokens["uploader"]), "Content-Type": "application/json"}
    seen: dict[int, int] = {}

    with TestClient(fuzz_app, raise_server_exceptions=False) as client:

        @FUZZ
        @given(body=hostile_bodies())
        def one(body: bytes) -> None:
            before = counts(engine)
            response = client.post("/api/v1/runs", content=body, headers=headers)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, (fuzz_app.state.server_errors or [""])[-1]
            if response.status_code >= 400:
                detail = response.json()["detail"]
                assert isinstance(detail, str) and detail and "\n" not in detail, detail[:300]
                assert len(detail) < 2000, detail[:300]
                assert counts(engine) == before, detail
            else:
                assert response.status_code in (200, 201)
                assert counts(engine)["scan_run"] == before["scan_run"] + (
                    response.status_code == 201)

        one()

    assert any(status >= 400 for status in seen) and 201 in seen, seen


def test_hostile_titles_are_stored_as_sent_and_shown_escaped(
    fuzz_app: FastAPI, tokens: dict[str, str]
) -> None:
    titles = ["<script>alert(1)</script>", "=HYPERLINK(\"http://evil\")", "{{7*7}} %s%n",
              "\u202eexe.txt", "line\r\nInjected: yes"]
    document = genuine()
    for finding, title in zip(document["findings"], titles, strict=True):
        finding["finding"]["title"] = title
    with TestClient(fuzz_app) as client:
        posted = client.post("/api/v1/runs", content=json.dumps(document),
                             headers={**bearer(tokens["uploader"]),
                                      "Content-Type": "application/json"})
        listed = client.get("/api/v1/findings?limit=10", headers=bearer(tokens["viewer"]))
    assert posted.status_code == 201, posted.text
    assert sorted(item["title"] for item in listed.json()["items"]) == sorted(titles)


def test_lone_surrogates_are_refused_in_one_line(
    fuzz_app: FastAPI, engine: Engine, tokens: dict[str, str]
) -> None:
    headers = {**bearer(tokens["uploader"]), "Content-Type": "application/json"}
    with TestClient(fuzz_app, raise_server_exceptions=False) as client:
        for where in ("title", "rule_id", "snippet"):
            document = genuine()
            document["findings"][2]["finding"][where] = "a\ud800b"
            before = counts(engine)
            answer = client.post("/api/v1/runs", content=json.dumps(document), headers=headers)
            assert answer.status_code == 422, (where, answer.text[:300])
            assert "surrogate" in answer.json()["detail"], answer.json()["detail"]
            assert counts(engine) == before


@pytest.mark.parametrize("blank", ["", " ", "\t", "\x1f"])
def test_a_blank_advisory_id_is_refused_in_one_line(
    fuzz_app: FastAPI, engine: Engine, tokens: dict[str, str], blank: str
) -> None:
    """Found by the fuzz test above (one run in about twenty): a dependency finding whose id is
    blank and has no aliases has no advisory to key its identity on; it was a 500."""
    document = genuine()
    document["findings"][0]["finding"].update(rule_id=blank, aliases=[])
    before = counts(engine)
    with TestClient(fuzz_app, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/runs", content=json.dumps(document),
                               headers={**bearer(tokens["uploader"]),
                                        "Content-Type": "application/json"})
    assert response.status_code == 422, response.text[:300]
    detail = response.json()["detail"]
    assert "rule_id" in detail and "blank" in detail and "\n" not in detail, detail
    assert counts(engine) == before
