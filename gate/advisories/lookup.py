"""The advisory records of one run: offline data when given, else an online OSV lookup.

Which ids are looked up: every id and alias of each dependency vulnerability (not the
`riskgate-dependency-not-audited` findings, which name no advisory). What came from where,
and what is missing, is an `AdvisoryData` for the verdict (`gate.advisories.notes`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

from gate.advisories.cache import cache_root
from gate.advisories.index import AdvisoryIndex
from gate.advisories.online import OSV_URL_ENV, LookupSettings, OsvLookup, osv_base_url
from gate.advisories.osv import MemoryIndex
from gate.errors import ConfigError
from gate.models import AdvisoryData, Finding
from gate.remediation import is_component_finding

TIMEOUT_ENV = "GATE_OSV_TIMEOUT"


def lookup_ids(findings: Sequence[Finding]) -> list[str]:
    """The distinct advisory ids (and aliases) of the dependency vulnerabilities, in order."""
    return list(dict.fromkeys(i for f in findings if is_component_finding(f) for i in f.ids))


def lookup_settings() -> LookupSettings | None:
    """Settings from the environment (`GATE_OSV_URL`, `GATE_OSV_TIMEOUT`); None when off."""
    base_url = osv_base_url()
    if base_url is None:
        return None
    timeout = _seconds(os.environ.get(TIMEOUT_ENV, "").strip() or "10")
    return LookupSettings(base_url=base_url, timeout_seconds=timeout, cache_dir=cache_root())


def advisory_records(
    findings: Sequence[Finding],
    *,
    offline: AdvisoryIndex | None,
    offline_source: AdvisoryData | None = None,
    settings: LookupSettings | None = None,
) -> tuple[AdvisoryIndex | None, AdvisoryData]:
    """The index enrichment reads and what the verdict says about it.

    Offline data wins when given; otherwise, when there is anything to look up, the records
    of the findings' ids are fetched from OSV (`settings`, default from the environment).
    """
    if offline is not None:
        source = offline_source or AdvisoryData(kind="offline")
        return offline, source.model_copy(update={"records": len(offline)})
    ids = lookup_ids(findings)
    if not ids:
        return None, AdvisoryData()
    settings = settings or lookup_settings()
    if settings is None:
        return None, AdvisoryData(note=f"online advisory lookup is off ({OSV_URL_ENV}=off)")
    result = OsvLookup(settings).lookup(ids)
    note = None
    if result.unresolved:
        note = f"{len(result.unresolved)} of {result.asked} advisory records not fetched: "
        note += result.error or "unknown error"
    elif result.stale:
        note = f"{len(result.stale)} records from an older cached copy (OSV did not answer)"
    data = AdvisoryData(
        kind="osv-api",
        location=settings.base_url,
        as_of=datetime.now(UTC),
        records=len(result.records),
        looked_up=result.asked,
        from_cache=result.from_cache,
        unresolved=result.unresolved,
        note=note,
    )
    return MemoryIndex(result.records), data


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 600:
        raise ConfigError(f"{TIMEOUT_ENV}: expected seconds between 0 and 600, got {text!r}")
    return value
