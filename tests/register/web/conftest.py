"""Fixtures of the service tests: an app over each database, a token per role, a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from register.config import Settings
from register.db import session_scope
from register.models import Role
from register.web.app import create_app
from register.web.tokens import create_token

SMALL_LIMIT = 64 * 1024


@pytest.fixture()
def tokens(engine: Engine) -> dict[str, str]:
    """One token secret per role, stored in the test database."""
    with session_scope(engine) as session:
        return {role.value: create_token(session, name=f"{role.value}-bot", role=role)[1]
                for role in Role}


@pytest.fixture()
def app(engine: Engine, database_url: str) -> FastAPI:
    """The service over the migrated test database, with a small upload limit."""
    # The factories date runs at T0 (January 2026): keep them inside the upload window.
    settings = Settings(database_url=database_url, secret_key="k" * 40,
                        max_upload_bytes=SMALL_LIMIT, max_run_age_days=3650)
    return create_app(settings)


@pytest.fixture()
def client(app: FastAPI) -> Iterator[TestClient]:
    """A test client (cookies kept between requests)."""
    with TestClient(app) as test_client:
        yield test_client
