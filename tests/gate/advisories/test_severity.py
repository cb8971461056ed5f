"""Severity from OSV records: CVSS vectors, the database's word, or unknown (never invented)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.advisories.osv import (
    MemoryIndex,
    OsvRecord,
    OsvSeverity,
    load_advisory_dir,
    record_from_mapping,
)
from gate.advisories.severity import cvss_base_score, record_severity, severity_band
from gate.models import Severity
from tests.conftest import FIXTURES, REPO_ROOT

SOURCE = Path("inline.yaml")


def record(index: MemoryIndex, record_id: str) -> OsvRecord:
    found = index.get(record_id)
    assert found is not None, record_id
    return found


@pytest.fixture(scope="module")
def pypa() -> MemoryIndex:
    return load_advisory_dir(REPO_ROOT / "examples" / "advisories")


@pytest.fixture(scope="module")
def demo() -> MemoryIndex:
    return load_advisory_dir(FIXTURES / "advisories" / "osv")


@pytest.mark.parametrize(
    ("record_id", "severity", "score"),
    [
        ("PYSEC-2023-166", Severity.MEDIUM, 5.3),  # CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L
        ("PYSEC-2023-169", Severity.HIGH, 7.8),  # CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:H/A:H
    ],
)
def test_cvss_v3_vectors_of_real_records(
    pypa: MemoryIndex, record_id: str, severity: Severity, score: float
) -> None:
    found = record_severity(record(pypa, record_id))
    assert (found.severity, found.score, found.source) == (severity, score, "cvss_v3")
    assert found.vector is not None
    assert found.vector.startswith("CVSS:3.1/")


def test_record_without_any_severity_stays_unknown(pypa: MemoryIndex) -> None:
    found = record_severity(record(pypa, "PYSEC-2020-102"))  # salt ClearFuncs, no vector
    assert found.severity is Severity.UNKNOWN
    assert found.score is None


def test_ghsa_word_is_used_when_there_is_no_vector(demo: MemoryIndex) -> None:
    found = record_severity(record(demo, "GHSA-demo-0001"))  # database_specific: MODERATE
    assert (found.severity, found.score) == (Severity.MEDIUM, None)
    assert found.source == "database_specific"


def test_cvss_v4_wins_over_v3_and_over_the_word(demo: MemoryIndex) -> None:
    found = record_severity(record(demo, "GHSA-demo-0002"))
    assert (found.severity, found.score, found.source) == (Severity.CRITICAL, 9.3, "cvss_v4")


@pytest.mark.parametrize(
    ("word", "expected"),
    [("CRITICAL", Severity.CRITICAL), ("HIGH", Severity.HIGH), ("moderate", Severity.MEDIUM),
     ("LOW", Severity.LOW), ("SEVERE", Severity.UNKNOWN)],
)
def test_database_words(word: str, expected: Severity) -> None:
    data = {"id": "X", "database_specific": {"severity": word}}
    assert record_severity(record_from_mapping(data, source=SOURCE)).severity is expected


def test_a_broken_vector_falls_back_rather_than_inventing() -> None:
    data = {
        "id": "X",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/garbage"}],
        "database_specific": {"severity": "LOW"},
    }
    found = record_severity(record_from_mapping(data, source=SOURCE))
    assert (found.severity, found.score) == (Severity.LOW, None)
    data.pop("database_specific")
    assert record_severity(record_from_mapping(data, source=SOURCE)).severity is Severity.UNKNOWN


def test_other_severity_types_are_not_scored() -> None:
    assert cvss_base_score(OsvSeverity(type="Ubuntu", score="high")) is None
    assert cvss_base_score(OsvSeverity(type="CVSS_V2", score="AV:N/AC:L/Au:N/C:P/I:P/A:P")) is None


@pytest.mark.parametrize(
    ("score", "band"),
    [(0.0, Severity.INFO), (0.1, Severity.LOW), (3.9, Severity.LOW), (4.0, Severity.MEDIUM),
     (6.9, Severity.MEDIUM), (7.0, Severity.HIGH), (8.9, Severity.HIGH), (9.0, Severity.CRITICAL),
     (10.0, Severity.CRITICAL)],
)
def test_cvss_bands(score: float, band: Severity) -> None:
    assert severity_band(score) is band
