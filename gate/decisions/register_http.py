"""Decisions from the register service (`gate scan --register URL --token T`).

`GET /api/v1/projects/{project}/decisions` with the token as `Bearer`. Connection errors,
time-outs, 429 and 5xx are retried with exponential backoff (`gate.http_retry`); a service
still unreachable after that is unavailable (the cache may stand in, with its age); a refused
token is a configuration error (exit 3): a pipeline with a bad token must not look green.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from gate.decisions.interface import Decisions, DecisionsUnavailableError
from gate.errors import ConfigError
from gate.http_retry import RetryPolicy, get_with_retries
from gate.models import TriageDecision

DECISIONS_PATH = "/api/v1/projects/{project}/decisions"
_BODY = TypeAdapter(dict[str, TriageDecision])


def decisions_endpoint(url: str, project: str) -> str:
    """The decisions endpoint of `project` under a service base URL."""
    return url.rstrip("/") + DECISIONS_PATH.format(project=quote(project, safe=""))


@dataclass(frozen=True, kw_only=True)
class RegisterSource:
    """The register service at `url`, read with `token`."""

    url: str
    token: str
    timeout_seconds: float = 15.0
    retry: RetryPolicy = RetryPolicy(retries=3, backoff_seconds=1.0)
    kind: str = "register"

    @property
    def label(self) -> str:
        """`register <url>` (the token is never shown)."""
        return f"register {self.url.rstrip('/')}"

    @property
    def credential(self) -> str:
        """The token."""
        return self.token

    def decisions(self, project: str) -> Decisions:
        """The service's decisions for `project`, by fingerprint."""
        endpoint = decisions_endpoint(self.url, project)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        tries = self.retry.retries + 1
        try:
            with httpx.Client(timeout=self.timeout_seconds) as client:
                response, tries = get_with_retries(client, endpoint, headers=headers,
                                                   policy=self.retry)
        except httpx.HTTPError as exc:
            raise DecisionsUnavailableError(
                f"{type(exc).__name__}: {exc or 'no answer'} ({_tries(tries)})") from exc
        if response.status_code in (401, 403):
            raise ConfigError(
                f"{endpoint}: the register refused the token (HTTP {response.status_code}): "
                f"{_detail(response)}"
            )
        if response.status_code != 200:
            raise DecisionsUnavailableError(
                f"HTTP {response.status_code}: {_detail(response)} ({_tries(tries)})")
        try:
            body = _BODY.validate_json(response.content)
        except ValidationError as exc:
            raise DecisionsUnavailableError(f"unreadable answer: {_first_error(exc)}") from exc
        return Decisions(body)


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def _detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:200].replace("\n", " ")
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail if detail is not None else body)[:200]


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]
