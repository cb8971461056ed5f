"""A scripted OSV API on loopback for tests: real HTTP, answers chosen per id, requests counted."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from gate.advisories.server import serving


@dataclass
class Reply:
    """One scripted answer: status, JSON body, optional delay and headers."""

    status: int = 200
    body: Any = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Script:
    """Answers per id (used in turn, the last one repeated); unknown ids get 404."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def next_reply(self, record_id: str) -> Reply:
        with self.lock:
            self.hits[record_id] += 1
            queue = self.replies.get(record_id)
            if not queue:
                return Reply(status=404, body={"code": 5, "message": "Bug not found."})
            return queue.pop(0) if len(queue) > 1 else queue[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    script: Script


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        record_id = unquote(self.path.removeprefix("/v1/vulns/"))
        script = self.server.script
        reply = script.next_reply(record_id)
        script.enter()
        time.sleep(reply.delay)
        script.leave()
        body = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


@contextmanager
def scripted_osv(script: Script) -> Iterator[str]:
    """Serve `script` on 127.0.0.1; yield the base URL (no trailing slash)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.script = script
    with serving(server) as base:
        yield base


@contextmanager
def hanging_up() -> Iterator[tuple[str, list[int]]]:
    """A loopback port that accepts each connection and closes it at once; yields URL, count."""
    accepted = [0]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            accepted[0] += 1
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def record(
    record_id: str, *, modified: str = "2099-01-02T00:00:00Z", **extra: Any
) -> dict[str, Any]:
    """A minimal OSV record for alias-pkg."""
    return {
        "id": record_id,
        "modified": modified,
        "affected": [{"package": {"name": "alias-pkg", "ecosystem": "PyPI"},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": "1.4.2"}]}]}],
        **extra,
    }
