"""Uploaded run times are a CI runner's claim: accept them only near the register's clock.

A verdict dated far in the future would fix every entry that later, genuine runs then fail to
reopen (their time is earlier); one dated decades ago would open entries overdue since then.
The register refuses both with one line naming the field, and records the rest no later than
it received them (`record_findings(received_at=...)`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gate.models import Verdict
from register.config import Settings
from register.errors import RegisterInputError

TIME_FIELDS = ("started_at", "finished_at")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_run_times(header: Verdict, *, now: datetime, settings: Settings) -> None:
    """Refuse (422) a run time past the allowed clock skew, too old, or finished before start."""
    skew = timedelta(seconds=settings.max_clock_skew_seconds)
    oldest = now - timedelta(days=settings.max_run_age_days)
    for name in TIME_FIELDS:
        value = _aware(getattr(header, name))
        if value > now + skew:
            raise RegisterInputError(
                f"{name} {value.isoformat()} is in the future: more than "
                f"{settings.max_clock_skew_seconds} s after the register's clock "
                f"({now.isoformat(timespec='seconds')}; GATE_MAX_CLOCK_SKEW_SECONDS)"
            )
        if value < oldest:
            raise RegisterInputError(
                f"{name} {value.isoformat()} is older than {settings.max_run_age_days} days "
                "(GATE_MAX_RUN_AGE_DAYS)"
            )
    if _aware(header.finished_at) < _aware(header.started_at):
        raise RegisterInputError("finished_at is before started_at")
