"""Helpers of the service tests: auth headers, CSRF fields, logging in, posting verdicts."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from gate.models import Verdict


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF field"
    return found.group(1)


def log_in(client: TestClient, token: str) -> None:
    """Log in through the form, as a person would."""
    page = client.get("/login")
    response = client.post("/login", data={"token": token, "csrf_token": csrf_from(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def post_verdict(client: TestClient, verdict: Verdict, token: str) -> Response:
    """Upload a verdict as CI does (JSON body, bearer token)."""
    headers = {**bearer(token), "Content-Type": "application/json"}
    return client.post("/api/v1/runs", content=verdict.model_dump_json(), headers=headers)
