"""GET with retries on transient failures: connection errors, time-outs, 429 and 5xx.

Waits `backoff_seconds` × 2^(attempt-1) before each retry, or the server's numeric
`Retry-After` when it asks for longer (capped: a CI job must not hang on a busy service).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 10.0


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently to retry one request."""

    retries: int = 2
    backoff_seconds: float = 0.5

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (1 for the first retry)."""
        return float(self.backoff_seconds * 2 ** (attempt - 1))


def retry_after(response: httpx.Response) -> float:
    """`Retry-After` in seconds when given as a number (capped), else no extra wait."""
    try:
        return min(max(float(response.headers.get("Retry-After", "0")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 0.0


def get_with_retries(
    client: httpx.Client,
    url: str,
    *,
    headers: Mapping[str, str],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[httpx.Response, int]:
    """The first answer that is not transient (or the last one), and how many tries it took.

    Raises the last `httpx.TransportError` when no try got an answer at all.
    """
    for attempt in range(policy.retries + 1):
        if attempt:
            sleep(policy.delay(attempt))
        try:
            response = client.get(url, headers=dict(headers))
        except httpx.TransportError:
            if attempt == policy.retries:
                raise
            continue
        if response.status_code not in RETRY_STATUSES or attempt == policy.retries:
            return response, attempt + 1
        sleep(max(retry_after(response) - policy.delay(attempt + 1), 0.0))
    raise AssertionError("unreachable: the last attempt returns or raises")
