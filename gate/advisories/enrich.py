"""Enrichment: add what scanners do not report (severity, CVSS, CWE, KEV, EPSS) to findings.

Pure: findings go in, new frozen findings come out (`model_copy`); nothing is invented.
Severity comes only from advisory records' CVSS vectors or database severities, the best of
the finding's own record and its aliases' records (PYSEC records rarely carry CVSS, their GHSA
aliases usually do); a finding none of whose records rates it stays `unknown`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from gate.advisories.epss import EpssScore, EpssScores
from gate.advisories.index import AdvisoryIndex
from gate.advisories.kev import KevCatalog
from gate.advisories.osv import OsvRecord
from gate.advisories.severity import best_severity
from gate.models import Finding, FindingKind, Severity


def enrich(
    findings: Sequence[Finding],
    *,
    advisories: AdvisoryIndex | None = None,
    kev: KevCatalog | None = None,
    epss: EpssScores | None = None,
) -> list[Finding]:
    """Return the findings with advisory severity/CVSS/CWE, KEV status and EPSS filled in."""
    return [_enrich_one(f, advisories=advisories, kev=kev, epss=epss) for f in findings]


def _enrich_one(
    finding: Finding,
    *,
    advisories: AdvisoryIndex | None,
    kev: KevCatalog | None,
    epss: EpssScores | None,
) -> Finding:
    records = related_records(finding, advisories) if advisories is not None else []
    cves = cve_ids([*finding.ids, *(i for record in records for i in record.ids)])
    update: dict[str, Any] = {}
    if records and finding.kind is FindingKind.DEPENDENCY:
        update.update(_advisory_update(finding, records))
    if kev is not None:
        update.update(_kev_update(cves, kev))
    if epss is not None:
        update.update(_epss_update(cves, epss))
    return finding.model_copy(update=update) if update else finding


def find_record(finding: Finding, advisories: AdvisoryIndex) -> OsvRecord | None:
    """The advisory record for the finding's id, else for the first alias that has one."""
    return next((r for r in map(advisories.get, finding.ids) if r is not None), None)


def related_records(finding: Finding, advisories: AdvisoryIndex) -> list[OsvRecord]:
    """The records naming the finding's ids, then those naming their ids too (one hop).

    A PYSEC finding whose record lists a CVE reaches the GHSA record of the same CVE. The
    finding's own record comes first.
    """
    found = {r.id: r for i in finding.ids for r in advisories.named(i)}
    for record in list(found.values()):
        for alias in record.ids:
            found.update((r.id, r) for r in advisories.named(alias) if r.id not in found)
    return list(found.values())


def records_of(
    advisories: AdvisoryIndex | None,
) -> Callable[[Finding], Sequence[OsvRecord]]:
    """A finding's related records in `advisories` (none without data)."""
    if advisories is None:
        return lambda finding: ()
    return lambda finding: related_records(finding, advisories)


def cve_ids(ids: Iterable[str]) -> tuple[str, ...]:
    """The distinct CVE ids among `ids`, upper case, in order."""
    upper = (i.strip().upper() for i in ids)
    return tuple(dict.fromkeys(i for i in upper if i.startswith("CVE-")))


def _advisory_update(finding: Finding, records: Sequence[OsvRecord]) -> dict[str, Any]:
    """Fill only what the finding lacks: severity when unknown, CVSS, CWE."""
    update: dict[str, Any] = {}
    if finding.severity is Severity.UNKNOWN:
        found = best_severity(records)
        if found.severity is not Severity.UNKNOWN:
            update["severity"] = found.severity
            if finding.cvss_score is None and found.score is not None:
                update["cvss_score"] = found.score
                update["cvss_vector"] = found.vector
    cwe = tuple(dict.fromkeys(c for record in records for c in record.cwe_ids))
    if not finding.cwe and cwe:
        update["cwe"] = cwe
    return update


def _kev_update(cves: tuple[str, ...], kev: KevCatalog) -> dict[str, Any]:
    """Known exploited when any CVE is in KEV; the earliest due date among them."""
    due_dates: list[date] = [kev[cve].due_date for cve in cves if cve in kev]
    if not due_dates:
        return {}
    return {"known_exploited": True, "kev_due_date": min(due_dates)}


def _epss_update(cves: tuple[str, ...], epss: EpssScores) -> dict[str, Any]:
    """The highest EPSS score among the finding's CVEs (with that CVE's percentile)."""
    scores: list[EpssScore] = [epss[cve] for cve in cves if cve in epss]
    if not scores:
        return {}
    best = max(scores, key=lambda score: (score.epss, score.percentile))
    return {"epss": best.epss, "epss_percentile": best.percentile}
