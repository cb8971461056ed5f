"""`gate register record FILE...`: record verdict files, spooling what a database outage refuses.

Each file is recorded as a stream (header first, then one finding at a time). When the
database is down, out of date or fails mid-way, every file not yet recorded is spooled
(`GATE_SPOOL_DIR`) for `gate register replay`, and the error says how many and where.
A lone file is read fast (`read_verdict_file(fast=True)`): its findings are first read while
they are recorded, and whatever refuses it is decided again on the file read exactly. Several
files are each read whole first, so that a bad one is refused before any is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from gate.safe_input import max_import_bytes, read_regular_file
from gate.spool import spool_verdict
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
                echo(_record_one(engine, verdict, project=project, actor=actor).summary())
                done += 1
        finally:
            engine.dispose()
    except RegisterInputError:
        raise
    except (RegisterError, SQLAlchemyError) as exc:
        for verdict in verdicts[done:]:
            if not verdict.exact:  # a bad file is refused as if read whole first
                read_verdict_file(verdict.path)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        spooled = [_spool(path, spool_dir=spool_dir, url=url, reason=reason)
                   for path in files[done:]]
        where = ", ".join(sorted({str(path.parent) for path in spooled}))
        raise DatabaseUnavailableError(
            f"{reason}; {len(spooled)} run(s) not recorded were spooled to {where} "
            "(record them with `gate register replay`)"
        ) from exc


def _record_one(
    engine: Engine, verdict: VerdictFile, *, project: str | None, actor: str
) -> RecordResult:
    def record(read: VerdictFile) -> RecordResult:
        return record_verdict_in(
            engine, read.header, findings=read.findings, project=project, actor=actor,
            may_hold_nul=read.may_hold_nul,
        )

    return exactly_on_refusal(verdict, record)


def _spool(path: Path, *, spool_dir: Path, url: str, reason: str) -> Path:
    # Imported here: the report formats are only needed on an outage, not to record.
    from gate.report.json_report import load_verdict

    verdict = load_verdict(read_regular_file(path, limit=max_import_bytes()), source=str(path))
    return spool_verdict(verdict, spool_dir=spool_dir, destination=safe_url(url),
                         kind="database", reason=reason)
