"""Record a verdict in the local register (or spool it), and read its triage decisions.

The one place in `gate` that imports `register`. A database that is down, locked, read-only
or out of date never changes the gate's exit code: the run goes to the spool and
`gate register replay` records it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gate.errors import ConfigError
from gate.gitinfo import committed
from gate.models import TriageDecision, Verdict
from gate.spool import spool_verdict, spooled_where


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
            recorded=False, spooled_to=path,
            message=f"not recorded ({reason}); spooled to {spooled_where(path, spool_dir)}",
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


def read_decisions(*, database_url: str, project: str) -> dict[str, TriageDecision]:
    """The register's decisions for `project` by fingerprint; `DecisionsUnavailableError`
    when the database cannot be reached, read, or is not at the current schema."""
    from sqlalchemy.exc import SQLAlchemyError

    from gate.decisions.interface import DecisionsUnavailableError
    from register.db import open_register, sqlite_file
    from register.decisions import project_decisions
    from register.errors import RegisterError, RegisterInputError

    file = sqlite_file(database_url)
    if file is not None and committed(file):
        raise ConfigError(
            f"register database {file} is tracked by git: a pull request could write the "
            "decisions it reads; keep the register out of the repository (.gitignore) or read "
            "decisions from the service (--register)"
        )
    try:
        engine = open_register(database_url)
        try:
            with engine.connect() as connection:
                return project_decisions(connection, project=project)
        finally:
            engine.dispose()
    except RegisterInputError:
        raise  # a malformed URL is a configuration error (exit 3), not an outage
    except (RegisterError, SQLAlchemyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DecisionsUnavailableError(reason) from exc


def safe_database_label(url: str) -> str:
    """The database URL without its password, for reports."""
    return _destination(url)
