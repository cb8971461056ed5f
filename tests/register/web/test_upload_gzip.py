"""Uploads compressed with gzip: recorded like plain ones, bounded once decoded, refused cleanly."""

from __future__ import annotations

import gzip
import json

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

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


def test_a_verdict_the_fast_split_misreads_is_recorded_as_read_exactly(
    client: TestClient, tokens: dict[str, str], engine: Engine
) -> None:
    """A second `findings` key after the branch (valid JSON: the last key wins): the fast read
    steps over the branch and its batch fails, so the run is recorded from the exact read."""
    run = verdict(example_findings(), run_id="twice", branch=None).model_dump(mode="json")
    decoy = verdict([code("rule.d", "src/d.py", "d()")], run_id="decoy").model_dump(mode="json")
    fields = [f'"{key}":{compact(value)}' for key, value in run.items()
              if key not in ("findings", "branch")]
    fields[2:2] = [f'"findings":{compact(decoy["findings"])}', '"branch":"release"',
                   f'"findings":{compact(run["findings"])}']
    body = gzip.compress(("{" + ",".join(fields) + "}").encode())

    response = client.post("/api/v1/runs", content=body, headers=headers(tokens["uploader"]))

    assert response.status_code == 201, response.text
    assert response.json()["opened"] == len(run["findings"])
    with engine.connect() as connection:
        entries = connection.execute(sa.text("SELECT branch, count(*) FROM risk_entry"
                                             " GROUP BY branch")).all()
        runs = connection.execute(sa.text("SELECT run_id, branch FROM scan_run")).all()
    assert [tuple(row) for row in entries] == [("release", len(run["findings"]))]
    assert [tuple(row) for row in runs] == [("twice", "release")]


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
