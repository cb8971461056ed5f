"""The CISA Known Exploited Vulnerabilities catalog: which CVEs are exploited in the wild.

Reads the catalog's JSON feed (`known_exploited_vulnerabilities.json`) as published by CISA.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from gate.errors import ConfigError, ReportFormatError
from gate.safe_input import loads_storable


@dataclass(frozen=True, kw_only=True)
class KevEntry:
    """One exploited CVE: when CISA added it, the remediation due date, ransomware use."""

    cve: str
    date_added: date
    due_date: date
    known_ransomware: bool
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class KevCatalog(Mapping[str, KevEntry]):
    """CVE id (upper case) → `KevEntry`, with the catalog's version."""

    entries: Mapping[str, KevEntry]
    catalog_version: str | None = None

    def __getitem__(self, cve: str) -> KevEntry:
        return self.entries[cve.strip().upper()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, cve: object) -> bool:
        return isinstance(cve, str) and cve.strip().upper() in self.entries


def load_kev(path: Path) -> KevCatalog:
    """Load the KEV JSON; `ConfigError` when unreadable, `ReportFormatError` when malformed."""
    data = _read_json(path)
    items = data.get("vulnerabilities") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ReportFormatError(f"{path}: not a KEV catalog (no 'vulnerabilities' list)")
    entries = [_entry(item, index, path) for index, item in enumerate(items)]
    version = data.get("catalogVersion") if isinstance(data, dict) else None
    return KevCatalog(
        entries={entry.cve: entry for entry in entries},
        catalog_version=str(version) if version is not None else None,
    )


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read KEV catalog: {exc}") from exc
    try:
        return loads_storable(text)
    except json.JSONDecodeError as exc:
        where = f"{path}:{exc.lineno}:{exc.colno}"
        raise ReportFormatError(f"{where}: invalid JSON: {exc.msg}") from exc


def _entry(item: object, index: int, path: Path) -> KevEntry:
    where = f"{path}: vulnerabilities[{index}]"
    if not isinstance(item, dict):
        raise ReportFormatError(f"{where} is not an object")
    cve = item.get("cveID")
    if not isinstance(cve, str) or not cve.strip().upper().startswith("CVE-"):
        raise ReportFormatError(f"{where} has no valid 'cveID'")
    return KevEntry(
        cve=cve.strip().upper(),
        date_added=_date(item.get("dateAdded"), "dateAdded", f"{where} ({cve})"),
        due_date=_date(item.get("dueDate"), "dueDate", f"{where} ({cve})"),
        known_ransomware=str(item.get("knownRansomwareCampaignUse", "")).lower() == "known",
        name=str(item.get("vulnerabilityName", "")),
    )


def _date(value: object, key: str, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ReportFormatError(f"{where}: '{key}' is not a YYYY-MM-DD date: {value!r}") from exc
