"""Every manifest in the tree, in scope: discovery, lock files, one finding per manifest and
version, includes attributed to the file that declares them, unpinned requirements reported,
and a resolution failure that says which manifest and what to do."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gate.errors import ScannerError
from gate.models import Severity
from gate.scanners.interface import ScanTarget
from gate.scanners.lockfiles import read_lock
from gate.scanners.manifests import discover
from gate.scanners.pip_audit import NOT_AUDITED_RULE, PipAuditScanner
from gate.scanners.unpinned import UNPINNED_RULE
from tests.conftest import FIXTURES, REPO_ROOT

BUNDLED = REPO_ROOT / "examples" / "advisories"
POETRY = """
[[package]]
name = "jinja2"
version = "2.10"

[[package]]
name = "internal-lib"
version = "0.1.0"

[package.source]
type = "git"
url = "https://example.com/internal.git"
"""
UV = """
version = 1

[[package]]
name = "worker"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "PyYAML"
version = "5.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "local-tool"
version = "1.0"
source = { directory = "../tool" }
"""
PIPFILE = {
    "_meta": {"hash": {"sha256": "x"}},
    "default": {"requests": {"version": "==2.19.0"}, "mine": {"path": ".", "editable": True}},
    "develop": {"flask": {"version": "==0.12.2"}},
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.fixture()
def real_pip_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATE_PIP_AUDIT_BIN", raising=False)


def test_discovery_walks_the_tree_in_scope(tmp_path: Path) -> None:
    write(tmp_path, {
        "requirements.txt": "jinja2==2.10\n",
        "pyproject.toml": "[project]\nname='app'\nversion='1'\n",  # pinned beside it
        "services/api/requirements-prod.txt": "flask==0.12.2\n",
        "services/worker/pyproject.toml": "[project]\nname='w'\nversion='1'\n",
        "services/worker/uv.lock": UV,
        "libs/core/setup.cfg": "[options]\ninstall_requires =\n    pyyaml==5.3\n",
        "requirements/base.txt": "requests==2.19.0\n",
        "legacy/requirements.txt": "salt==3000\n",
        ".venv/lib/requirements.txt": "x==1\n",
        "env/pyvenv.cfg": "home = /usr\n",
        "env/requirements.txt": "x==1\n",
        "node_modules/pkg/requirements.txt": "x==1\n",
        "vendor/thing/pyproject.toml": "[project]\nname='v'\nversion='1'\n",
    })
    found = discover(ScanTarget(root=tmp_path, exclude=("legacy/",)))
    assert [(m.display, m.is_project) for m in found.manifests] == [
        ("requirements.txt", False),
        ("libs/core/setup.cfg", True),
        ("requirements/base.txt", False),
        ("services/api/requirements-prod.txt", False),
        ("services/worker/uv.lock", False),
    ]
    assert found.coverage is not None and found.coverage.scanned == 5
    reasons = {note.path: note.reason for note in found.coverage.excluded}
    assert reasons["legacy/"] == "excluded by the policy (scope.exclude 'legacy/')"
    assert reasons[".venv/"].startswith("an environment") and reasons["env/"].startswith("an env")
    assert reasons["node_modules/"].startswith("an environment")
    assert reasons["vendor/"].startswith("vendored code")


def test_lock_files_are_exact_pins_and_name_what_they_cannot_audit(tmp_path: Path) -> None:
    write(tmp_path, {"poetry.lock": POETRY, "uv.lock": UV,
                     "Pipfile.lock": json.dumps(PIPFILE)})
    poetry = read_lock(tmp_path / "poetry.lock", display="poetry.lock")
    assert poetry.requirements == ("jinja2==2.10",) and poetry.pinned
    (internal,) = poetry.unaudited
    assert internal.name == "internal-lib" and internal.reason.startswith("git source")
    uv = read_lock(tmp_path / "uv.lock", display="uv.lock")
    assert uv.requirements == ("PyYAML==5.3",)  # the project itself is no dependency
    assert [u.name for u in uv.unaudited] == ["local-tool"]
    pipfile = read_lock(tmp_path / "Pipfile.lock", display="Pipfile.lock")
    assert pipfile.requirements == ("requests==2.19.0", "flask==0.12.2")
    assert [(u.name, u.where) for u in pipfile.unaudited] == [
        ("mine", "Pipfile.lock: default.mine")]
    (tmp_path / "uv.lock").write_text("[[package]\nname=")
    broken = read_lock(tmp_path / "uv.lock", display="uv.lock")
    assert not broken.requirements and broken.unaudited[0].reason.startswith(
        "uv.lock: not a readable uv.lock")


@pytest.mark.usefixtures("real_pip_audit")
def test_one_advisory_in_two_manifests_at_two_versions_is_two_findings(tmp_path: Path) -> None:
    write(tmp_path, {
        "requirements.txt": "jinja2==2.10\n",
        "services/api/requirements.txt": "jinja2==2.11.2\n",
        "services/worker/poetry.lock": POETRY,
    })
    target = ScanTarget(root=tmp_path, advisories_dir=BUNDLED, timeout_seconds=120)
    output = PipAuditScanner().run(target)
    both = [f for f in output.findings if f.rule_id == "PYSEC-2021-66"]
    places = {(f.location.manifest, f.location.version) for f in both}
    assert places == {("requirements.txt", "2.10"), ("services/api/requirements.txt", "2.11.2"),
                      ("services/worker/poetry.lock", "2.10")}
    assert len({f.fingerprint for f in both}) == 3
    not_audited = [f for f in output.findings if f.rule_id == NOT_AUDITED_RULE]
    assert [(f.location.package, f.location.manifest) for f in not_audited] == [
        ("internal-lib", "services/worker/poetry.lock")]
    assert output.coverage is not None and output.coverage.scanned == 3


@pytest.mark.usefixtures("real_pip_audit")
def test_an_included_file_owns_its_findings_once(tmp_path: Path) -> None:
    write(tmp_path, {
        "requirements/base.txt": "jinja2==2.10\n",
        "requirements/dev.txt": "-r base.txt\npyyaml==5.3\n",
    })
    target = ScanTarget(root=tmp_path, advisories_dir=BUNDLED, timeout_seconds=120)
    findings = PipAuditScanner().run(target).findings
    jinja = [f for f in findings if f.location.package == "jinja2"]
    assert {f.location.manifest for f in jinja} == {"requirements/base.txt"}
    assert len(jinja) == len({f.rule_id for f in jinja}) == 2
    assert {f.location.manifest for f in findings if f.location.package == "pyyaml"} == {
        "requirements/dev.txt"}


def fake_pip_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    script = tmp_path / "fake-pip-audit"
    script.write_text("#!/bin/sh\n"
                      'if [ "$1" = "--version" ]; then echo "pip-audit 9.9.9"; exit 0; fi\n'
                      + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("GATE_PIP_AUDIT_BIN", str(script))


def test_unpinned_requirements_are_reported_with_what_they_resolved_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "app"
    write(root, {"requirements.txt": "# deps\nsalt==3000\njinja2>=2.9\nPyYAML\n"})
    fake_pip_audit(tmp_path, monkeypatch, f"cat {FIXTURES / 'pip-audit' / 'vulnerable-app.json'}")
    findings = PipAuditScanner().run(ScanTarget(root=root)).findings
    (unpinned,) = [f for f in findings if f.rule_id == UNPINNED_RULE]
    assert unpinned.severity is Severity.INFO
    assert unpinned.title == ("requirements.txt: 2 unpinned requirements audited at the latest "
                              "release; pin them")
    assert "jinja2>=2.9 (requirements.txt:3) resolved to 2.10, pin jinja2==2.10" in unpinned.message
    assert "PyYAML (requirements.txt:4) resolved to 5.3, pin PyYAML==5.3" in unpinned.message
    assert unpinned.location.start_line == 3 and unpinned.location.manifest == "requirements.txt"
    pinned_only = tmp_path / "pinned"
    write(pinned_only, {"requirements.txt": "salt==3000\n"})
    assert not [f for f in PipAuditScanner().run(ScanTarget(root=pinned_only)).findings
                if f.rule_id == UNPINNED_RULE]


def test_a_resolution_failure_names_the_manifest_and_how_to_audit_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "app"
    write(root, {"requirements.txt": "salt==3000\n", "docs/requirements.txt": "sphinx>=5\n"})
    fake_pip_audit(tmp_path, monkeypatch,
                   'if grep -q sphinx "$2"; then echo "ERROR: No matching distribution found" >&2;'
                   " exit 1; fi\necho '{\"dependencies\": []}'")
    with pytest.raises(ScannerError) as caught:
        PipAuditScanner().run(ScanTarget(root=root, advisories_dir=BUNDLED))
    message = str(caught.value)
    assert message.startswith("pip-audit: failed on docs/requirements.txt (exit 1): ERROR: No "
                              "matching distribution found; pip had to resolve its 1 unpinned "
                              "requirement (sphinx>=5), which needs the package index: pin them")
    assert "with -r" in message and "scope.exclude" in message
