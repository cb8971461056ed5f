"""Spool an upload's body to a temporary file, gzip-decoded, under the upload limit.

A 100,000-finding verdict is about 65 MB of JSON (about 5 MB gzip-compressed): it is written
to disk as it arrives and parsed from there incrementally (`register.verdict_stream`), so the
service's memory does not grow with the upload. `GATE_MAX_UPLOAD_BYTES` bounds the bytes on
the wire and, for `Content-Encoding: gzip`, the decoded bytes too (a gzip bomb stops at the
limit). Other encodings are refused with 415, a corrupt or truncated gzip body with 400.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from fastapi import HTTPException

from register.web.limits import too_large_message

ENCODINGS = ("identity", "gzip")
_SPOOL_PREFIX = "riskgate-upload-"


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status_code=413, detail=too_large_message(limit))


async def spool_bounded(
    chunks: AsyncIterator[bytes], *, encoding: str, limit: int, into: IO[bytes]
) -> int:
    """Write the decoded body from `chunks` to `into`; the decoded size. 413 past `limit`."""
    encoding = (encoding or "identity").strip().lower()
    if encoding not in ENCODINGS:
        raise HTTPException(415, f"unsupported Content-Encoding {encoding!r}; send gzip or none")
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    wire = written = 0
    async for chunk in chunks:
        wire += len(chunk)
        if wire > limit:
            raise _too_large(limit)
        if decoder is None:
            written += into.write(chunk)
            continue
        data = chunk
        try:
            while data:
                written += into.write(decoder.decompress(data, limit + 1 - written))
                if written > limit:
                    raise _too_large(limit)
                data = decoder.unconsumed_tail
        except zlib.error as exc:
            raise HTTPException(400, f"the gzip body is corrupt: {exc}") from exc
    if decoder is not None and not decoder.eof:
        raise HTTPException(400, "the gzip body is truncated")
    return written


def spool_file() -> tuple[IO[bytes], Path]:
    """A new temporary file for one upload (the caller removes it)."""
    handle = tempfile.NamedTemporaryFile(prefix=_SPOOL_PREFIX, suffix=".json", delete=False)  # noqa: SIM115 - closed by the caller
    return handle, Path(handle.name)
