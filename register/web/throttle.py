"""Throttle failed authentication per client: too many failures in a window answer 429.

Counted: a login form with an unknown or revoked token, and an API request whose bearer token
is unknown or revoked. After `limit` failures within `window` seconds the client gets 429 with
`Retry-After` for every login or token-authenticated request until the oldest failure leaves
the window; a client that never fails is never slowed. Counts live in the process (each
worker counts on its own) and at most `MAX_CLIENTS` clients are remembered.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_CLIENTS = 100_000


class FailureThrottle:
    """Sliding-window counts of authentication failures by client key."""

    def __init__(
        self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None when it is not throttled."""
        with self._lock:
            times = self._recent(key)
            if times is None or len(times) < self.limit:
                return None
            return max(1, math.ceil(times[-self.limit] + self.window - self._clock()))

    def failed(self, key: str) -> None:
        """Count one failure of `key`."""
        with self._lock:
            times = self._recent(key) or deque()
            times.append(self._clock())
            while len(times) > self.limit:
                times.popleft()
            self._failures[key] = times
            self._failures.move_to_end(key)
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)

    def _recent(self, key: str) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        horizon = self._clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times


def throttled_message(seconds: int) -> str:
    """The one-line 429 detail."""
    return (f"too many failed sign-ins or API tokens from this client; "
            f"retry after {seconds} s")
