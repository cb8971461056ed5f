"""A loopback download server for sync tests: files with ETag/Last-Modified, conditional GETs,
GCS-style `x-goog-hash` checksums, and scripted faults. Real HTTP, requests logged."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from gate.advisories.server import serving
from tests.conftest import FIXTURES

LAST_MODIFIED = "Tue, 01 Dec 2026 00:00:00 GMT"


@dataclass
class Served:
    """One file: its bytes and how to misbehave (status, wrong checksum, short body)."""

    body: bytes
    status: int = 200
    bad_checksum: bool = False
    truncate_to: int | None = None
    no_validators: bool = False

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class Feeds:
    """Files by path, and every (path, request headers) seen."""

    files: dict[str, Served] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    feeds: Feeds


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        feeds = self.server.feeds
        feeds.requests.append((self.path, dict(self.headers.items())))
        served = feeds.files.get(self.path)
        if served is None:
            self._send(404, b"not found", {})
            return
        if served.status != 200:
            self._send(served.status, b"error", {})
            return
        validators = {} if served.no_validators else {
            "ETag": served.etag, "Last-Modified": LAST_MODIFIED}
        if not served.no_validators and self.headers.get("If-None-Match") == served.etag:
            self._send(304, b"", validators)
            return
        body = b"x" if served.bad_checksum else served.body
        md5 = hashlib.md5(body, usedforsecurity=False).digest()
        goog = f"crc32c=AAAAAA==,md5={base64.b64encode(md5).decode()}"
        headers = {**validators, "x-goog-hash": goog}
        body = served.body
        if served.truncate_to is not None:
            headers["Content-Length"] = str(len(body))
            body = body[: served.truncate_to]
        self._send(200, body, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        headers.setdefault("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if status != 304:
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


@contextmanager
def serve_feeds(feeds: Feeds) -> Iterator[str]:
    """Serve `feeds` on 127.0.0.1; yield the base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.feeds = feeds
    with serving(server) as base:
        yield base


def osv_zip(folder: Path) -> bytes:
    """OSV's export layout (`<ID>.json` at the top) built from a folder of YAML records."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*.yaml")):
            record = yaml.load(file.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # noqa: S506
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return buffer.getvalue()


def fixture_feeds() -> Feeds:
    """The three feeds from fixtures: alias records as an OSV export, KEV subset, EPSS sample."""
    epss = (FIXTURES / "epss" / "epss_scores-sample.csv").read_bytes()
    return Feeds(files={
        "/PyPI/all.zip": Served(osv_zip(FIXTURES / "advisories" / "aliases")),
        "/kev.json": Served((FIXTURES / "kev" / "kev-subset.json").read_bytes()),
        "/epss.csv.gz": Served(gzip.compress(epss, mtime=0)),
    })


def sync_urls(base: str) -> dict[str, str]:
    """`gate advisories sync`'s URL settings for a `serve_feeds` server of `fixture_feeds`."""
    return {
        "GATE_SYNC_OSV_URL": f"{base}/PyPI/all.zip",
        "GATE_SYNC_KEV_URL": f"{base}/kev.json",
        "GATE_SYNC_EPSS_URL": f"{base}/epss.csv.gz",
    }
