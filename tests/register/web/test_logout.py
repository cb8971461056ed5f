"""Logging out ends the session on the server: a copy of the cookie taken before is worthless."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from register.web.app import SESSION_COOKIE
from tests.register.web.helpers import bearer, csrf_from, log_in


def test_a_cookie_copied_before_logout_no_longer_signs_in(
    app: FastAPI, client: TestClient, tokens: dict[str, str]
) -> None:
    log_in(client, tokens["triager"])
    copied = client.cookies[SESSION_COOKIE]
    csrf = csrf_from(client.get("/triage").text)

    assert client.post("/logout", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303

    with TestClient(app, cookies={SESSION_COOKIE: copied}) as thief:
        page = thief.get("/", follow_redirects=False)
        form = thief.post("/findings/1/reopen", data={"csrf_token": csrf, "reason": "x"},
                          follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
    assert form.status_code == 303 and form.headers["location"].startswith("/login")


def test_other_sessions_live_on_and_revoking_the_token_ends_them(
    app: FastAPI, client: TestClient, tokens: dict[str, str]
) -> None:
    with TestClient(app) as laptop, TestClient(app) as phone:
        log_in(laptop, tokens["viewer"])
        log_in(phone, tokens["viewer"])
        laptop.post("/logout", data={"csrf_token": csrf_from(laptop.get("/").text)})

        assert phone.get("/", follow_redirects=False).status_code == 200
        viewer_id = next(t["id"] for t in client.get(
            "/api/v1/tokens", headers=bearer(tokens["admin"])).json() if t["name"] == "viewer-bot")
        client.delete(f"/api/v1/tokens/{viewer_id}", headers=bearer(tokens["admin"]))
        assert phone.get("/", follow_redirects=False).status_code == 303
