"""The pages for people: login, escaping, the overview's matrix, triage forms with CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from register.queries import today
from tests.register.factories import code, example_findings, verdict
from tests.register.web.helpers import bearer, csrf_from, log_in, post_verdict

XSS = "<script>alert(1)</script>"


@pytest.fixture()
def seeded(client: TestClient, tokens: dict[str, str]) -> TestClient:
    """The example run plus a finding whose title and path are hostile HTML."""
    hostile = code("rule.xss", '"><img src=x onerror=alert(2)>.py', "render(x)", title=XSS,
                   message=XSS)
    run = verdict([*example_findings(), hostile], run_id="seed")
    assert post_verdict(client, run, tokens["uploader"]).status_code == 201
    return client


def entry_id_titled(client: TestClient, token: str, title: str) -> int:
    items = client.get("/api/v1/findings", headers=bearer(token)).json()["items"]
    return next(item["id"] for item in items if item["title"] == title)


def test_pages_redirect_to_login_when_signed_out(client: TestClient) -> None:
    for path in ("/", "/mttp", "/triage", "/findings/1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


def test_login_sets_a_signed_httponly_samesite_cookie_and_logout_clears_it(
    client: TestClient, tokens: dict[str, str]
) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"token": tokens["viewer"], "next": "/mttp",
                                           "csrf_token": csrf_from(page.text)},
                           follow_redirects=False)

    cookie = response.headers["set-cookie"]
    assert response.status_code == 303 and response.headers["location"] == "/mttp"
    assert "riskgate_session=" in cookie and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert tokens["viewer"] not in cookie
    assert client.get("/", follow_redirects=False).status_code == 200

    overview = client.get("/")
    logout = client.post("/logout", data={"csrf_token": csrf_from(overview.text)},
                         follow_redirects=False)
    assert logout.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_refuses_bad_and_uploader_tokens_and_foreign_redirects(
    client: TestClient, tokens: dict[str, str]
) -> None:
    csrf = csrf_from(client.get("/login").text)

    bad = client.post("/login", data={"token": "rg_wrong", "csrf_token": csrf})
    uploader = client.post("/login", data={"token": tokens["uploader"], "csrf_token": csrf})
    offsite = client.post("/login", data={"token": tokens["viewer"], "csrf_token": csrf,
                                          "next": "//evil.example/"}, follow_redirects=False)

    assert bad.status_code == 401 and "unknown or revoked" in bad.text
    assert uploader.status_code == 401 and "Uploader tokens can only post runs" in uploader.text
    assert offsite.headers["location"] == "/"


def test_forged_cookie_is_not_a_session(client: TestClient) -> None:
    client.cookies.set("riskgate_session", "eyJ0b2tlbl9pZCI6IDF9.forged.signature")

    assert client.get("/", follow_redirects=False).status_code == 303


def test_post_forms_without_the_csrf_token_are_refused(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    log_in(seeded, tokens["triager"])
    entry_id = entry_id_titled(seeded, tokens["viewer"], XSS)

    missing = seeded.post(f"/findings/{entry_id}/assign", data={"owner": "mallory"})
    forged = seeded.post(f"/findings/{entry_id}/assign",
                         data={"owner": "mallory", "csrf_token": "guess"})
    login_forged = seeded.post("/login", data={"token": tokens["admin"]})

    assert missing.status_code == 403 and "CSRF" in missing.text
    assert forged.status_code == 403 and login_forged.status_code == 403
    detail = seeded.get(f"/api/v1/findings/{entry_id}", headers=bearer(tokens["viewer"])).json()
    assert detail["finding"]["owner"] != "mallory"


@pytest.mark.parametrize("page", ["/", "/triage", "/findings/{id}"])
def test_scanner_text_is_escaped_on_every_page(
    seeded: TestClient, tokens: dict[str, str], page: str
) -> None:
    log_in(seeded, tokens["viewer"])
    entry_id = entry_id_titled(seeded, tokens["viewer"], XSS)

    response = seeded.get(page.format(id=entry_id))

    assert response.status_code == 200
    assert XSS not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_overview_heat_map_shows_the_database_counts(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    log_in(seeded, tokens["viewer"])
    matrix = seeded.get("/api/v1/matrix", headers=bearer(tokens["viewer"])).json()["counts"]

    html = seeded.get("/").text

    cells = re.findall(
        r'data-likelihood="(\d)" data-impact="(\d)"[^>]*>\s*<a [^>]*>(\d+)</a>', html
    )
    assert len(cells) == 25
    assert {(int(p), int(i)): int(n) for p, i, n in cells} == {
        (p, i): matrix[p - 1][i - 1] for p in range(1, 6) for i in range(1, 6)
    }
    assert 'id="open-count">6<' in html
    assert "Severe" in html and "Almost certain" in html
    assert "shop: known-exploited critical-severity flaw in a dependency in pyyaml 1.0" in html


def test_matrix_cell_links_filter_the_triage_queue(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    log_in(seeded, tokens["viewer"])

    html = seeded.get("/triage?likelihood=5&impact=5&status=all").text

    assert 'id="result-count">1 finding<' in html
    assert "pyyaml: CVE-2020-14343" in html and "requests: CVE-2023-32681" not in html


def test_viewer_sees_no_triage_forms_and_cannot_post_them(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    log_in(seeded, tokens["viewer"])
    page = seeded.get("/triage")
    entry_id = entry_id_titled(seeded, tokens["viewer"], XSS)

    response = seeded.post(f"/findings/{entry_id}/assign",
                           data={"owner": "x", "csrf_token": csrf_from(page.text)})

    assert "/assign" not in page.text
    assert response.status_code == 403 and "needs &#39;triager&#39;" in response.text


def test_triage_forms_change_the_entry_and_log_events(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    log_in(seeded, tokens["triager"])
    entry_id = entry_id_titled(seeded, tokens["viewer"], XSS)
    csrf = csrf_from(seeded.get("/triage").text)
    until = (today() + timedelta(days=14)).isoformat()

    assigned = seeded.post(f"/findings/{entry_id}/assign", follow_redirects=False,
                           data={"owner": "web-team", "csrf_token": csrf, "next": "/triage"})
    accepted = seeded.post(f"/findings/{entry_id}/accept",
                           data={"reason": "sanitised downstream", "until": until,
                                 "approver": "ciso", "csrf_token": csrf,
                                 "next": f"/findings/{entry_id}"})

    assert assigned.status_code == 303 and assigned.headers["location"] == "/triage"
    assert accepted.status_code == 200
    assert f"Finding {entry_id} accepted until {until}, approved by ciso." in accepted.text
    assert "accepted until" in accepted.text and "sanitised downstream" in accepted.text
    events = seeded.get(f"/api/v1/findings/{entry_id}", headers=bearer(tokens["viewer"])).json()
    assert [(e["kind"], e["actor"]) for e in events["events"]] == [
        ("opened", "uploader-bot"), ("assigned", "triager-bot"), ("accepted", "triager-bot")]


def test_refused_triage_shows_the_reason_on_the_page(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    log_in(seeded, tokens["triager"])
    entry_id = entry_id_titled(seeded, tokens["viewer"], XSS)
    csrf = csrf_from(seeded.get("/triage").text)

    response = seeded.post(f"/findings/{entry_id}/accept",
                           data={"reason": "no date", "approver": "ciso", "csrf_token": csrf})

    assert response.status_code == 200
    assert "an acceptance needs an expiry date" in response.text


def test_mttp_page_has_a_chart_and_numbers(seeded: TestClient, tokens: dict[str, str]) -> None:
    at = verdict([], run_id="x").started_at + timedelta(days=3)
    later = verdict([], run_id="fixed-all").model_copy(update={"started_at": at, "finished_at": at})
    post_verdict(seeded, later, tokens["uploader"])
    log_in(seeded, tokens["viewer"])

    html = seeded.get("/mttp").text

    assert "<svg" in html and "Time to patch, month over month" in html
    assert re.search(r"<td>2026-01</td><td class=\"num\">6</td><td class=\"num\">3.0</td>", html)
    severity_chart = html.split('id="mttp-severity-chart"', 1)[1].split("</svg>", 1)[0]
    assert "Mean time to patch by severity, month over month" in severity_chart
    severities = r"<text[^>]*>(critical|high|unknown|medium|low|info)</text>"
    legend = re.findall(severities, severity_chart)
    assert legend and legend == sorted(set(legend), key=legend.index), "one line per severity"


def test_secure_cookies_setting_marks_the_session_cookie_secure(
    engine: object, database_url: str, tokens: dict[str, str]
) -> None:
    from register.config import Settings
    from register.web.app import create_app

    settings = Settings(database_url=database_url, secret_key="k" * 40, secure_cookies=True)
    with TestClient(create_app(settings), base_url="https://testserver") as secure:
        page = secure.get("/login")
        response = secure.post("/login", data={"token": tokens["viewer"],
                                               "csrf_token": csrf_from(page.text)},
                               follow_redirects=False)
    assert "secure" in response.headers["set-cookie"].lower()
