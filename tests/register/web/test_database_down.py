"""PostgreSQL goes down under a running service: 503 with one clear line, never a 500.

The service is pointed at a relay in front of the test server (`outage.DatabaseRelay`); cutting
the relay drops every connection and refuses new ones, as a stopped server does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from register.config import Settings
from register.models import utc_now
from register.web.app import create_app
from tests.register.factories import example_findings, verdict
from tests.register.web.helpers import bearer, log_in, post_verdict
from tests.register.web.outage import DatabaseRelay, relay

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture()
def outage(engine: Engine, database_url: str) -> Iterator[DatabaseRelay]:
    """A relay to the migrated test database."""
    with relay(database_url) as opened:
        yield opened


@pytest.fixture()
def relayed(outage: DatabaseRelay) -> Iterator[TestClient]:
    """The service reaching its database through the relay."""
    settings = Settings(database_url=outage.relayed_url, secret_key="k" * 40)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_database_down_is_503_with_one_line_and_healthz_says_so(
    relayed: TestClient, outage: DatabaseRelay, tokens: dict[str, str]
) -> None:
    assert relayed.get("/healthz").json() == {"status": "ok", "database": "ok"}
    assert relayed.get("/api/v1/projects", headers=bearer(tokens["viewer"])).status_code == 200
    log_in(relayed, tokens["viewer"])

    outage.cut()

    for path in ("/api/v1/projects", "/api/v1/findings", "/api/v1/runs"):
        down = relayed.get(path, headers=bearer(tokens["viewer"]))
        assert down.status_code == 503, (path, down.text)
        assert down.json() == {"detail": "the register's database is unavailable; "
                                         "try again shortly"}
        assert down.headers["Retry-After"].isdigit()
    upload = post_verdict(
        relayed, verdict(example_findings(), run_id="down", at=utc_now()), tokens["uploader"]
    )
    assert upload.status_code == 503, upload.text
    health = relayed.get("/healthz")
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable", "database": "unavailable"}
    page = relayed.get("/login")
    assert page.status_code == 200  # the login form needs no database
    overview = relayed.get("/", follow_redirects=False)
    assert overview.status_code == 503 and "database is unavailable" in overview.text
    assert "Traceback" not in overview.text and "5432" not in overview.text

    outage.restore()

    assert relayed.get("/healthz").json() == {"status": "ok", "database": "ok"}
    again = relayed.get("/api/v1/projects", headers=bearer(tokens["viewer"]))
    assert again.status_code == 200, again.text
