"""schemathesis against the OpenAPI document: generated requests never get a 5xx.

Runs through the ASGI app on both databases, authenticated as admin (who may do everything,
so generated requests reach the handlers instead of stopping at 403). Each operation gets a
bounded number of examples.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from tests.register.web.helpers import bearer

EXAMPLES_PER_OPERATION = 25


def check_operation(operation: schemathesis.APIOperation, token: str) -> None:
    """Send generated requests for one operation; none may fail with a 5xx."""

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def one(case: schemathesis.Case) -> None:
        response = case.call(headers=bearer(token))
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
        )
        if response.status_code >= 400:
            assert isinstance(response.json()["detail"], str)

    one()


def test_no_server_errors(app: FastAPI, tokens: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]

    assert len(operations) >= 12
    for operation in operations:
        check_operation(operation, tokens["admin"])
