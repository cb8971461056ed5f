"""Enrichment of findings with advisory severity, CVSS, CWE, KEV and EPSS."""

from __future__ import annotations

from datetime import date

import pytest

from gate.advisories.enrich import enrich
from gate.advisories.epss import EpssScores, load_epss
from gate.advisories.kev import KevCatalog, load_kev
from gate.advisories.osv import MemoryIndex, load_advisory_dir
from gate.fingerprint import dependency_fingerprint
from gate.models import Finding, FindingKind, Location, Severity
from gate.scanners.pip_audit import parse_pip_audit
from tests.conftest import FIXTURES, REPO_ROOT


@pytest.fixture(scope="module")
def advisories() -> MemoryIndex:
    return load_advisory_dir(REPO_ROOT / "examples" / "advisories")


@pytest.fixture(scope="module")
def kev() -> KevCatalog:
    return load_kev(REPO_ROOT / "examples" / "kev" / "known_exploited_vulnerabilities.json")


@pytest.fixture(scope="module")
def epss() -> EpssScores:
    return load_epss(FIXTURES / "epss" / "epss_scores-sample.csv")


@pytest.fixture(scope="module")
def scanned() -> list[Finding]:
    raw = (FIXTURES / "pip-audit" / "vulnerable-app.json").read_bytes()
    return parse_pip_audit(raw, root=REPO_ROOT, manifest="requirements.txt")


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id: f for f in findings}


def dependency(rule_id: str, *aliases: str, severity: Severity = Severity.UNKNOWN) -> Finding:
    return Finding(
        kind=FindingKind.DEPENDENCY, scanner="pip-audit", rule_id=rule_id, title=rule_id,
        severity=severity, aliases=aliases,
        fingerprint=dependency_fingerprint(package="pkg", advisory_ids=[rule_id, *aliases]),
        location=Location(package="pkg", version="1.0"),
    )


def test_kev_marks_the_salt_clearfuncs_findings(
    scanned: list[Finding], advisories: MemoryIndex, kev: KevCatalog
) -> None:
    found = by_id(enrich(scanned, advisories=advisories, kev=kev))
    salt = found["PYSEC-2020-102"]  # CVE-2020-11651
    assert salt.known_exploited is True
    assert salt.kev_due_date == date(2022, 5, 3)
    assert found["PYSEC-2020-103"].known_exploited is True  # CVE-2020-11652
    assert found["PYSEC-2019-217"].known_exploited is False  # jinja2
    assert sum(f.known_exploited for f in found.values()) == 3


def test_severity_comes_only_from_records_that_have_one(
    scanned: list[Finding], advisories: MemoryIndex
) -> None:
    found = by_id(enrich(scanned, advisories=advisories))
    medium = found["PYSEC-2023-166"]
    assert (medium.severity, medium.cvss_score) == (Severity.MEDIUM, 5.3)
    assert medium.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"
    assert found["PYSEC-2023-169"].severity is Severity.HIGH
    unknown = [f for f in found.values() if f.severity is Severity.UNKNOWN]
    assert len(unknown) == len(found) - 2
    assert all(f.cvss_score is None for f in unknown)


def test_epss_is_the_maximum_over_the_findings_cves(epss: EpssScores) -> None:
    finding = dependency("PYSEC-X", "CVE-2020-11651", "CVE-2020-16846", "GHSA-none")
    (enriched,) = enrich([finding], epss=epss)
    assert enriched.epss == pytest.approx(0.97514)  # CVE-2020-16846 beats CVE-2020-11651
    assert enriched.epss_percentile == pytest.approx(0.99995)


def test_epss_found_through_an_alias_of_a_real_finding(
    scanned: list[Finding], epss: EpssScores
) -> None:
    found = by_id(enrich(scanned, epss=epss))
    assert found["PYSEC-2019-217"].epss == pytest.approx(0.00367)  # alias CVE-2019-10906
    assert found["PYSEC-2021-66"].epss is None  # no score for its CVE in the sample


def test_records_are_found_by_alias_and_cwe_is_filled() -> None:
    demo = load_advisory_dir(FIXTURES / "advisories" / "osv")
    (enriched,) = enrich([dependency("CVE-2099-0101")], advisories=demo)  # GHSA-demo-0001
    assert enriched.severity is Severity.MEDIUM
    assert enriched.cwe == ("CWE-79",)
    assert enriched.cvss_score is None


def test_a_known_severity_is_never_overwritten(advisories: MemoryIndex) -> None:
    finding = dependency("PYSEC-2023-166", severity=Severity.CRITICAL)
    (enriched,) = enrich([finding], advisories=advisories)
    assert enriched.severity is Severity.CRITICAL
    assert enriched.cvss_score is None


def test_code_findings_get_kev_but_not_advisory_severity(
    advisories: MemoryIndex, kev: KevCatalog
) -> None:
    code = Finding(kind=FindingKind.CODE, scanner="semgrep", rule_id="CVE-2020-11651",
                   title="t", fingerprint="f" * 32)
    (enriched,) = enrich([code], advisories=advisories, kev=kev)
    assert enriched.known_exploited is True
    assert enriched.severity is Severity.UNKNOWN


def test_enrich_is_pure(scanned: list[Finding], advisories: MemoryIndex, kev: KevCatalog) -> None:
    before = [f.model_dump() for f in scanned]
    enriched = enrich(scanned, advisories=advisories, kev=kev)
    assert [f.model_dump() for f in scanned] == before
    assert len(enriched) == len(scanned)
    assert [f.fingerprint for f in enriched] == [f.fingerprint for f in scanned]
    assert enrich(scanned) == scanned


@pytest.fixture(scope="module")
def aliased() -> MemoryIndex:
    return load_advisory_dir(FIXTURES / "advisories" / "aliases")


def pysec(rule_id: str, *aliases: str) -> Finding:
    return dependency(rule_id, *aliases).model_copy(
        update={"location": Location(package="alias-pkg", version="1.2")}
    )


def test_severity_comes_from_a_ghsa_record_sharing_the_cve(aliased: MemoryIndex) -> None:
    (found,) = enrich([pysec("PYSEC-2099-1", "CVE-2099-0201")], advisories=aliased)
    assert (found.severity, found.cvss_score) == (Severity.HIGH, 7.5)
    assert found.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
    assert found.cwe == ("CWE-200",)


def test_severity_reached_through_the_records_own_aliases(aliased: MemoryIndex) -> None:
    # pip-audit may report only the PYSEC id: the record's aliases lead to the GHSA record.
    (found,) = enrich([pysec("PYSEC-2099-2")], advisories=aliased)
    assert (found.severity, found.cvss_score) == (Severity.CRITICAL, 9.3)
    assert found.cvss_vector is not None and found.cvss_vector.startswith("CVSS:4.0/")


def test_a_flaw_no_record_rates_stays_unknown(aliased: MemoryIndex) -> None:
    (found,) = enrich([pysec("PYSEC-2099-3", "CVE-2099-0203")], advisories=aliased)
    assert found.severity is Severity.UNKNOWN and found.cvss_score is None
