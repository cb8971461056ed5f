"""The findings API takes every filter the pages use; bulk triage by ids or by filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from register.queries import today
from tests.register.factories import code, dependency, example_findings, verdict
from tests.register.web.helpers import bearer, post_verdict


@pytest.fixture()
def seeded(client: TestClient, tokens: dict[str, str]) -> TestClient:
    """The example run plus several advisories of one package and a code rule in two files."""
    salt = [dependency("salt", f"CVE-2020-{n}", aliases=(f"GHSA-salt-{n}",)) for n in range(5)]
    extra = [code("rule.sqli", "app/db.py", "q(x)"), code("rule.sqli", "app/api.py", "q(y)")]
    run = verdict([*example_findings(), *salt, *extra], run_id="seed")
    assert post_verdict(client, run, tokens["uploader"]).status_code == 201
    return client


def findings(client: TestClient, token: str, query: str) -> dict[str, object]:
    response = client.get(f"/api/v1/findings?{query}", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def titles(body: dict[str, object]) -> set[str]:
    items = body["items"]
    assert isinstance(items, list)
    return {item["title"] for item in items}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("package=SALT", {f"salt: CVE-2020-{n}" for n in range(5)}),
        ("advisory=ghsa-salt-3", {"salt: CVE-2020-3"}),
        ("advisory=CVE-2020-14343", {"pyyaml: CVE-2020-14343"}),
        ("kev=yes", {"pyyaml: CVE-2020-14343"}),
        ("q=APP/DB", {"rule.sqli in app/db.py"}),
        ("rule=rule.sqli", {"rule.sqli in app/db.py", "rule.sqli in app/api.py"}),
        ("scanner=semgrep&kind=code&severity=unknown",
         {"python.lang.security.audit.subprocess-shell-true in app/run.py"}),
        ("q=100%25", set()),  # LIKE wildcards are text
    ],
)
def test_each_filter_selects_what_it_names(
    seeded: TestClient, tokens: dict[str, str], query: str, expected: set[str]
) -> None:
    body = findings(seeded, tokens["viewer"], query)

    assert titles(body) == expected
    assert body["total"] == len(expected)


def test_the_pages_parameters_are_accepted(seeded: TestClient, tokens: dict[str, str]) -> None:
    every = findings(seeded, tokens["viewer"], "status=all")
    cell = findings(seeded, tokens["viewer"], "status=all&likelihood=5&impact=5")
    blank = findings(seeded, tokens["viewer"], "status=&owner=&overdue=&likelihood=")

    assert every["total"] == 12 and blank["total"] == 12
    assert titles(cell) == {"pyyaml: CVE-2020-14343"}


def test_sort_and_order(seeded: TestClient, tokens: dict[str, str]) -> None:
    ascending = findings(seeded, tokens["viewer"], "sort=title&limit=500")
    descending = findings(seeded, tokens["viewer"], "sort=title&order=desc&limit=500")

    names = [item["title"] for item in ascending["items"]]  # type: ignore[union-attr]
    assert names == sorted(names)
    assert [item["title"] for item in descending["items"]] == names[::-1]  # type: ignore[union-attr]


def test_every_matrix_cell_opens_exactly_the_entries_it_counts(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    headers = bearer(tokens["triager"])
    ids = [item["id"] for item in findings(seeded, tokens["viewer"], "")["items"]]  # type: ignore[union-attr]
    seeded.post(f"/api/v1/findings/{ids[0]}/false-positive", headers=headers,
                json={"reason": "test code"})
    counts = seeded.get("/api/v1/matrix", headers=headers).json()["counts"]

    for p in range(1, 6):
        for i in range(1, 6):
            cell = findings(seeded, tokens["viewer"], f"status=active&likelihood={p}&impact={i}")
            assert cell["total"] == counts[p - 1][i - 1] == len(cell["items"]), (p, i)  # type: ignore[arg-type]


def test_bulk_by_filter_accepts_all_matching_with_another_approver(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    headers = bearer(tokens["triager"])
    until = (today() + timedelta(days=30)).isoformat()
    body = {"action": "accept", "filters": {"package": "salt", "status": "open"},
            "reason": "one upgrade closes all", "expires_on": until, "approver": "ciso"}

    response = seeded.post("/api/v1/findings/bulk", headers=headers, json=body)

    assert response.status_code == 200, response.text
    assert len(response.json()["changed"]) == 5 and response.json()["skipped"] == []
    accepted = findings(seeded, tokens["viewer"], "status=accepted")
    assert titles(accepted) == {f"salt: CVE-2020-{n}" for n in range(5)}


def test_bulk_by_ids_skips_what_does_not_apply(seeded: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["triager"])
    ids = [item["id"] for item in findings(seeded, tokens["viewer"], "limit=3")["items"]]  # type: ignore[union-attr]
    seeded.post(f"/api/v1/findings/{ids[0]}/false-positive", headers=headers, json={"reason": "x"})

    reopened = seeded.post("/api/v1/findings/bulk", headers=headers,
                           json={"action": "reopen", "ids": ids, "reason": "review again"})
    assigned = seeded.post("/api/v1/findings/bulk", headers=headers,
                           json={"action": "assign", "ids": ids, "owner": "appsec"})

    assert reopened.json()["changed"] == [ids[0]]
    assert [s["id"] for s in reopened.json()["skipped"]] == ids[1:]
    assert "already open" in reopened.json()["skipped"][0]["reason"]
    assert assigned.json()["changed"] == ids


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"action": "accept", "ids": [1], "reason": "r", "approver": "triager-bot"}, 409,
         "four eyes"),
        ({"action": "assign", "ids": [1]}, 409, "an owner is required"),
        ({"action": "assign", "owner": "x"}, 422, "either ids or filters"),
        ({"action": "assign", "owner": "x", "filters": {"likelihood": 9}}, 422, "likelihood"),
    ],
)
def test_bulk_refusals_are_one_line(
    seeded: TestClient, tokens: dict[str, str], body: dict[str, object], status: int, message: str
) -> None:
    if body.get("action") == "accept":
        body = {**body, "expires_on": (today() + timedelta(days=5)).isoformat()}

    response = seeded.post("/api/v1/findings/bulk", headers=bearer(tokens["triager"]), json=body)

    assert response.status_code == status, response.text
    assert message in str(response.json()["detail"])


def test_single_accept_needs_an_approver_other_than_the_caller(
    seeded: TestClient, tokens: dict[str, str]
) -> None:
    headers, until = bearer(tokens["triager"]), (today() + timedelta(days=5)).isoformat()
    first = findings(seeded, tokens["viewer"], "limit=1")["items"][0]["id"]  # type: ignore[index]
    url = f"/api/v1/findings/{first}/accept"

    missing = seeded.post(url, headers=headers, json={"reason": "r", "expires_on": until})
    own = seeded.post(url, headers=headers,
                      json={"reason": "r", "expires_on": until, "approver": "Triager-Bot"})
    other = seeded.post(url, headers=headers,
                        json={"reason": "r", "expires_on": until, "approver": "ciso"})

    assert missing.status_code == 422
    assert own.status_code == 409 and "four eyes" in own.json()["detail"]
    assert other.status_code == 200 and other.json()["status"] == "accepted"
