"""A run's advisory records: offline data, else online lookup; the verdict says what is missing.

End to end through `gate scan` with real pip-audit against a loopback OSV API that serves the
hand-written alias fixtures (PYSEC records without severity, GHSA records with CVSS v3/v4).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gate.advisories.enrich import enrich
from gate.advisories.index import open_advisories
from gate.advisories.lookup import advisory_records, lookup_ids
from gate.advisories.notes import with_advisory_note
from gate.advisories.online import LookupSettings
from gate.advisories.server import serve_advisories
from gate.cli import cli
from gate.fingerprint import dependency_fingerprint
from gate.models import (
    Action,
    AdvisoryData,
    Decision,
    EvaluatedFinding,
    Finding,
    FindingKind,
    Location,
    Severity,
    Verdict,
)
from tests.conftest import FIXTURES
from tests.gate.advisories.osv_service import closed_port_url

ALIASES = FIXTURES / "advisories" / "aliases"
NOT_AUDITED = "riskgate-dependency-not-audited"


def dependency(rule_id: str, *aliases: str) -> Finding:
    return Finding(
        kind=FindingKind.DEPENDENCY, scanner="pip-audit", rule_id=rule_id, title=rule_id,
        aliases=aliases, location=Location(package="alias-pkg", version="1.2.0"),
        fingerprint=dependency_fingerprint(package="alias-pkg", advisory_ids=[rule_id, *aliases]),
    )


def test_lookup_ids_skip_findings_that_name_no_advisory() -> None:
    findings = [dependency("PYSEC-2099-1", "CVE-2099-0201"), dependency(NOT_AUDITED),
                dependency("PYSEC-2099-2", "CVE-2099-0201")]
    assert lookup_ids(findings) == ["PYSEC-2099-1", "CVE-2099-0201", "PYSEC-2099-2"]


def test_offline_data_wins_and_nothing_is_asked() -> None:
    offline = open_advisories(ALIASES)
    settings = LookupSettings(base_url=closed_port_url())
    index, data = advisory_records(
        [dependency("PYSEC-2099-1")], offline=offline,
        offline_source=AdvisoryData(kind="offline", location="x"), settings=settings,
    )
    assert index is offline
    assert data == AdvisoryData(kind="offline", location="x", records=len(offline))


def test_online_records_rate_what_pip_audit_left_unknown(tmp_path: Path) -> None:
    findings = [dependency("PYSEC-2099-1", "CVE-2099-0201"),
                dependency("PYSEC-2099-2", "CVE-2099-0202", "GHSA-fx02-cccc-dddd"),
                dependency("PYSEC-2099-3", "CVE-2099-0203")]
    with serve_advisories(open_advisories(ALIASES)) as url:
        settings = LookupSettings(base_url=url.removesuffix("/v1/query"), cache_dir=tmp_path)
        index, data = advisory_records(findings, offline=None, settings=settings)
    rated = {f.rule_id: f for f in enrich(findings, advisories=index)}
    assert rated["PYSEC-2099-1"].severity is Severity.HIGH
    assert rated["PYSEC-2099-1"].cvss_score == 7.5
    assert rated["PYSEC-2099-2"].severity is Severity.CRITICAL  # CVSS v4 only
    assert rated["PYSEC-2099-3"].severity is Severity.UNKNOWN  # truly unrated
    assert data.kind == "osv-api" and data.unresolved == () and data.note is None
    assert data.records == 5


def test_unreachable_osv_keeps_unknown_and_turns_a_pass_into_a_warning() -> None:
    finding = dependency("PYSEC-2099-1", "CVE-2099-0201")
    settings = LookupSettings(base_url=closed_port_url(), retries=0)
    index, data = advisory_records([finding], offline=None, settings=settings)
    assert enrich([finding], advisories=index)[0].severity is Severity.UNKNOWN
    verdict = Verdict(decision=Decision.PASS, findings=(
        EvaluatedFinding(finding=finding, action=Action.PASS, reason="no rule matched"),))
    noted = with_advisory_note(verdict, data)
    assert noted.decision is Decision.WARN
    assert noted.advisories is not None and noted.advisories.unresolved == data.unresolved
    assert noted.advisories.age_days == 0 and not noted.advisories.stale
    assert data.unresolved == ("CVE-2099-0201", "PYSEC-2099-1")
    (reason,) = noted.reasons
    assert "OSV unreachable" in reason and "unknown severity" in reason
    assert "1 dependency findings" in reason


def test_a_blocked_run_stays_blocked_and_a_rated_finding_needs_no_note() -> None:
    finding = dependency("PYSEC-2099-1").model_copy(update={"severity": Severity.HIGH})
    data = AdvisoryData(kind="osv-api", unresolved=("PYSEC-2099-1",), note="x")
    verdict = Verdict(decision=Decision.BLOCK, findings=(
        EvaluatedFinding(finding=finding, action=Action.BLOCK, reason="blocked"),))
    noted = with_advisory_note(verdict, data)
    assert noted.decision is Decision.BLOCK and noted.reasons == ()


def write_project(tmp_path: Path) -> Path:
    project = tmp_path / "app"
    project.mkdir()
    (project / "requirements.txt").write_text("alias-pkg==1.2.0\n", encoding="utf-8")
    return project


def test_gate_scan_looks_up_severity_online(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path)
    out = tmp_path / "verdict.json"
    with serve_advisories(open_advisories(ALIASES)) as url:
        monkeypatch.setenv("GATE_OSV_URL", url.removesuffix("/v1/query"))
        result = CliRunner().invoke(cli, [
            "scan", str(project), "--scanner", "pip-audit", "--json", str(out), "--no-progress",
        ], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    verdict = json.loads(out.read_text(encoding="utf-8"))
    severity = {f["finding"]["rule_id"]: f["finding"]["severity"] for f in verdict["findings"]}
    assert severity == {"PYSEC-2099-1": "high", "PYSEC-2099-2": "critical",
                        "PYSEC-2099-3": "unknown"}
    reasons = {f["finding"]["rule_id"]: f["reason"] for f in verdict["findings"]}
    assert "unknown severity" in reasons["PYSEC-2099-3"]
    assert "unknown severity" not in reasons["PYSEC-2099-1"]
    assert verdict["advisories"]["kind"] == "osv-api"
    assert verdict["advisories"]["unresolved"] == []


def test_gate_scan_without_osv_warns_instead_of_passing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nname: lenient\nunknown_severity: low\n", encoding="utf-8")
    monkeypatch.setenv("GATE_OSV_URL", closed_port_url())
    out = tmp_path / "verdict.json"
    result = CliRunner().invoke(cli, [
        "scan", str(tmp_path), "--policy", str(policy), "--no-progress", "--json", str(out),
        "--import", str(FIXTURES / "pip-audit" / "vulnerable-app.json"),
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    verdict = json.loads(out.read_text(encoding="utf-8"))
    assert verdict["decision"] == "warn"
    assert any("OSV unreachable" in reason for reason in verdict["reasons"])
    assert "advisory lookup failed" in result.output


def test_reports_say_where_the_advisories_came_from_and_their_age() -> None:
    from gate.report.markdown import render_markdown
    from gate.report.text import render_text

    data = AdvisoryData(kind="synced", location="/c/osv-pypi.zip", age_days=9.5, stale=True)
    verdict = Verdict(decision=Decision.WARN, advisories=data)
    assert "Advisories: synced copy /c/osv-pypi.zip, 9.5 days old (stale)" in render_text(
        verdict, color=False)
    assert "- Advisories: synced copy" in render_markdown(verdict)
    online = AdvisoryData(kind="osv-api", location="https://api.osv.dev", records=4,
                          looked_up=6, from_cache=2, unresolved=("X",))
    text = render_text(Verdict(decision=Decision.PASS, advisories=online), color=False, width=200)
    assert "looked up at https://api.osv.dev, 4 records for 6 ids (2 cached); 1 not fetched" in text
