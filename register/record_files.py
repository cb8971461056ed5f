"""`gate register record FILE...`: record verdict files, spooling what a database outage refuses.

Each file is recorded as a stream (header first, then one finding at a time). When the
database is down, out of date or fails mid-way, every file not yet recorded is spooled
(`GATE_SPOOL_DIR`) for `gate register replay`, and the error says how many and where.
A lone file is read fast (`read_verdict_file(fast=True)`): its findings are first read while
they are recorded, and whatever refuses it is decided again on the file read exactly. Several
files are each read whole first, so that a bad one is refused before any is recorded.
A file is spooled as its text (never parsed whole) once its findings are checked;
`register.spool_replay` records it later as a stream too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from gate.spool import spool_verdict_file
from register.db import open_register, safe_url
from register.errors import DatabaseUnavailableError, RegisterError, RegisterInputError
from register.recording import RecordResult, record_verdict_in
from register.verdict_stream import VerdictFile, exactly_on_refusal, read_verdict_file


def record_files(
    files: Sequence[Path], *, url: str, spool_dir: Path, project: str | None, actor: str,
    echo: Callable[[str], None],
) -> None:
    """Record each file in order, echoing each summary; on an outage spool the rest and raise
    `DatabaseUnavailableError` (exit 2) naming the spool."""
    fast = len(files) == 1
    verdicts = [read_verdict_file(path, fast=fast) for path in files]
    done = 0
    try:
        engine = open_register(url)
        try:
            for verdict in verdicts:
                echo(record_one(engine, verdict, project=project, actor=actor).summary())
                done += 1
        finally:
            engine.dispose()
    except RegisterInputError:
        raise
    except (RegisterError, SQLAlchemyError) as exc:
        # A bad file is refused as when recorded, never spooled.
        unrecorded = [exactly_on_refusal(verdict, checked) for verdict in verdicts[done:]]
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        spooled = [_spool(verdict, spool_dir=spool_dir, url=url, reason=reason)
                   for verdict in unrecorded]
        where = ", ".join(sorted({str(path.parent) for path in spooled}))
        raise DatabaseUnavailableError(
            f"{reason}; {len(spooled)} run(s) not recorded were spooled to {where} "
            "(record them with `gate register replay`)"
        ) from exc


def record_one(
    engine: Engine, verdict: VerdictFile, *, project: str | None, actor: str
) -> RecordResult:
    """Record one verdict file as a stream (the exact read decides a refusal)."""

    def record(read: VerdictFile) -> RecordResult:
        return record_verdict_in(
            engine, read.header, findings=read.findings, project=project, actor=actor,
            may_hold_nul=read.may_hold_nul,
        )

    return exactly_on_refusal(verdict, record)


def checked(verdict: VerdictFile) -> VerdictFile:
    """`verdict` once each of its findings is read valid."""
    for _ in verdict.findings():
        pass
    return verdict


def _spool(verdict: VerdictFile, *, spool_dir: Path, url: str, reason: str) -> Path:
    return spool_verdict_file(verdict.path, run_id=verdict.header.run_id, spool_dir=spool_dir,
                              destination=safe_url(url), kind="database", reason=reason)
