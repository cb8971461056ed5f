"""`gate advisories sync`: download OSV's PyPI export, CISA's KEV catalog and FIRST's EPSS scores.

Each feed is one file in the sync directory with a `<file>.meta.json` beside it (URL, ETag,
Last-Modified, size, SHA-256, when it was fetched and last confirmed current). A sync asks
conditionally (`If-None-Match`/`If-Modified-Since`); a new body is streamed to a temporary file
under a size limit, checked against a published checksum when the server sends one (GCS's
`x-goog-hash` MD5, `Content-MD5`, `Repr-Digest`/`Digest` SHA-256), parsed as its format, and only
then moved into place. Any failure leaves the previous copy and its metadata untouched.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from gate.advisories.cache import cache_root
from gate.advisories.epss import load_epss
from gate.advisories.kev import load_kev
from gate.errors import ConfigError, GateError

OSV_FEED_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
KEV_FEED_URL = (
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
)
EPSS_FEED_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
OSV_FILE = "osv-pypi.zip"
KEV_FILE = "known_exploited_vulnerabilities.json"
EPSS_FILE = "epss_scores-current.csv.gz"
SYNC_DIR_ENV = "GATE_ADVISORIES_SYNC_DIR"
_CHUNK = 1 << 16


@dataclass(frozen=True, kw_only=True)
class Feed:
    """One downloadable data set: its name, URL, file name, size limit and format check."""

    name: str
    url: str
    file: str
    max_bytes: int
    check: Callable[[Path], None]


@dataclass(frozen=True, kw_only=True)
class FeedMeta:
    """What is known about the stored copy of a feed."""

    url: str
    size: int
    sha256: str
    fetched_at: str
    checked_at: str
    etag: str | None = None
    last_modified: str | None = None

    @property
    def checked(self) -> datetime:
        """When the copy was last confirmed current (downloaded or answered 304)."""
        return datetime.fromisoformat(self.checked_at)


@dataclass(frozen=True, kw_only=True)
class FeedResult:
    """How one feed's sync went: `updated`, `unchanged` or `failed`, with a one-line message."""

    name: str
    status: str
    message: str
    meta: FeedMeta | None = None


class _FeedError(Exception):
    """This feed could not be refreshed; the message says why."""


def sync_dir(directory: Path | None = None) -> Path:
    """The sync directory: `directory`, else `GATE_ADVISORIES_SYNC_DIR`, else `<cache>/feeds`."""
    if directory is not None:
        return directory
    configured = os.environ.get(SYNC_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else cache_root() / "feeds"


def default_feeds(
    *, osv_url: str | None = None, kev_url: str | None = None, epss_url: str | None = None
) -> tuple[Feed, ...]:
    """The three feeds, at their public URLs unless others are given."""
    return (
        Feed(name="osv", url=osv_url or OSV_FEED_URL, file=OSV_FILE, max_bytes=2 << 30,
             check=_check_osv_zip),
        Feed(name="kev", url=kev_url or KEV_FEED_URL, file=KEV_FILE, max_bytes=64 << 20,
             check=_check_kev),
        Feed(name="epss", url=epss_url or EPSS_FEED_URL, file=EPSS_FILE, max_bytes=256 << 20,
             check=_check_epss),
    )


def sync(
    directory: Path, feeds: Sequence[Feed], *, timeout_seconds: float = 60.0
) -> list[FeedResult]:
    """Refresh every feed in `directory`; each failure is reported, never raised."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot create the sync directory: {exc}") from exc
    timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 15.0))
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        return [_sync_one(client, directory, feed) for feed in feeds]


def read_meta(directory: Path, file: str) -> FeedMeta | None:
    """The stored metadata of `file` when it and its data are present and readable."""
    meta_file = directory / f"{file}.meta.json"
    if not (directory / file).is_file():
        return None
    try:
        data = json.loads(meta_file.read_text(encoding="utf-8"))
        meta = FeedMeta(**data)
        meta.checked  # noqa: B018 - validates the timestamp
    except (OSError, ValueError, TypeError):
        return None
    return meta


def _sync_one(client: httpx.Client, directory: Path, feed: Feed) -> FeedResult:
    old = read_meta(directory, feed.file)
    try:
        meta = _download(client, directory, feed, old)
    except (_FeedError, GateError) as exc:
        kept = f"; kept the copy of {old.checked_at}" if old else "; no copy yet"
        return FeedResult(name=feed.name, status="failed", message=f"{exc}{kept}", meta=old)
    if old is not None and meta.sha256 == old.sha256:
        return FeedResult(name=feed.name, status="unchanged",
                          message=f"current ({_size(meta.size)})", meta=meta)
    return FeedResult(name=feed.name, status="updated",
                      message=f"downloaded {_size(meta.size)}", meta=meta)


def _download(client: httpx.Client, directory: Path, feed: Feed, old: FeedMeta | None) -> FeedMeta:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    headers = _conditional_headers(old, feed.url)
    partial = directory / f".{os.getpid()}.partial.{feed.file}"
    try:
        with client.stream("GET", feed.url, headers=headers) as response:
            if response.status_code == 304 and old is not None:
                confirmed = replace(old, checked_at=now)
                _write_meta(directory, feed.file, confirmed)
                return confirmed
            if response.status_code != 200:
                raise _FeedError(f"{feed.url}: HTTP {response.status_code}")
            size, digests = _stream_to(response, partial, feed)
            if not _encoded(response):  # a checksum describes the stored, not the decoded, bytes
                _verify_checksum(response.headers, digests, feed.url)
            etag = response.headers.get("ETag")
            last_modified = response.headers.get("Last-Modified")
        feed.check(partial)
        os.replace(partial, directory / feed.file)
    except httpx.HTTPError as exc:
        raise _FeedError(f"{feed.url}: {type(exc).__name__}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    meta = FeedMeta(url=feed.url, size=size, sha256=digests["sha256"].hexdigest(),
                    fetched_at=now, checked_at=now, etag=etag, last_modified=last_modified)
    _write_meta(directory, feed.file, meta)
    return meta


def _conditional_headers(old: FeedMeta | None, url: str) -> dict[str, str]:
    if old is None or old.url != url:  # another source's validators mean nothing here
        return {}
    headers = {"If-None-Match": old.etag} if old.etag else {}
    if old.last_modified:
        headers["If-Modified-Since"] = old.last_modified
    return headers


def _stream_to(
    response: httpx.Response, partial: Path, feed: Feed
) -> tuple[int, dict[str, Any]]:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > feed.max_bytes:
        raise _FeedError(f"{feed.url}: {declared} bytes is over the {_size(feed.max_bytes)} limit")
    # MD5 only to compare with the checksum GCS publishes (an integrity check, not security).
    md5 = hashlib.md5(usedforsecurity=False)
    digests: dict[str, Any] = {"sha256": hashlib.sha256(), "md5": md5}
    size = 0
    try:
        with partial.open("wb") as out:
            for chunk in response.iter_bytes(_CHUNK):
                size += len(chunk)
                if size > feed.max_bytes:
                    raise _FeedError(f"{feed.url}: more than the {_size(feed.max_bytes)} limit")
                for digest in digests.values():
                    digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise _FeedError(f"{partial.parent}: cannot write: {exc.strerror or exc}") from exc
    return size, digests


def _encoded(response: httpx.Response) -> bool:
    encoding: str = response.headers.get("Content-Encoding", "identity")
    return encoding.strip().lower() != "identity"


def _verify_checksum(headers: httpx.Headers, digests: dict[str, Any], url: str) -> None:
    """Compare every checksum the server published with what arrived."""
    published = _published_checksums(headers)
    for algorithm, expected in published.items():
        actual = base64.b64encode(digests[algorithm].digest()).decode("ascii")
        if actual != expected:
            raise _FeedError(f"{url}: {algorithm} checksum mismatch (published {expected})")


def _published_checksums(headers: httpx.Headers) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in headers.get_list("x-goog-hash"):
        for part in value.split(","):
            name, _, encoded = part.strip().partition("=")
            if name == "md5":
                found["md5"] = encoded
    if "Content-MD5" in headers:
        found["md5"] = headers["Content-MD5"].strip()
    for header in ("Repr-Digest", "Digest"):
        for part in headers.get(header, "").split(","):
            name, _, encoded = part.strip().partition("=")
            if name.lower() == "sha-256":
                found["sha256"] = encoded.strip(":")
    return found


def _write_meta(directory: Path, file: str, meta: FeedMeta) -> None:
    target = directory / f"{file}.meta.json"
    partial = directory / f".{os.getpid()}.partial.{file}.meta.json"
    try:
        partial.write_text(json.dumps(asdict(meta), indent=2), encoding="utf-8")
        os.replace(partial, target)
    except OSError as exc:
        raise _FeedError(f"{target}: cannot write: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def _check_osv_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise _FeedError(f"OSV export is not a readable zip: {exc}") from exc
    if broken is not None:
        raise _FeedError(f"OSV export: member {broken} is damaged")
    if not any(name.lower().endswith(".json") for name in names):
        raise _FeedError("OSV export holds no .json records")


def _check_kev(path: Path) -> None:
    if not len(load_kev(path)):
        raise _FeedError("KEV catalog lists no vulnerability")


def _check_epss(path: Path) -> None:
    if not len(load_epss(path)):
        raise _FeedError("EPSS file holds no score")


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MiB" if count >= 1 << 20 else f"{count} bytes"


@dataclass(frozen=True, kw_only=True)
class LocalCopy:
    """The synced files present in a sync directory and when each was confirmed current."""

    paths: dict[str, Path]
    checked: dict[str, datetime]

    def path(self, name: str) -> Path | None:
        """The file of feed `name`, when synced."""
        return self.paths.get(name)


def local_copy(directory: Path | None = None) -> LocalCopy:
    """What `gate advisories sync` left in `directory` (default: the sync directory)."""
    folder = sync_dir(directory)
    paths: dict[str, Path] = {}
    checked: dict[str, datetime] = {}
    for feed in default_feeds():
        meta = read_meta(folder, feed.file)
        if meta is not None:
            paths[feed.name] = folder / feed.file
            checked[feed.name] = meta.checked
    return LocalCopy(paths=paths, checked=checked)
