"""Refuse request bodies over the limit with a 413, before they are buffered.

API bodies (uploads) may reach `GATE_MAX_UPLOAD_BYTES`; form posts of the pages (the anonymous
login form among them) only `GATE_MAX_FORM_BYTES`.

A declared `Content-Length` over the limit is refused at once; a chunked or lying body is
counted as it streams and refused as soon as it passes the limit.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large_message(limit: int, setting: str = "GATE_MAX_UPLOAD_BYTES") -> str:
    """The one-line 413 detail."""
    return f"request body exceeds the limit of {limit} bytes ({setting})"


class BodyLimitMiddleware:
    """Pure ASGI middleware enforcing a maximum request body size."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_form_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_form_bytes = max_bytes if max_form_bytes is None else max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/api/"):
            limit, setting = self.max_bytes, "GATE_MAX_UPLOAD_BYTES"
        else:
            limit, setting = self.max_form_bytes, "GATE_MAX_FORM_BYTES"
        message = too_large_message(limit, setting)
        if self._declared_length(scope) > limit:
            response = JSONResponse({"detail": message}, status_code=413)
            await response(scope, receive, send)
            return
        await self.app(scope, self._counting(receive, limit, detail=message), send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    @staticmethod
    def _counting(receive: Receive, limit: int, *, detail: str) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Raised inside body parsing, so FastAPI's handlers turn it into JSON.
                    raise HTTPException(status_code=413, detail=detail)
            return message

        return counted
