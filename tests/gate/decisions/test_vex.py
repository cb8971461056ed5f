"""OpenVEX files as decisions: statuses, product and vulnerability matching, bad files."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gate.cli import cli
from gate.decisions.interface import Decisions
from gate.decisions.vex import VexError, VexSource, read_vex
from gate.models import TriageStatus
from tests.conftest import REPO_ROOT
from tests.gate.policy.helpers import dependency

ADVISORIES = REPO_ROOT / "examples" / "advisories"


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
            "author": "sec team", "timestamp": "2026-05-01T00:00:00Z", "version": 1,
            "statements": list(statements)}


def statement(status: str, *, product: str = "pkg:pypi/Jinja2@1.0", **extra: Any) -> dict[str, Any]:
    return {"vulnerability": {"name": "CVE-2020-28493", "aliases": ["GHSA-g3rq-g295-4j3m"]},
            "products": [{"@id": product}], "status": status, **extra}


def write(tmp_path: Path, body: Any) -> Path:
    path = tmp_path / "doc.vex.json"
    path.write_text(json.dumps(body) if not isinstance(body, str) else body)
    return path


def test_statuses_become_decisions(tmp_path: Path) -> None:
    path = write(tmp_path, document(
        statement("not_affected", justification="vulnerable_code_not_present"),
        statement("affected", product="pkg:pypi/requests",
                  action_statement="Risk accepted until 2026-07-01 (approved by ciso): later"),
        statement("affected", product="pkg:pypi/flask", action_statement="upgrade soon"),
        statement("under_investigation", product="pkg:pypi/pyyaml"),
        statement("fixed", product="pkg:npm/left-pad@1.0"),
    ))
    found = read_vex(path, source="VEX file doc")
    assert [(d.package, d.version, d.decision.status, d.decision.until) for d in found] == [
        ("Jinja2", "1.0", TriageStatus.FALSE_POSITIVE, None),
        ("requests", None, TriageStatus.ACCEPTED, date(2026, 7, 1)),
        ("flask", None, TriageStatus.ACCEPTED, None),
    ]
    assert found[0].decision.reason == "not_affected, vulnerable_code_not_present"


def test_matching_by_normalised_package_version_and_any_alias(tmp_path: Path) -> None:
    path = write(tmp_path, document(statement(
        "not_affected", product="pkg:oci/app?tag=1",
        impact_statement="only in the CLI", subcomponents=[]) | {
        "products": [{"@id": "pkg:oci/app", "subcomponents": [
            {"@id": "x", "identifiers": {"purl": "pkg:pypi/jinja_2@1.0"}}]}]}))
    decisions = VexSource(path=path).decisions("any")
    by_alias = dependency("PYSEC-2021-66", package="Jinja-2", aliases=("GHSA-G3RQ-G295-4J3M",))
    assert decisions.for_finding(by_alias) is not None
    assert decisions.for_finding(dependency("PYSEC-2021-66", package="jinja-2")) is None
    other_version = by_alias.model_copy(
        update={"location": by_alias.location.model_copy(update={"version": "2.0"})})
    assert decisions.for_finding(other_version) is None
    assert Decisions().for_finding(by_alias) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "not JSON"),
        ({"statements": []}, "not an OpenVEX document"),
        (document(statement("maybe")), "statement 1: status must be one of"),
        (document(statement("not_affected")), "statement 1: not_affected needs a justification"),
        (document(statement("not_affected", justification="trust me")),
         "statement 1: unknown justification 'trust me'"),
        (document(statement("affected")), "statement 1: affected needs an action_statement"),
        (document(statement("fixed") | {"products": []}), "products must be a non-empty list"),
        (document(statement("fixed") | {"vulnerability": {}}), "vulnerability must name an id"),
    ],
)
def test_a_bad_file_is_one_line_naming_file_and_statement(
    tmp_path: Path, body: Any, message: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(VexError, match=message) as caught:
        read_vex(path, source="x")
    assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)


def test_gate_scan_with_a_bad_vex_file_exits_3(tmp_path: Path) -> None:
    path = write(tmp_path, document(statement("maybe")))
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--vex", str(path),
                                      "--import", str(path), "--no-progress"])
    missing = CliRunner().invoke(cli, ["scan", str(tmp_path), "--vex", str(tmp_path / "no"),
                                       "--import", str(path), "--no-progress"])
    assert result.exit_code == 3 and missing.exit_code == 3
    assert "statement 1: status must be one of" in result.output
    assert "cannot read VEX file" in missing.output


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    *args], check=True, capture_output=True, timeout=60)


def _vouching(path: Path) -> None:
    """A VEX file saying jinja2 2.10 is not affected by either of its advisories."""
    path.write_text(json.dumps(document(*(
        {"vulnerability": {"name": cve}, "products": [{"@id": "pkg:pypi/jinja2@2.10"}],
         "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}
        for cve in ("CVE-2019-10906", "CVE-2020-28493")))))


@pytest.mark.parametrize("vex_at_baseline", [False, True])
def test_on_a_pull_request_a_vex_file_of_the_tree_is_read_at_the_baseline(
    tmp_path: Path, vex_at_baseline: bool
) -> None:
    """A change that adds a vulnerable pin and a VEX file vouching for it is still blocked; a
    VEX statement the baseline already had applies."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("click==8.1.7\n")
    vex = repo / "security.vex.json"
    if vex_at_baseline:
        _vouching(vex)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    (repo / "requirements.txt").write_text("click==8.1.7\njinja2==2.10\n")
    _vouching(vex)
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "a vulnerable pin, vouched for")
    out = tmp_path / "v.json"
    result = CliRunner().invoke(cli, [
        "scan", str(repo), "--scanner", "pip-audit", "--baseline", "HEAD~1", "--vex", str(vex),
        "--advisories", str(ADVISORIES), "--json", str(out), "--no-progress"])
    verdict = json.loads(out.read_text())
    actions = sorted(item["action"] for item in verdict["findings"])
    if vex_at_baseline:
        assert result.exit_code == 0 and actions == ["ignore", "ignore"], result.output
    else:
        assert result.exit_code == 1 and actions == ["block", "block"], result.output
    (note,) = verdict["decision_sources"]
    assert note["source"] == f"VEX file {vex} at HEAD~1"
    assert note["count"] == (2 if vex_at_baseline else 0)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_fifo_given_as_a_vex_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "doc.vex.json"
    os.mkfifo(fifo)
    with pytest.raises(VexError, match="cannot read VEX file: not a regular file"):
        read_vex(fifo, source="t")


def test_on_a_pull_request_a_vex_file_outside_the_tree_is_read_as_it_is(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("click==8.1.7\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    (repo / "requirements.txt").write_text("click==8.1.7\njinja2==2.10\n")
    _git(repo, "commit", "-qam", "a vulnerable pin")
    vex = tmp_path / "central.vex.json"  # the pipeline's own file, not the change's
    _vouching(vex)
    out = tmp_path / "v.json"
    result = CliRunner().invoke(cli, [
        "scan", str(repo), "--scanner", "pip-audit", "--baseline", "HEAD~1", "--vex", str(vex),
        "--advisories", str(ADVISORIES), "--json", str(out), "--no-progress"])
    verdict = json.loads(out.read_text())
    assert result.exit_code == 0, result.output
    (note,) = verdict["decision_sources"]
    assert note["source"] == f"VEX file {vex}" and note["count"] == 2
