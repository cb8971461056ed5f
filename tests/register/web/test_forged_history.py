"""Forged history through an upload token: run times are checked and capped at receipt."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from register.config import Settings
from register.models import utc_now
from register.web.app import create_app
from tests.register.factories import example_findings, verdict
from tests.register.web.helpers import bearer, post_verdict

SKEW = 300


@pytest.fixture()
def strict_client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    """The service with the default run-time window (5 minutes of skew, one year of age)."""
    settings = Settings(database_url=database_url, secret_key="k" * 40,
                        max_clock_skew_seconds=SKEW, max_run_age_days=365)
    with TestClient(create_app(settings)) as client:
        yield client


def statuses(client: TestClient, viewer: str) -> list[str]:
    found = client.get("/api/v1/findings?status=all&limit=500", headers=bearer(viewer)).json()
    return sorted(item["status"] for item in found["items"])


def test_an_empty_full_run_dated_2099_is_refused_and_fixes_nothing(
    strict_client: TestClient, tokens: dict[str, str]
) -> None:
    uploader, viewer = tokens["uploader"], tokens["viewer"]
    genuine = verdict(example_findings(), run_id="genuine", at=utc_now() - timedelta(hours=1))
    forged = verdict([], run_id="forged", at=datetime(2099, 1, 1, tzinfo=UTC))
    assert post_verdict(strict_client, genuine, uploader).status_code == 201

    refused = post_verdict(strict_client, forged, uploader)

    assert refused.status_code == 422
    assert refused.json()["detail"].startswith(
        "started_at 2099-01-01T00:00:00+00:00 is in the future"
    )
    assert statuses(strict_client, viewer) == ["open"] * 5
    runs = strict_client.get("/api/v1/runs", headers=bearer(viewer)).json()
    assert [run["run_id"] for run in runs] == ["genuine"]


def test_a_run_dated_within_the_skew_cannot_outlive_the_next_genuine_run(
    strict_client: TestClient, tokens: dict[str, str]
) -> None:
    uploader, viewer = tokens["uploader"], tokens["viewer"]
    now = utc_now()
    genuine = verdict(example_findings(), run_id="genuine", at=now - timedelta(hours=1))
    forged = verdict([], run_id="forged", at=now + timedelta(seconds=SKEW - 20))
    assert post_verdict(strict_client, genuine, uploader).status_code == 201

    fixed = post_verdict(strict_client, forged, uploader)
    received = utc_now()
    # The next genuine run starts after the forged upload was received, yet before its claim.
    later = verdict(example_findings(), run_id="later", at=received + timedelta(seconds=1))
    reopened = post_verdict(strict_client, later, uploader)

    assert fixed.status_code == 201 and fixed.json()["fixed"] == 5
    assert reopened.status_code == 201, reopened.text
    assert reopened.json()["reopened"] == 5
    assert statuses(strict_client, viewer) == ["open"] * 5
    runs = strict_client.get("/api/v1/runs", headers=bearer(viewer)).json()
    forged_row = next(run for run in runs if run["run_id"] == "forged")
    assert datetime.fromisoformat(forged_row["started_at"]) <= received


def test_a_run_dated_9999_is_refused_not_a_server_error(
    strict_client: TestClient, tokens: dict[str, str]
) -> None:
    # The gate's own model refuses such a time, so the body is edited as an attacker would.
    start = utc_now() - timedelta(minutes=10)
    body = verdict(example_findings(), run_id="y9999", at=start).model_dump_json()
    forged = body.replace(start.isoformat().replace("+00:00", "Z"), "9999-12-30T00:00:00Z")
    forged = forged.replace(start.isoformat(), "9999-12-30T00:00:00+00:00")
    assert "9999-12-30" in forged
    headers = {**bearer(tokens["uploader"]), "Content-Type": "application/json"}
    response = strict_client.post("/api/v1/runs", content=forged, headers=headers)
    assert response.status_code == 422
    assert "9999" in response.json()["detail"]
    assert strict_client.get("/api/v1/runs", headers=bearer(tokens["viewer"])).json() == []


@pytest.mark.parametrize(
    ("at", "finished", "message"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), None,
         "started_at 1970-01-01T00:00:00+00:00 is older than 365 days"),
        (None, datetime(1999, 1, 1, tzinfo=UTC),
         "finished_at 1999-01-01T00:00:00+00:00 is older than"),
        (None, -1, "finished_at is before started_at"),
    ],
)
def test_absurd_run_times_are_refused_with_the_field_named(
    strict_client: TestClient, tokens: dict[str, str],
    at: datetime | None, finished: datetime | int | None, message: str,
) -> None:
    start = at or utc_now() - timedelta(minutes=10)
    run = verdict(example_findings(), run_id="absurd", at=start)
    if finished == -1:
        run = run.model_copy(update={"finished_at": start - timedelta(minutes=1)})
    elif isinstance(finished, datetime):
        run = run.model_copy(update={"finished_at": finished})

    response = post_verdict(strict_client, run, tokens["uploader"])

    assert response.status_code == 422
    assert response.json()["detail"].startswith(message)
    assert strict_client.get("/api/v1/runs", headers=bearer(tokens["viewer"])).json() == []
