"""Send a verdict to the register service (`gate scan --upload URL --token ...`).

Connection errors, 5xx and 429 are retried with exponential backoff; when every attempt
fails the verdict is spooled (without the token) so `gate register replay --token ...`
can send it later (`register.spool_replay`). Any other 4xx is final: retrying or spooling
would not change the answer.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from gate.errors import ConfigError, GateError
from gate.models import Verdict
from gate.spool import spool_verdict, spooled_where

RUNS_PATH = "/api/v1/runs"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30.0
SPOOL_KIND = "upload"
GZIP_LEVEL = 6


class UploadRejectedError(GateError):
    """The service refused the verdict (4xx other than 429): retrying cannot help."""

    exit_code = 2


class UploadAuthError(ConfigError):
    """The service refused the token (401/403): a configuration problem (exit 3)."""


@dataclass(frozen=True, kw_only=True)
class UploadOutcome:
    """How an upload ended: sent (with the service's answer) or spooled for replay."""

    uploaded: bool
    attempts: int
    endpoint: str
    status_code: int | None = None
    spooled_to: Path | None = None
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently to retry; tests shorten the backoff."""

    attempts: int = 4
    backoff_seconds: float = 1.0
    timeout_seconds: float = 30.0


def runs_endpoint(url: str) -> str:
    """The runs endpoint for a service base URL (a full endpoint URL is kept as given)."""
    stripped = url.rstrip("/")
    return stripped if stripped.endswith(RUNS_PATH) else stripped + RUNS_PATH


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].replace("\n", " ")
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail) if detail is not None else str(body)[:200]


def _raise_final(response: httpx.Response, endpoint: str) -> None:
    message = f"{endpoint}: HTTP {response.status_code}: {_detail(response)}"
    if response.status_code in (401, 403):
        raise UploadAuthError(f"{message} (check --token / GATE_TOKEN)")
    raise UploadRejectedError(message)


def _wait(policy: RetryPolicy, attempt: int, response: httpx.Response | None) -> None:
    delay = policy.backoff_seconds * 2 ** (attempt - 1)
    retry_after = response.headers.get("retry-after") if response is not None else None
    if retry_after and retry_after.isdigit():
        delay = max(delay, float(retry_after))
    time.sleep(min(delay, MAX_BACKOFF_SECONDS))


def send_verdict_json(
    gzipped: bytes, *, url: str, token: str, policy: RetryPolicy
) -> tuple[httpx.Response | None, int, str]:
    """POST a gzip-compressed verdict JSON with retries; (last response or None, attempts,
    last error). A 100,000-finding verdict: ~65 MB of JSON, ~5 MB sent."""
    endpoint = runs_endpoint(url)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    response: httpx.Response | None = None
    error = ""
    with httpx.Client(timeout=policy.timeout_seconds) as client:
        for attempt in range(1, policy.attempts + 1):
            try:
                response = client.post(endpoint, content=gzipped, headers=headers)
            except httpx.HTTPError as exc:
                response, error = None, f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response, attempt, ""
                error = f"HTTP {response.status_code}: {_detail(response)}"
            if attempt < policy.attempts:
                _wait(policy, attempt, response)
    return response, policy.attempts, error


def deliver(gzipped: bytes, *, url: str, token: str, policy: RetryPolicy) -> UploadOutcome:
    """Send a gzip-compressed verdict JSON once with retries; raise on a final refusal, else
    report sent or not sent."""
    endpoint = runs_endpoint(url)
    response, attempts, error = send_verdict_json(gzipped, url=url, token=token, policy=policy)
    if response is not None and response.status_code not in RETRY_STATUSES:
        if response.is_success:
            return UploadOutcome(
                uploaded=True, attempts=attempts, endpoint=endpoint,
                status_code=response.status_code, message=f"uploaded to {endpoint}",
            )
        _raise_final(response, endpoint)
    status = response.status_code if response is not None else None
    return UploadOutcome(
        uploaded=False, attempts=attempts, endpoint=endpoint, status_code=status,
        message=f"{endpoint}: not reachable after {attempts} attempts ({error})",
    )


def upload_verdict(
    verdict: Verdict,
    *,
    url: str,
    token: str,
    spool_dir: Path,
    attempts: int = 4,
    backoff_seconds: float = 1.0,
) -> UploadOutcome:
    """Upload with retries; when the service stays unreachable, spool for `gate register replay`.

    The spool file names the endpoint, never the token. A 401/403 raises `UploadAuthError`,
    any other 4xx `UploadRejectedError`: both would fail again on replay.
    """
    policy = RetryPolicy(attempts=attempts, backoff_seconds=backoff_seconds)
    body = gzip.compress(verdict.model_dump_json().encode("utf-8"), compresslevel=GZIP_LEVEL)
    outcome = deliver(body, url=url, token=token, policy=policy)
    if outcome.uploaded:
        return outcome
    path = spool_verdict(
        verdict, spool_dir=spool_dir, destination=outcome.endpoint, kind=SPOOL_KIND,
        reason=outcome.message,
    )
    return UploadOutcome(
        uploaded=False, attempts=outcome.attempts, endpoint=outcome.endpoint,
        status_code=outcome.status_code, spooled_to=path,
        message=f"{outcome.message}; spooled to {spooled_where(path, spool_dir)} "
                "(send later: gate register replay)",
    )
