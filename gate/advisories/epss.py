"""EPSS scores (FIRST.org): the probability that a CVE is exploited in the next 30 days.

Reads the daily CSV as published (optionally gzipped): a `#model_version:...,score_date:...`
comment line, then the header `cve,epss,percentile`, then one row per CVE.
"""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from gate.errors import ConfigError, ReportFormatError

HEADER = ["cve", "epss", "percentile"]


@dataclass(frozen=True, kw_only=True)
class EpssScore:
    """A CVE's exploitation probability and its percentile among all scored CVEs (0-1)."""

    epss: float
    percentile: float


@dataclass(frozen=True, kw_only=True)
class EpssScores(Mapping[str, EpssScore]):
    """CVE id (upper case) → `EpssScore`, with the model version and score date of the file."""

    scores: Mapping[str, EpssScore]
    model_version: str | None = None
    score_date: str | None = None

    def __getitem__(self, cve: str) -> EpssScore:
        return self.scores[cve.strip().upper()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scores)

    def __len__(self) -> int:
        return len(self.scores)

    def __contains__(self, cve: object) -> bool:
        return isinstance(cve, str) and cve.strip().upper() in self.scores


def load_epss(path: Path) -> EpssScores:
    """Load an EPSS CSV (or .csv.gz); errors read `file:line: problem`."""
    lines = _read_lines(path)
    metadata: dict[str, str] = {}
    start = 0
    if lines and lines[0].startswith("#"):
        metadata = _metadata(lines[0])
        start = 1
    rows = csv.reader(lines[start:])
    header = next(rows, None)
    if header is None or [cell.strip().lower() for cell in header] != HEADER:
        raise ReportFormatError(f"{path}:{start + 1}: expected the header 'cve,epss,percentile'")
    scores = {}
    for offset, row in enumerate(rows, start=start + 2):
        if row:
            cve, score = _row(row, f"{path}:{offset}")
            scores[cve] = score
    return EpssScores(
        scores=scores,
        model_version=metadata.get("model_version"),
        score_date=metadata.get("score_date"),
    )


def _read_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8-sig").splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read EPSS scores: {exc}") from exc


def _metadata(line: str) -> dict[str, str]:
    pairs = (item.split(":", 1) for item in line.lstrip("#").split(",") if ":" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def _row(row: list[str], where: str) -> tuple[str, EpssScore]:
    if len(row) != len(HEADER):
        raise ReportFormatError(f"{where}: expected 3 columns cve,epss,percentile, got {len(row)}")
    cve = row[0].strip().upper()
    if not cve.startswith("CVE-"):
        raise ReportFormatError(f"{where}: not a CVE id: {row[0]!r}")
    return cve, EpssScore(
        epss=_probability(row[1], "epss", where),
        percentile=_probability(row[2], "percentile", where),
    )


def _probability(text: str, column: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise ReportFormatError(f"{where}: {column} is not a number: {text!r}") from exc
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise ReportFormatError(f"{where}: {column} must be between 0 and 1: {text!r}")
    return value
