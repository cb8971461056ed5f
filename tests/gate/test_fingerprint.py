"""Fingerprints identify a risk across runs: stable under reformatting, distinct otherwise."""

from __future__ import annotations

import pytest

from gate.fingerprint import canonical_advisory_id, code_fingerprint, dependency_fingerprint


def test_code_fingerprint_survives_reindenting_and_rewrapping() -> None:
    original = code_fingerprint(
        rule_id="python-sql-injection",
        path="app/db.py",
        matched_code='cursor.execute("SELECT * FROM t WHERE id=" + uid)',
    )
    reformatted = code_fingerprint(
        rule_id="python-sql-injection",
        path="app/db.py",
        matched_code='cursor.execute(\n        "SELECT * FROM t WHERE id="\n        + uid\n    )',
    )
    assert original == reformatted


@pytest.mark.parametrize(
    ("rule_id", "path", "code"),
    [
        ("python-command-injection", "app/db.py", "cursor.execute(q + uid)"),
        ("python-sql-injection", "app/other.py", "cursor.execute(q + uid)"),
        ("python-sql-injection", "app/db.py", "cursor.execute(q + name)"),
    ],
)
def test_code_fingerprint_differs_by_rule_path_or_code(rule_id: str, path: str, code: str) -> None:
    base = code_fingerprint(
        rule_id="python-sql-injection", path="app/db.py", matched_code="cursor.execute(q + uid)"
    )
    assert code_fingerprint(rule_id=rule_id, path=path, matched_code=code) != base


def test_windows_separators_do_not_change_the_fingerprint() -> None:
    posix = code_fingerprint(rule_id="r", path="app/db.py", matched_code="x")
    assert code_fingerprint(rule_id="r", path="app\\db.py", matched_code="x") == posix


def test_dependency_fingerprint_merges_aliases_reported_by_different_sources() -> None:
    from_pysec = dependency_fingerprint(
        package="PyYAML", advisory_ids=["PYSEC-2020-176", "CVE-2020-1747", "GHSA-6757-jp84-gxfx"]
    )
    from_ghsa = dependency_fingerprint(
        package="pyyaml", advisory_ids=["GHSA-6757-jp84-gxfx", "CVE-2020-1747"]
    )
    assert from_pysec == from_ghsa


def test_dependency_fingerprint_differs_by_package() -> None:
    ids = ["CVE-2020-1747"]
    assert dependency_fingerprint(package="pyyaml", advisory_ids=ids) != dependency_fingerprint(
        package="ruamel-yaml", advisory_ids=ids
    )


def test_canonical_id_prefers_cve_then_ghsa() -> None:
    assert canonical_advisory_id(["PYSEC-1", "GHSA-x", "CVE-2"]) == "CVE-2"
    assert canonical_advisory_id(["PYSEC-1", "GHSA-x"]) == "GHSA-X"
    with pytest.raises(ValueError, match="at least one id"):
        canonical_advisory_id([" ", ""])
