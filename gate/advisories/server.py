"""A tiny OSV-compatible API on loopback, so pip-audit and the lookup can use local data.

`GET /v1/vulns/{id}` answers one record by its own id (404 otherwise) with its aliases widened
to the records that share an id with it, as OSV.dev's alias groups do.

pip-audit's OSV service POSTs `{"package": {"name", "ecosystem"}, "version"}` to its
`--osv-url` and reads `vulns[].{id, aliases, summary|details, affected, published, withdrawn}`;
an empty object means "no vulnerabilities". It parses `published` only when it ends in `Z`,
which `OsvRecord` guarantees.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from gate.advisories.index import AdvisoryIndex

QUERY_PATH = "/v1/query"
VULNS_PATH = "/v1/vulns/"
_MAX_BODY = 1 << 20


class _AdvisoryServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, index: AdvisoryIndex) -> None:
        super().__init__(("127.0.0.1", 0), _QueryHandler)
        self.index = index


class _QueryHandler(BaseHTTPRequestHandler):
    server: _AdvisoryServer

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Answer one OSV `/v1/vulns/{id}` request."""
        path = self.path.split("?", 1)[0]
        record = None
        if path.startswith(VULNS_PATH):
            record = vuln_by_id(self.server.index, unquote(path[len(VULNS_PATH):]))
        if record is None:
            self._reply(HTTPStatus.NOT_FOUND, {"code": 5, "message": "Bug not found."})
            return
        self._reply(HTTPStatus.OK, record)

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Answer one OSV `/v1/query` request."""
        if self.path.split("?", 1)[0] != QUERY_PATH:
            self._reply(HTTPStatus.NOT_FOUND, {"message": "not found"})
            return
        query = self._read_query()
        if query is None:
            self._reply(HTTPStatus.BAD_REQUEST, {"message": "expected an OSV query object"})
            return
        self._reply(HTTPStatus.OK, answer_query(self.server.index, query))

    def _read_query(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= _MAX_BODY:
            return None
        try:
            body = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None

    def _reply(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        """Stay quiet: the gate owns the terminal."""


def answer_query(index: AdvisoryIndex, query: dict[str, Any]) -> dict[str, Any]:
    """The OSV response to one query: `{"vulns": [...]}`, or `{}` when nothing matches."""
    package = query.get("package")
    version = query.get("version")
    if not isinstance(package, dict) or not isinstance(version, str):
        return {}
    name, ecosystem = package.get("name"), package.get("ecosystem", "PyPI")
    if not isinstance(name, str) or str(ecosystem).lower() != "pypi":
        return {}
    vulns = [record.to_osv() for record in index.query(name, version)]
    return {"vulns": vulns} if vulns else {}


def vuln_by_id(index: AdvisoryIndex, record_id: str) -> dict[str, Any] | None:
    """The record whose own id is `record_id`, aliases widened to its alias group; else None."""
    own = [r for r in index.named(record_id) if r.id.upper() == record_id.strip().upper()]
    if not own:
        return None
    record = own[0]
    group = {i for alias in record.ids for r in index.named(alias) for i in r.ids}
    data = record.to_osv()
    data["aliases"] = sorted(group - {record.id})
    return data


@contextmanager
def serve_advisories(index: AdvisoryIndex) -> Iterator[str]:
    """Serve `index` on 127.0.0.1 (a free port) while the block runs; yield the query URL.

    The URL (`http://127.0.0.1:<port>/v1/query`) is what pip-audit's `--osv-url` takes; the
    same server answers `/v1/vulns/{id}` (its base URL is the query URL minus `/v1/query`).
    """
    with serving(_AdvisoryServer(index)) as base:
        yield f"{base}{QUERY_PATH}"


@contextmanager
def serving(server: HTTPServer) -> Iterator[str]:
    """Run `server` in a daemon thread while the block runs; yield its base URL."""
    thread = threading.Thread(target=server.serve_forever, name="loopback-http", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
