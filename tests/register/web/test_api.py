"""The JSON API through FastAPI's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from gate.models import Severity
from register.queries import today
from tests.register.factories import T0, code, dependency, example_findings, verdict
from tests.register.web.conftest import SMALL_LIMIT
from tests.register.web.helpers import bearer, post_verdict


def upload_example(client: TestClient, tokens: dict[str, str]) -> None:
    response = post_verdict(client, verdict(example_findings(), run_id="run-1"), tokens["uploader"])
    assert response.status_code == 201, response.text


def test_upload_records_the_run_and_a_repeat_changes_nothing(
    client: TestClient, tokens: dict[str, str]
) -> None:
    first = post_verdict(client, verdict(example_findings(), run_id="run-1"), tokens["uploader"])
    again = post_verdict(client, verdict(example_findings(), run_id="run-1"), tokens["uploader"])

    assert first.status_code == 201
    assert first.json() | {"already_recorded": False} == first.json()
    assert first.json()["opened"] == 5 and first.json()["project"] == "shop"
    assert again.status_code == 200 and again.json()["already_recorded"] is True
    listed = client.get("/api/v1/findings", headers=bearer(tokens["viewer"])).json()
    assert listed["total"] == 5


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/v1/findings", "get"), ("/api/v1/matrix", "get"), ("/api/v1/metrics/mttp", "get"),
     ("/api/v1/projects", "get"), ("/api/v1/tokens", "get"), ("/api/v1/runs", "post")],
)
def test_missing_or_bad_token_is_401_with_a_json_message(
    client: TestClient, path: str, method: str
) -> None:
    missing = client.request(method, path)
    wrong = client.request(method, path, headers=bearer("rg_not-a-real-token"))

    assert missing.status_code == 401 and "missing API token" in missing.json()["detail"]
    assert wrong.status_code == 401 and wrong.json() == {"detail": "invalid or revoked API token"}


@pytest.mark.parametrize(
    ("role", "path", "method", "allowed"),
    [
        ("uploader", "/api/v1/findings", "get", False),
        ("viewer", "/api/v1/findings", "get", True),
        ("viewer", "/api/v1/findings/1/assign", "post", False),
        ("triager", "/api/v1/tokens", "get", False),
        ("admin", "/api/v1/tokens", "get", True),
        ("viewer", "/api/v1/runs", "post", False),
        ("triager", "/api/v1/runs", "post", False),
    ],
)
def test_roles_are_enforced_with_403(
    client: TestClient, tokens: dict[str, str], role: str, path: str, method: str, allowed: bool
) -> None:
    response = client.request(method, path, headers=bearer(tokens[role]), json={"owner": "x"})

    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert f"role '{role}' may not do this" in response.json()["detail"]


def test_revoked_token_stops_working(client: TestClient, tokens: dict[str, str]) -> None:
    listed = client.get("/api/v1/tokens", headers=bearer(tokens["admin"])).json()
    viewer_id = next(t["id"] for t in listed if t["role"] == "viewer")

    revoked = client.delete(f"/api/v1/tokens/{viewer_id}", headers=bearer(tokens["admin"]))

    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/findings", headers=bearer(tokens["viewer"])).status_code == 401


def test_admin_creates_a_token_shown_once(client: TestClient, tokens: dict[str, str]) -> None:
    created = client.post("/api/v1/tokens", headers=bearer(tokens["admin"]),
                          json={"name": "ci", "role": "uploader"})

    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("rg_")
    listing = client.get("/api/v1/tokens", headers=bearer(tokens["admin"])).text
    assert secret not in listing
    runs = client.get("/api/v1/runs", headers=bearer(secret))
    assert runs.status_code == 403


def test_body_over_the_limit_is_413_json(client: TestClient, tokens: dict[str, str]) -> None:
    body = b'{"decision": "pass", "reasons": ["' + b"x" * (SMALL_LIMIT + 10) + b'"]}'
    headers = {**bearer(tokens["uploader"]), "Content-Type": "application/json"}

    declared = client.post("/api/v1/runs", content=body, headers=headers)
    streamed = client.post("/api/v1/runs", content=iter([body[:1000], body[1000:]]),
                           headers=headers)

    assert declared.status_code == 413
    assert "exceeds the limit of 65536 bytes" in declared.json()["detail"]
    assert streamed.status_code == 413
    assert "exceeds the limit" in streamed.json()["detail"]


def test_invalid_verdict_is_422_with_one_clear_message(
    client: TestClient, tokens: dict[str, str]
) -> None:
    headers = {**bearer(tokens["uploader"]), "Content-Type": "application/json"}

    wrong_decision = client.post("/api/v1/runs", content=b'{"decision": "maybe"}', headers=headers)
    not_json = client.post("/api/v1/runs", content=b"{nope", headers=headers)
    no_project = post_verdict(client, verdict([], run_id="r0").model_copy(update={"project": None}),
                              tokens["uploader"])

    assert wrong_decision.status_code == 422
    detail = wrong_decision.json()["detail"]
    assert isinstance(detail, str) and detail.startswith("invalid request: decision:")
    assert not_json.status_code == 422 and "JSON" in not_json.json()["detail"]
    assert no_project.status_code == 422
    assert "names no project" in no_project.json()["detail"]


def test_findings_filter_sort_and_paginate(client: TestClient, tokens: dict[str, str]) -> None:
    upload_example(client, tokens)
    headers = bearer(tokens["viewer"])

    critical = client.get("/api/v1/findings?severity=critical", headers=headers).json()
    page1 = client.get("/api/v1/findings?limit=2&offset=0", headers=headers).json()
    page3 = client.get("/api/v1/findings?limit=2&offset=4", headers=headers).json()
    other = client.get("/api/v1/findings?project=nope", headers=headers).json()
    bad = client.get("/api/v1/findings?limit=0", headers=headers)

    assert [f["title"] for f in critical["items"]] == ["pyyaml: CVE-2020-14343"]
    assert page1["total"] == 5 and len(page1["items"]) == 2 and len(page3["items"]) == 1
    scores = [f["score"] for f in page1["items"]]
    assert scores == sorted(scores, reverse=True) and scores[0] == 25
    assert other == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert bad.status_code == 422 and "limit" in bad.json()["detail"]


def test_finding_detail_has_reasons_and_the_event_log(
    client: TestClient, tokens: dict[str, str]
) -> None:
    upload_example(client, tokens)
    top = client.get("/api/v1/findings?limit=1", headers=bearer(tokens["viewer"])).json()
    entry_id = top["items"][0]["id"]

    detail = client.get(f"/api/v1/findings/{entry_id}", headers=bearer(tokens["viewer"])).json()
    missing = client.get("/api/v1/findings/999999", headers=bearer(tokens["viewer"]))

    assert detail["likelihood"] == "Almost certain"
    assert "KEV" in detail["finding"]["probability_reason"]
    assert [e["kind"] for e in detail["events"]] == ["opened"]
    assert missing.status_code == 404 and missing.json() == {"detail": "no finding with id 999999"}


def test_triage_actions_land_in_the_event_log(client: TestClient, tokens: dict[str, str]) -> None:
    upload_example(client, tokens)
    headers = bearer(tokens["triager"])
    ids = [f["id"] for f in client.get("/api/v1/findings", headers=headers).json()["items"]]
    until = (today() + timedelta(days=30)).isoformat()

    assigned = client.post(f"/api/v1/findings/{ids[0]}/assign", headers=headers,
                           json={"owner": "payments", "reason": "their service"})
    accepted = client.post(f"/api/v1/findings/{ids[1]}/accept", headers=headers,
                           json={"reason": "behind the WAF", "expires_on": until,
                                 "approver": "ciso"})
    false_pos = client.post(f"/api/v1/findings/{ids[2]}/false-positive", headers=headers,
                            json={"reason": "test code only"})
    reopened = client.post(f"/api/v1/findings/{ids[2]}/reopen", headers=headers,
                           json={"reason": "it ships after all"})

    assert assigned.json()["owner"] == "payments"
    assert accepted.json()["status"] == "accepted" and accepted.json()["accepted_until"] == until
    assert false_pos.json()["status"] == "false_positive"
    assert reopened.json()["status"] == "open"
    events = client.get(f"/api/v1/findings/{ids[2]}", headers=headers).json()["events"]
    assert [(e["kind"], e["actor"]) for e in events][1:] == [
        ("false_positive", "triager-bot"), ("reopened", "triager-bot")]
    log = client.get(f"/api/v1/findings/{ids[1]}", headers=headers).json()["events"]
    assert log[-1]["reason"] == "behind the WAF"


def test_refused_triage_is_a_clear_409(client: TestClient, tokens: dict[str, str]) -> None:
    upload_example(client, tokens)
    headers = bearer(tokens["triager"])
    entry_id = client.get("/api/v1/findings?limit=1", headers=headers).json()["items"][0]["id"]
    too_far = (today() + timedelta(days=400)).isoformat()

    response = client.post(f"/api/v1/findings/{entry_id}/accept", headers=headers,
                           json={"reason": "later", "expires_on": too_far, "approver": "ciso"})
    unknown = client.post("/api/v1/findings/424242/assign", headers=headers, json={"owner": "x"})

    assert response.status_code == 409
    assert "beyond the policy maximum of 90 days" in response.json()["detail"]
    assert unknown.status_code == 404 and "no register entry with id 424242" in unknown.text


def test_matrix_counts_active_entries_by_likelihood_and_impact(
    client: TestClient, tokens: dict[str, str]
) -> None:
    upload_example(client, tokens)

    matrix = client.get("/api/v1/matrix", headers=bearer(tokens["viewer"])).json()
    scoped = client.get("/api/v1/matrix?project=other", headers=bearer(tokens["viewer"])).json()

    assert matrix["total"] == 5 and matrix["likelihood"][4] == "Almost certain"
    assert matrix["counts"][4][4] == 1  # pyyaml: KEV (5) × CVSS 9.8 (5)
    assert scoped["total"] == 0


def test_mttp_reports_fixes_by_severity_and_month(
    client: TestClient, tokens: dict[str, str]
) -> None:
    high = dependency("flask", "CVE-2023-30861", severity=Severity.HIGH)
    medium = code("rule.x", "a.py", "x()", severity=Severity.MEDIUM)
    runs = [verdict([high, medium], run_id="a", at=T0),
            verdict([medium], run_id="b", at=T0 + timedelta(days=4)),
            verdict([], run_id="c", at=T0 + timedelta(days=10))]
    for run in runs:
        assert post_verdict(client, run, tokens["admin"]).status_code == 201

    report = client.get("/api/v1/metrics/mttp", headers=bearer(tokens["viewer"])).json()

    by_severity = {row["group"]: row for row in report["by_severity"]}
    assert by_severity["high"]["mean_days"] == 4.0
    assert by_severity["medium"]["median_days"] == 10.0
    assert report["by_month"] == [
        {"group": "2026-01", "fixed": 2, "mean_days": 7.0, "median_days": 7.0}]
    assert report["sla_overall"] == {"group": "all", "fixed": 2, "within_sla": 2, "percent": 100.0}


def test_projects_summarise_open_and_overdue(client: TestClient, tokens: dict[str, str]) -> None:
    upload_example(client, tokens)

    projects = client.get("/api/v1/projects", headers=bearer(tokens["viewer"])).json()
    one = client.get("/api/v1/projects/shop", headers=bearer(tokens["viewer"]))
    missing = client.get("/api/v1/projects/nope", headers=bearer(tokens["viewer"]))

    assert [(p["name"], p["open"]) for p in projects] == [("shop", 5)]
    assert projects[0]["overdue"] == 5  # recorded in January 2026, every deadline has passed
    assert one.json() == projects[0]
    assert missing.status_code == 404


def test_openapi_document_lists_the_api(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    paths = set(document["paths"])
    assert {"/api/v1/runs", "/api/v1/findings", "/api/v1/findings/{entry_id}",
            "/api/v1/metrics/mttp", "/api/v1/matrix", "/api/v1/projects"} <= paths
    assert "/login" not in paths


def test_nul_characters_are_refused_not_stored(client: TestClient, tokens: dict[str, str]) -> None:
    hostile = code("rule.nul", "a.py", "x()", title="bad\x00title")

    upload = post_verdict(client, verdict([hostile], run_id="nul"), tokens["uploader"])
    query = client.get("/api/v1/findings?owner=a%00b", headers=bearer(tokens["viewer"]))

    assert upload.status_code == 422
    assert upload.json()["detail"].startswith("invalid verdict: findings.0.finding.title contains")
    assert query.status_code == 422 and "NUL" in query.json()["detail"]
