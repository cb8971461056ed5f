"""Cached pages: never stale after a write the register makes, never another person's holes."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from register.config import Settings
from register.db import session_scope
from register.models import Role
from register.web.app import create_app
from register.web.tokens import create_token
from tests.register.factories import code, example_findings, verdict
from tests.register.web.helpers import bearer, csrf_from, log_in, post_verdict

CACHED_PAGES = ("/", "/triage", "/mttp", "/trends", "/report")


def test_recording_and_triage_show_at_once_on_cached_pages(
    client: TestClient, tokens: dict[str, str]
) -> None:
    log_in(client, tokens["triager"])
    first = verdict(example_findings(), run_id="one")
    assert post_verdict(client, first, tokens["uploader"]).status_code == 201
    before = {path: client.get(path).text for path in CACHED_PAGES}
    assert all(client.get(path).text == before[path] for path in CACHED_PAGES)  # served again

    extra = code("rule.cache", "src/new_module.py", "eval(x)", title="Newly recorded finding")
    second = verdict([*example_findings(), extra], run_id="two")
    assert post_verdict(client, second, tokens["uploader"]).status_code == 201
    assert "Newly recorded finding" in client.get("/triage").text

    items = client.get("/api/v1/findings", headers=bearer(tokens["viewer"])).json()["items"]
    entry = next(item for item in items if item["title"] == "Newly recorded finding")
    page = client.get("/triage").text
    response = client.post(f"/findings/{entry['id']}/assign", data={
        "owner": "cache-team", "reason": "ours", "next": "/triage",
        "csrf_token": csrf_from(page)})
    assert response.status_code == 200
    assert "cache-team" in client.get("/triage").text


def test_each_reader_gets_their_own_name_and_csrf_token(
    app: FastAPI, engine: Engine, tokens: dict[str, str]
) -> None:
    with session_scope(engine) as session:
        hostile = create_token(session, name='<b>eve"</b>', role=Role.TRIAGER)[1]
    with TestClient(app) as alice, TestClient(app) as eve:
        log_in(alice, tokens["triager"])
        log_in(eve, hostile)
        alice_page, eve_page = alice.get("/triage").text, eve.get("/triage").text

        assert "triager-bot" in alice_page and "triager-bot" not in eve_page
        assert "&lt;b&gt;eve" in eve_page
        assert '<b>eve"</b>' not in eve_page
        assert csrf_from(alice_page) != csrf_from(eve_page)
        assert "riskgate-name-" not in alice_page + eve_page
        assert "riskgate-csrf-" not in alice_page + eve_page
        # The token in a served page is that reader's own: it works for their forms.
        response = eve.post("/logout", data={"csrf_token": csrf_from(eve_page)},
                            follow_redirects=False)
        assert response.status_code == 303


def test_roles_do_not_share_pages(client: TestClient, app: FastAPI, tokens: dict[str, str]) -> None:
    run = verdict(example_findings(), run_id="roles")
    assert post_verdict(client, run, tokens["uploader"]).status_code == 201
    with TestClient(app) as triager, TestClient(app) as viewer:
        log_in(triager, tokens["triager"])
        log_in(viewer, tokens["viewer"])
        assert 'action="/triage/bulk"' in triager.get("/triage").text
        assert 'action="/triage/bulk"' not in viewer.get("/triage").text


def test_a_write_behind_the_registers_back_shows_once_caching_is_off(
    engine: Engine, database_url: str, tokens: dict[str, str]
) -> None:
    settings = Settings(database_url=database_url, secret_key="k" * 40, max_run_age_days=3650,
                        page_cache_seconds=0)
    with TestClient(create_app(settings)) as client:
        log_in(client, tokens["triager"])
        run = verdict(example_findings(), run_id="raw")
        assert post_verdict(client, run, tokens["uploader"]).status_code == 201
        assert "Renamed behind its back" not in client.get("/triage").text
        with engine.begin() as connection:  # no event, no run: invisible to the data stamp
            connection.execute(sa.text(
                "UPDATE risk_entry SET title = 'Renamed behind its back'"
                " WHERE id = (SELECT min(id) FROM risk_entry)"))
        assert "Renamed behind its back" in client.get("/triage").text
