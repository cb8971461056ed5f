"""Severity of an OSV record: from its CVSS vector, else the database's own word, else unknown.

CVSS math is the `cvss` library's; we only map a base score to the qualitative band of the
CVSS specification. No source, no severity: we never invent one. One flaw often has several
records (a PYSEC record without CVSS, its GHSA alias with a vector): `best_severity` takes the
best-founded assessment among them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cvss import CVSS3, CVSS4, CVSSError  # type: ignore[import-untyped]

from gate.advisories.osv import OsvRecord, OsvSeverity
from gate.models import Severity

# Newest CVSS version first: the most recent assessment the advisory's author made.
_CVSS_TYPES = ("CVSS_V4", "CVSS_V3")

_DATABASE_WORDS = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}


@dataclass(frozen=True, kw_only=True)
class AdvisorySeverity:
    """A severity with the CVSS base score and vector it came from, when it came from one."""

    severity: Severity
    score: float | None = None
    vector: str | None = None
    source: str = "none"


UNKNOWN = AdvisorySeverity(severity=Severity.UNKNOWN)


def severity_band(score: float) -> Severity:
    """The CVSS qualitative band: 0 info, <4 low, <7 medium, <9 high, else critical."""
    if score <= 0:
        return Severity.INFO
    if score < 4:
        return Severity.LOW
    if score < 7:
        return Severity.MEDIUM
    if score < 9:
        return Severity.HIGH
    return Severity.CRITICAL


def cvss_base_score(entry: OsvSeverity) -> float | None:
    """The base score of a `CVSS_V3`/`CVSS_V4` entry; None for other types or bad vectors."""
    calculator: Any = {"CVSS_V3": CVSS3, "CVSS_V4": CVSS4}.get(entry.type.upper())
    if calculator is None or not entry.score:
        return None
    try:
        return float(calculator(entry.score.strip()).base_score)
    except (CVSSError, ValueError, KeyError):
        return None


def record_severity(record: OsvRecord) -> AdvisorySeverity:
    """CVSS v4, then v3 base score → band; else `database_specific.severity`; else unknown."""
    for cvss_type in _CVSS_TYPES:
        for entry in record.severity:
            if entry.type.upper() != cvss_type:
                continue
            score = cvss_base_score(entry)
            if score is not None:
                return AdvisorySeverity(
                    severity=severity_band(score),
                    score=score,
                    vector=entry.score.strip(),
                    source=cvss_type.lower(),
                )
    return _database_severity(record)


def best_severity(records: Iterable[OsvRecord]) -> AdvisorySeverity:
    """The best-founded severity among records of one flaw (a record and its aliases' records).

    A CVSS base score beats a database's word, which beats nothing; among several CVSS scores
    the highest wins (the gate errs towards the worse assessment), ties going to the first
    record given (the finding's own).
    """
    found = [record_severity(record) for record in records]
    scored = [item for item in found if item.score is not None]
    if scored:
        return max(scored, key=lambda item: item.score or 0.0)
    worded = [item for item in found if item.severity is not Severity.UNKNOWN]
    return max(worded, key=lambda item: item.severity.rank) if worded else UNKNOWN


def _database_severity(record: OsvRecord) -> AdvisorySeverity:
    word = record.database_specific.get("severity")
    severity = _DATABASE_WORDS.get(word.strip().upper()) if isinstance(word, str) else None
    if severity is None:
        return UNKNOWN
    return AdvisorySeverity(severity=severity, source="database_specific")
