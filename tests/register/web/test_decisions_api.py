"""`GET /api/v1/projects/{name}/decisions` and `gate scan --register`'s client against a real
uvicorn: live answers are cached; when the service is down the cache stands in, with its age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.decisions import load_decisions
from gate.decisions.cache import DecisionCache
from gate.decisions.register_http import RegisterSource
from gate.errors import ConfigError
from gate.models import DecisionsStatus, TriageStatus
from gate.policy.load import parse_policy
from register import triage
from register.db import session_scope
from register.models import Role
from register.recording import record_verdict_in
from register.web.tokens import create_token
from tests.register.factories import example_findings, verdict
from tests.register.web.live import free_port, live_server

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POLICY = parse_policy("version: 1\nname: t\n", source="t.yml")


def _triaged(engine: Engine) -> None:
    record_verdict_in(engine, verdict(example_findings(), run_id="r1", project="shop"))
    until = datetime.now(UTC).date() + timedelta(days=10)
    with Session(engine) as session, session.begin():
        triage.accept(session, entry_id=1, reason="patch in May", until=until, approver="ciso",
                      actor="bob")
        triage.mark_false_positive(session, entry_id=3, actor="alice", reason="not reachable")


def test_any_valid_token_reads_decisions_and_nothing_else_is_needed(
    client: TestClient, engine: Engine, tokens: dict[str, str]
) -> None:
    _triaged(engine)
    for role in ("uploader", "viewer", "triager", "admin"):
        response = client.get("/api/v1/projects/shop/decisions",
                              headers={"Authorization": f"Bearer {tokens[role]}"})
        assert response.status_code == 200, (role, response.text)
        body = response.json()
        assert sorted(d["status"] for d in body.values()) == ["accepted", "false_positive"]
    assert client.get("/api/v1/projects/shop/decisions").status_code == 401
    unknown = client.get("/api/v1/projects/nobody/decisions",
                         headers={"Authorization": f"Bearer {tokens['viewer']}"})
    assert unknown.json() == {}


@SQLITE_ONLY
def test_register_source_live_then_cached_when_the_service_is_down(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    _triaged(engine)
    with session_scope(engine) as session:
        token = create_token(session, name="ci", role=Role.UPLOADER)[1]
    cache = DecisionCache(directory=tmp_path / "cache")
    port = free_port()
    with live_server(database_url, port=port) as base_url:
        source = RegisterSource(url=base_url, token=token)
        live = load_decisions([source], project="shop", policy=POLICY, cache=cache)
        with pytest.raises(ConfigError, match="refused the token"):
            RegisterSource(url=base_url, token="rg_wrong").decisions("shop")
    assert [n.status for n in live.notes] == [DecisionsStatus.LIVE]
    assert sorted(d.status for d in live.values()) == [
        TriageStatus.ACCEPTED, TriageStatus.FALSE_POSITIVE]
    assert {d.by for d in live.values()} == {"ciso", "alice"}

    later = datetime.now(UTC) + timedelta(hours=3)
    down = load_decisions([source], project="shop", policy=POLICY, cache=cache, now=later)
    assert dict(down) == dict(live)
    (note,) = down.notes
    assert note.status is DecisionsStatus.CACHED and note.error
    assert "unreachable" in note.describe(later) and "(3 h old)" in note.describe(later)

    other = load_decisions([source], project="other", policy=POLICY, cache=cache)
    assert len(other) == 0 and other.notes[0].status is DecisionsStatus.UNAVAILABLE
    assert "none applied" in other.notes[0].describe()


def test_the_policy_can_keep_the_register_out() -> None:
    off = parse_policy("version: 1\nname: t\ndecisions: {register: false}\n", source="t.yml")
    source = RegisterSource(url="http://127.0.0.1:1", token="t")
    found = load_decisions([source], project="shop", policy=off)
    # not asked: a closed port would have made it UNAVAILABLE
    assert len(found) == 0 and found.notes[0].status is DecisionsStatus.OFF
