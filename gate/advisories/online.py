"""Fetch OSV records by id from an OSV API (`GET {base}/v1/vulns/{id}`), concurrently.

pip-audit names each vulnerability and its aliases but reports no severity; the records of
those ids (a GHSA alias usually carries the CVSS vector a PYSEC record lacks) do. Requests run
in a bounded thread pool over one `httpx.Client`, each with a timeout and a few retries (on
connection errors, time-outs, 429 and 5xx, honouring a short `Retry-After`). Records are cached
on disk by id and `modified` (`RecordCache`); a cached record younger than the freshness window
is used without asking, an older one only when OSV cannot answer.

When the service is unreachable (every retry of a request failed to connect or timed out),
the remaining ids are not tried: they are reported as unresolved with that cause.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from gate.advisories.osv import OsvRecord, record_from_mapping
from gate.advisories.record_cache import RecordCache
from gate.errors import ConfigError, ReportFormatError
from gate.http_retry import RETRY_STATUSES, retry_after

DEFAULT_OSV_URL = "https://api.osv.dev"
OSV_URL_ENV = "GATE_OSV_URL"
OFF = "off"
MAX_RECORD_BYTES = 4 << 20


@dataclass(frozen=True, kw_only=True)
class LookupSettings:
    """How to reach OSV: base URL, per-request timeout, retries, concurrency, cache."""

    base_url: str = DEFAULT_OSV_URL
    timeout_seconds: float = 10.0
    retries: int = 2
    concurrency: int = 8
    backoff_seconds: float = 0.5
    fresh_seconds: float = 24 * 3600.0
    cache_dir: Path | None = None


@dataclass(frozen=True, kw_only=True)
class LookupResult:
    """What a lookup found: the records, ids OSV does not know, and ids it could not fetch."""

    records: tuple[OsvRecord, ...] = ()
    asked: int = 0
    from_cache: int = 0
    not_found: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    error: str | None = None


def osv_base_url() -> str | None:
    """`GATE_OSV_URL` (without a trailing `/`), else OSV's public API; None when set to `off`."""
    configured = os.environ.get(OSV_URL_ENV, "").strip()
    if configured.lower() == OFF:
        return None
    url = (configured or DEFAULT_OSV_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{OSV_URL_ENV}: expected an http(s) URL or 'off', got {configured!r}")
    return url


@dataclass(kw_only=True)
class _Outcome:
    records: dict[str, OsvRecord] = field(default_factory=dict)
    from_cache: set[str] = field(default_factory=set)
    not_found: set[str] = field(default_factory=set)
    unresolved: dict[str, str] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)


class OsvLookup:
    """Fetches records by id (and their aliases' records, one hop) from one OSV API."""

    def __init__(self, settings: LookupSettings) -> None:
        self.settings = settings
        self._cache = RecordCache(settings.cache_dir) if settings.cache_dir else None
        self._down: str | None = None
        self._lock = threading.Lock()

    def lookup(self, ids: Iterable[str]) -> LookupResult:
        """Fetch `ids`, then every alias their records name that was not asked yet."""
        outcome = _Outcome()
        wanted = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
        asked: set[str] = set()
        limits = httpx.Limits(max_connections=self.settings.concurrency)
        with httpx.Client(timeout=self.settings.timeout_seconds, limits=limits) as client:
            for _hop in range(2):
                wave = [i for i in wanted if i not in asked]
                asked.update(wave)
                self._fetch_all(client, wave, outcome)
                wanted = [a for r in outcome.records.values() for a in r.aliases]
        return LookupResult(
            records=tuple(outcome.records.values()),
            asked=len(asked),
            from_cache=len(outcome.from_cache),
            not_found=tuple(sorted(outcome.not_found)),
            unresolved=tuple(sorted(outcome.unresolved)),
            stale=tuple(sorted(outcome.stale)),
            error=self._down or next(iter(outcome.unresolved.values()), None),
        )

    def _fetch_all(self, client: httpx.Client, ids: list[str], outcome: _Outcome) -> None:
        if not ids:
            return
        workers = max(1, min(self.settings.concurrency, len(ids)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="osv-lookup") as pool:
            for record_id, result in zip(ids, pool.map(lambda i: self._one(client, i), ids),
                                         strict=True):
                self._collect(record_id, result, outcome)

    def _collect(self, record_id: str, result: _Fetched, outcome: _Outcome) -> None:
        if result.record is not None:
            outcome.records.setdefault(result.record.id, result.record)
        if result.cached:
            outcome.from_cache.add(record_id)
        if result.stale:
            outcome.stale.add(record_id)
        if result.missing:
            outcome.not_found.add(record_id)
        if result.error is not None:
            outcome.unresolved[record_id] = result.error

    def _one(self, client: httpx.Client, record_id: str) -> _Fetched:
        cached = self._cache.newest(record_id) if self._cache else None
        if cached is not None and cached.age_seconds < self.settings.fresh_seconds:
            return _Fetched(record=cached.record, cached=True)
        try:
            data = self._get(client, record_id)
        except _LookupFailed as exc:
            if cached is not None:  # stale beats nothing; the caller says it was stale
                return _Fetched(record=cached.record, cached=True, stale=True)
            return _Fetched(error=str(exc))
        if data is None:
            return _Fetched(missing=True)
        try:
            record = record_from_mapping(data, source=Path(f"{self.settings.base_url}/{record_id}"))
        except ReportFormatError as exc:
            return _Fetched(error=f"unreadable record {record_id}: {exc}")
        if self._cache is not None:
            self._cache.store(record_id, data, record.modified)
        return _Fetched(record=record)

    def _get(self, client: httpx.Client, record_id: str) -> dict[str, Any] | None:
        """The record's JSON, None when OSV does not know the id; `_LookupFailed` otherwise."""
        url = f"{self.settings.base_url}/v1/vulns/{quote(record_id, safe='')}"
        problem, unreachable = "not tried", True
        for attempt in range(self.settings.retries + 1):
            if self._down is not None:
                raise _LookupFailed(self._down)
            if attempt:
                time.sleep(self.settings.backoff_seconds * 2 ** (attempt - 1))
            try:
                response = client.get(url, headers={"Accept": "application/json"})
            except httpx.TransportError as exc:
                problem = f"{url}: {type(exc).__name__}: {exc or 'no answer'}"
                continue
            unreachable = False
            if response.status_code == 404:
                return None
            if response.status_code in RETRY_STATUSES and attempt < self.settings.retries:
                time.sleep(retry_after(response))
                problem = f"{url}: HTTP {response.status_code}"
                continue
            return _json_body(response, url)
        if unreachable:
            self._mark_down(f"OSV unreachable: {problem}")
        raise _LookupFailed(problem)

    def _mark_down(self, reason: str) -> None:
        with self._lock:
            self._down = self._down or reason


@dataclass(frozen=True, kw_only=True)
class _Fetched:
    record: OsvRecord | None = None
    cached: bool = False
    stale: bool = False
    missing: bool = False
    error: str | None = None


class _LookupFailed(Exception):
    """One id could not be fetched (after retries); the message says why."""


def _json_body(response: httpx.Response, url: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise _LookupFailed(f"{url}: HTTP {response.status_code}")
    if len(response.content) > MAX_RECORD_BYTES:
        raise _LookupFailed(f"{url}: record larger than {MAX_RECORD_BYTES} bytes")
    try:
        data = response.json()
    except ValueError as exc:
        raise _LookupFailed(f"{url}: not JSON") from exc
    if not isinstance(data, dict):
        raise _LookupFailed(f"{url}: not an OSV record")
    return data
