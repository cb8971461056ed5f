"""`gate register replay`: record or send the runs spooled during an outage, each as a stream.

A spool file holds its run's verdict in its field `verdict` (`gate.spool`). A run spooled for
the database is recorded as `gate register record` records a file; a run spooled for the
service has each finding checked the same way, then its verdict's text is sent gzip-compressed
(never parsed whole: memory stays flat for any size). A file that is no verdict, or that the
register refuses, is moved to `damaged/` and noted, as is one that may not be this user's own
(`gate.safe_input.not_own_file`, or tracked by git: read by no one); the others are replayed.
An outage stops a database replay and keeps every file not yet recorded.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gate.gitinfo import committed
from gate.safe_input import not_own_file
from gate.spool import set_aside
from register.db import open_register
from register.errors import RegisterInputError
from register.record_files import checked, record_one
from register.verdict_stream import (
    VerdictFile,
    VerdictFileError,
    exactly_on_refusal,
    read_verdict_file,
)

SPOOLED_FIELD = "verdict"


def replay_database(
    paths: Sequence[Path], *, url: str, actor: str, echo: Callable[[str], None],
    damaged: list[str],
) -> None:
    """Record each spooled run in `url`'s register, removing its file once recorded."""
    engine = open_register(url)
    try:
        for path in paths:
            if (problem := _not_own(path)) is not None:
                damaged.append(problem)
                continue
            try:
                verdict = read_verdict_file(path, fast=True, within=SPOOLED_FIELD)
                result = record_one(engine, verdict, project=None, actor=actor)
            except RegisterInputError as exc:
                damaged.append(_damaged(path, exc))
                continue
            path.unlink()
            echo(f"{path.name}: {result.summary()}")
    finally:
        engine.dispose()


@dataclass(frozen=True, kw_only=True)
class ReplayOutcome:
    """One spooled upload: sent (file removed) or still pending, and why."""

    path: Path
    run_id: str
    uploaded: bool
    message: str


def replay_uploads(
    paths: Sequence[Path], *, token: str, url: str | None = None, attempts: int = 2,
    backoff_seconds: float = 1.0, damaged: list[str],
) -> list[ReplayOutcome]:
    """Send each spooled upload, in order, to its endpoint (or `url`); sent files go.

    A file the service refuses (4xx) raises, so nothing is silently dropped; an unreachable
    service leaves the file for the next replay.
    """
    from gate.upload import RetryPolicy, deliver  # httpx: only when replaying uploads

    policy = RetryPolicy(attempts=attempts, backoff_seconds=backoff_seconds)
    results: list[ReplayOutcome] = []
    for path in paths:
        if (problem := _not_own(path)) is not None:
            damaged.append(problem)
            continue
        try:
            verdict = exactly_on_refusal(
                read_verdict_file(path, fast=True, within=SPOOLED_FIELD), checked)
            destination = url or _destination(verdict)
            body = _gzipped(verdict)
        except RegisterInputError as exc:
            damaged.append(_damaged(path, exc))
            continue
        outcome = deliver(body, url=destination, token=token, policy=policy)
        if outcome.uploaded:
            path.unlink()
        results.append(ReplayOutcome(path=path, run_id=verdict.header.run_id,
                                     uploaded=outcome.uploaded, message=outcome.message))
    return results


def _destination(verdict: VerdictFile) -> str:
    """The endpoint the upload was meant for: an http(s) URL."""
    import httpx

    destination = verdict.outer.get("destination")
    if not isinstance(destination, str) or not destination:
        raise VerdictFileError(verdict.path, "names no destination (its field 'destination')")
    try:
        scheme = httpx.URL(destination).scheme
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise VerdictFileError(verdict.path, f"its destination is no URL ({exc})") from exc
    if scheme not in ("http", "https"):
        raise VerdictFileError(verdict.path, "its destination is no http(s) URL")
    return destination


def _gzipped(verdict: VerdictFile) -> bytes:
    """The verdict's text as it is in the file, gzip-compressed a chunk at a time."""
    from gate.upload import GZIP_LEVEL

    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip
    parts = [compressor.compress(chunk.encode("utf-8")) for chunk in verdict.text()]
    parts.append(compressor.flush())
    return b"".join(parts)


def _not_own(path: Path) -> str | None:
    """Why the spool file is set aside unread (`not_own_file`), with where it went; None
    for this user's own file."""
    try:
        problem = not_own_file(path)
    except FileNotFoundError:  # replayed or removed meanwhile: the reader says so
        return None
    if problem is None and committed(path):
        problem = "tracked by git (a pull request could have written it)"
    if problem is None:
        return None
    return f"{path}: not replayed: {problem}; moved to {set_aside(path)}"


def _damaged(path: Path, exc: RegisterInputError) -> str:
    if isinstance(exc, VerdictFileError):
        return f"{path}: unreadable spool file: {exc.detail}; moved to {set_aside(path)}"
    return f"{path}: refused by the register: {exc}; moved to {set_aside(path)}"
