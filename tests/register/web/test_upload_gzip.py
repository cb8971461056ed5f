"""Uploads compressed with gzip: recorded like plain ones, bounded once decoded, refused cleanly."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient

from tests.register.factories import code, example_findings, verdict
from tests.register.web.conftest import SMALL_LIMIT
from tests.register.web.helpers import bearer


def headers(token: str, encoding: str = "gzip") -> dict[str, str]:
    return {**bearer(token), "Content-Type": "application/json", "Content-Encoding": encoding}


def test_a_gzip_upload_is_recorded_like_a_plain_one(
    client: TestClient, tokens: dict[str, str]
) -> None:
    run = verdict(example_findings(), run_id="gz-1")
    body = gzip.compress(run.model_dump_json().encode())

    first = client.post("/api/v1/runs", content=body, headers=headers(tokens["uploader"]))
    again = client.post("/api/v1/runs", content=body, headers=headers(tokens["uploader"]))
    listed = client.get("/api/v1/runs", headers=bearer(tokens["viewer"])).json()

    assert first.status_code == 201, first.text
    assert first.json()["opened"] == len(run.findings)
    assert again.status_code == 200
    assert [r["run_id"] for r in listed] == ["gz-1"]
    assert listed[0]["finding_count"] == len(run.findings)


def test_the_limit_bounds_the_decoded_size(client: TestClient, tokens: dict[str, str]) -> None:
    many = [code(f"rule.{n}", f"src/f{n}.py", "x" * 50) for n in range(400)]
    plain = verdict(many, run_id="big").model_dump_json().encode()
    body = gzip.compress(plain)
    assert len(body) < SMALL_LIMIT < len(plain)  # small on the wire, too large decoded

    response = client.post("/api/v1/runs", content=body, headers=headers(tokens["uploader"]))

    assert response.status_code == 413
    assert "exceeds the limit" in response.json()["detail"]


def test_bad_encodings_are_refused_with_one_line(
    client: TestClient, tokens: dict[str, str]
) -> None:
    token = tokens["uploader"]
    body = gzip.compress(verdict(example_findings(), run_id="bad").model_dump_json().encode())

    brotli = client.post("/api/v1/runs", content=body, headers=headers(token, "br"))
    corrupt = client.post("/api/v1/runs", content=b"\x1f\x8b" + b"junk" * 10,
                          headers=headers(token))
    truncated = client.post("/api/v1/runs", content=body[: len(body) // 2],
                            headers=headers(token))
    runs = client.get("/api/v1/runs", headers=bearer(tokens["viewer"])).json()

    assert brotli.status_code == 415 and "Content-Encoding" in brotli.json()["detail"]
    assert corrupt.status_code == 400 and "gzip" in corrupt.json()["detail"]
    assert truncated.status_code == 400 and "truncated" in truncated.json()["detail"]
    assert runs == []
