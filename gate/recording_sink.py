"""Record a verdict in the local register, or spool it when the database cannot take it.

The one place in `gate` that imports `register`. A database that is down, locked, read-only
or out of date never changes the gate's exit code: the run goes to the spool and
`gate register replay` records it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gate.models import Verdict
from gate.spool import spool_verdict


@dataclass(frozen=True, kw_only=True)
class RecordOutcome:
    """Recorded (with the register's summary) or spooled (with the file and the reason)."""

    recorded: bool
    message: str
    spooled_to: Path | None = None


def record_verdict(
    verdict: Verdict, *, database_url: str | None, spool_dir: Path, actor: str = "gate"
) -> RecordOutcome:
    """Try to record `verdict`; on a database failure, spool it and say so (never raises)."""
    from sqlalchemy.exc import SQLAlchemyError

    from register.config import load_settings
    from register.db import open_register
    from register.errors import RegisterError
    from register.recording import record_verdict_in

    url = load_settings(database_url=database_url).database_url
    try:
        engine = open_register(url)
        try:
            result = record_verdict_in(engine, verdict, actor=actor)
        finally:
            engine.dispose()
    except (RegisterError, SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        path = spool_verdict(
            verdict,
            spool_dir=spool_dir,
            destination=_destination(url),
            kind="database",
            reason=reason,
        )
        return RecordOutcome(
            recorded=False, spooled_to=path, message=f"not recorded ({reason}); spooled to {path}"
        )
    return RecordOutcome(recorded=True, message=result.summary())


def _destination(url: str) -> str:
    """The database URL without its password, for the spool file."""
    from register.db import safe_url
    from register.errors import RegisterError

    try:
        return safe_url(url)
    except RegisterError:
        return "(unparsable database URL)"
