"""`gate scan --register`'s client over real loopback HTTP: a flaky register is retried with
backoff; one that stays down leaves the cached decisions standing in, with their age."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gate.advisories.server import serving
from gate.decisions import load_decisions
from gate.decisions.cache import DecisionCache
from gate.decisions.interface import DecisionsUnavailableError
from gate.decisions.register_http import RegisterSource
from gate.http_retry import RetryPolicy
from gate.models import DecisionsStatus, TriageStatus
from gate.policy.load import parse_policy

POLICY = parse_policy("version: 1\nname: t\n", source="t.yml")
FAST = RetryPolicy(retries=3, backoff_seconds=0.01)
DECISIONS = {"f" * 32: {"status": "accepted", "reason": "patch in May", "until": "2099-01-31",
                        "by": "ciso", "source": "register"}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    answers: list[int]
    seen: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.seen.append(self.path)
        status = self.server.answers.pop(0) if self.server.answers else 200
        body = json.dumps(DECISIONS if status == 200 else {"detail": "busy"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@contextmanager
def register(answers: list[int]) -> Iterator[tuple[str, _Server]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.answers, server.seen = list(answers), []
    with serving(server) as url:
        yield url, server


def test_transient_failures_are_retried_until_the_register_answers() -> None:
    with register([503, 502, 429]) as (url, server):
        found = RegisterSource(url=url, token="t", retry=FAST).decisions("shop")
    assert len(server.seen) == 4 and set(server.seen) == {"/api/v1/projects/shop/decisions"}
    (decision,) = found.values()
    assert decision.status is TriageStatus.ACCEPTED and decision.by == "ciso"


def test_a_register_that_stays_busy_is_unavailable_after_the_retries() -> None:
    with register([503] * 10) as (url, server), pytest.raises(
        DecisionsUnavailableError, match=r"HTTP 503: busy \(4 tries\)"
    ):
        RegisterSource(url=url, token="t", retry=FAST).decisions("shop")
    assert len(server.seen) == 4


def test_a_client_error_is_not_retried() -> None:
    with register([404]) as (url, server), pytest.raises(DecisionsUnavailableError,
                                                         match=r"HTTP 404.*\(1 try\)"):
        RegisterSource(url=url, token="t", retry=FAST).decisions("shop")
    assert len(server.seen) == 1


def test_down_after_the_retries_falls_back_to_the_cache_with_its_age(tmp_path: Path) -> None:
    cache = DecisionCache(directory=tmp_path / "cache")
    with register([]) as (url, _):
        source = RegisterSource(url=url, token="t", retry=FAST)
        live = load_decisions([source], project="shop", policy=POLICY, cache=cache)
    assert live.notes[0].status is DecisionsStatus.LIVE

    later = datetime.now(UTC) + timedelta(days=2)
    # the register is gone now: every try is refused, then the cached answer stands in
    down = load_decisions([source], project="shop", policy=POLICY, cache=cache, now=later)
    (note,) = down.notes
    assert note.status is DecisionsStatus.CACHED and dict(down) == dict(live)
    words = note.describe(later)
    assert "unreachable" in words and "(4 tries)" in words and "(2 d old)" in words
