"""A loopback fake of GitHub's issue-comment API: list (paginated), create, edit.

Real HTTP on 127.0.0.1; every request is logged with its method, path and Authorization
header. Comments are checked for ownership like GitHub does: a token may edit only the
comments it wrote (403 otherwise), and a token may be read-only (403 on every write, as a
fork's pull request gets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gate.advisories.server import serving

LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
EDIT = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


@dataclass
class FakeGitHub:
    """State of the fake: comments per pull request, tokens and who they are."""

    tokens: dict[str, str] = field(default_factory=lambda: {"ghs_good": "github-actions[bot]"})
    read_only: set[str] = field(default_factory=set)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    next_id: int = 1000

    def add(self, number: int, body: str, login: str) -> dict[str, Any]:
        """A comment already on the pull request."""
        self.next_id += 1
        comment = {"id": self.next_id, "body": body, "user": {"login": login}}
        self.comments.setdefault(number, []).append(comment)
        return comment

    def find(self, comment_id: int) -> dict[str, Any] | None:
        return next((c for thread in self.comments.values() for c in thread
                     if c["id"] == comment_id), None)


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            return

        def _reply(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _login(self) -> str | None:
            auth = self.headers.get("Authorization", "")
            state.requests.append((self.command, self.path, auth))
            token = auth.removeprefix("Bearer ")
            return state.tokens.get(token) if auth.startswith("Bearer ") else None

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length", "0"))
            data = json.loads(self.rfile.read(length) or b"{}")
            assert isinstance(data, dict)
            return data

        def do_GET(self) -> None:
            if self._login() is None:
                return self._reply(401, {"message": "Bad credentials"})
            parts = urlsplit(self.path)
            match = LIST.match(parts.path)
            if not match:
                return self._reply(404, {"message": "Not Found"})
            query = parse_qs(parts.query)
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
            thread = state.comments.get(int(match.group(2)), [])
            return self._reply(200, thread[(page - 1) * per_page: page * per_page])

        def do_POST(self) -> None:
            login = self._login()
            if login is None:
                return self._reply(401, {"message": "Bad credentials"})
            match = LIST.match(self.path)
            if not match:
                return self._reply(404, {"message": "Not Found"})
            if self.headers.get("Authorization", "").removeprefix("Bearer ") in state.read_only:
                return self._reply(403, {"message": "Resource not accessible by integration"})
            comment = state.add(int(match.group(2)), self._body()["body"], login)
            return self._reply(201, comment)

        def do_PATCH(self) -> None:
            login = self._login()
            if login is None:
                return self._reply(401, {"message": "Bad credentials"})
            match = EDIT.match(self.path)
            comment = state.find(int(match.group(2))) if match else None
            if comment is None:
                return self._reply(404, {"message": "Not Found"})
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token in state.read_only or comment["user"]["login"] != login:
                return self._reply(403, {"message": "Resource not accessible by integration"})
            comment["body"] = self._body()["body"]
            return self._reply(200, comment)

    return Handler


@contextmanager
def fake_github(state: FakeGitHub) -> Iterator[str]:
    """Serve the fake on a loopback port; yields its API base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    with serving(server) as url:
        yield url
