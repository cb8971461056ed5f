"""Refuse request bodies over `max_upload_bytes` with a JSON 413, before they are buffered.

A declared `Content-Length` over the limit is refused at once; a chunked or lying body is
counted as it streams and refused as soon as it passes the limit.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large_message(limit: int) -> str:
    """The one-line 413 detail."""
    return f"request body exceeds the limit of {limit} bytes (GATE_MAX_UPLOAD_BYTES)"


class BodyLimitMiddleware:
    """Pure ASGI middleware enforcing a maximum request body size."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            response = JSONResponse({"detail": too_large_message(self.max_bytes)}, status_code=413)
            await response(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside body parsing, so FastAPI's handlers turn it into JSON.
                    raise HTTPException(status_code=413, detail=too_large_message(self.max_bytes))
            return message

        return counted
