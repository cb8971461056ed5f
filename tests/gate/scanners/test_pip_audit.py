"""pip-audit: parsing its recorded JSON, real runs against local advisories, failing closed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gate.advisories.enrich import enrich
from gate.advisories.kev import load_kev
from gate.advisories.osv import load_advisory_dir
from gate.errors import ConfigError, ReportFormatError, ScannerError
from gate.fingerprint import dependency_fingerprint
from gate.models import Finding, FindingKind, Severity
from gate.scanners.interface import ScanTarget
from gate.scanners.pip_audit import (
    NOT_AUDITED_RULE,
    Manifest,
    PipAuditScanner,
    audit_input,
    find_manifests,
    input_args,
    parse_pip_audit,
)
from tests.conftest import FIXTURES, REPO_ROOT

RECORDED = FIXTURES / "pip-audit"
VULNERABLE_APP = REPO_ROOT / "examples" / "vulnerable-app"
CLEAN_APP = REPO_ROOT / "examples" / "clean-app"
BUNDLED = REPO_ROOT / "examples" / "advisories"
EXAMPLE_PINS = {"jinja2", "pyyaml", "requests", "salt", "flask"}


def parse_fixture(name: str) -> list[Finding]:
    raw = (RECORDED / name).read_bytes()
    return parse_pip_audit(raw, root=REPO_ROOT, manifest="requirements.txt", source=name)


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id: f for f in findings}


@pytest.fixture()
def real_pip_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the pip-audit installed beside our Python, whatever the environment says."""
    monkeypatch.delenv("GATE_PIP_AUDIT_BIN", raising=False)


# --- parsing recorded reports -------------------------------------------------------------


def test_parses_every_vulnerability_of_the_recorded_vulnerable_app() -> None:
    findings = parse_fixture("vulnerable-app.json")
    assert len(findings) == 35
    assert {f.location.package for f in findings} == EXAMPLE_PINS
    assert all(f.kind is FindingKind.DEPENDENCY and f.scanner == "pip-audit" for f in findings)
    assert all(f.severity is Severity.UNKNOWN for f in findings)  # pip-audit reports none
    assert all(f.location.manifest == "requirements.txt" for f in findings)
    jinja = by_id(findings)["PYSEC-2019-217"]
    assert jinja.location.version == "2.10"
    assert jinja.fix_versions == ("2.10.1",)
    assert jinja.aliases == ("CVE-2019-10906", "GHSA-462w-v97r-4m45")
    assert jinja.title == "In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape."
    assert jinja.help_url == "https://osv.dev/vulnerability/PYSEC-2019-217"


def test_fingerprints_merge_aliases_and_count_manifest_and_version() -> None:
    jinja = by_id(parse_fixture("vulnerable-app.json"))["PYSEC-2019-217"]
    # the same vulnerability reported by another tool under its CVE or GHSA id
    assert jinja.fingerprint == dependency_fingerprint(
        package="Jinja2", advisory_ids=["GHSA-462w-v97r-4m45", "CVE-2019-10906"],
        manifest="requirements.txt", version="2.10",
    )


def test_titles_are_bounded_and_messages_complete() -> None:
    findings = parse_fixture("vulnerable-app.json")
    assert all(len(f.title) <= 120 for f in findings)
    longest = max(findings, key=lambda f: len(f.message))
    assert len(longest.message) > 120
    assert longest.title.endswith("…")


def test_a_clean_report_has_no_findings() -> None:
    assert parse_fixture("clean-app.json") == []


def test_skipped_dependencies_become_not_audited_findings() -> None:
    findings = parse_fixture("skipped-offline.json")
    assert {f.location.package for f in findings} == EXAMPLE_PINS
    salt = next(f for f in findings if f.location.package == "salt")
    assert salt.rule_id == NOT_AUDITED_RULE
    assert salt.severity is Severity.UNKNOWN
    assert salt.location.version == "3000"
    assert salt.title.startswith("salt could not be audited: Dependency not found on PyPI")
    assert salt.fingerprint == dependency_fingerprint(
        package="salt", advisory_ids=["riskgate-not-audited"], manifest="requirements.txt"
    )


def test_the_older_bare_list_shape_is_accepted() -> None:
    findings = parse_fixture("legacy-list.json")
    assert {f.rule_id for f in findings} == {
        "PYSEC-2019-217", "PYSEC-2021-66", "PYSEC-2020-96", "PYSEC-2021-142",
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.json", r"^truncated\.json: not valid pip-audit JSON at line 1 column 416: "),
        ("garbage.txt", r"^garbage\.txt: not valid pip-audit JSON at line 1 column 1: "),
    ],
)
def test_unreadable_reports_name_the_source_and_position(name: str, message: str) -> None:
    with pytest.raises(ReportFormatError, match=message):
        parse_fixture(name)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"fixes": []}', r"x\.json: not a pip-audit report \(no 'dependencies' list\)"),
        (b'{"dependencies": [{"version": "1"}]}', r"x\.json: dependency 0: expected an object"),
        (b'{"dependencies": [{"name": "a", "version": "1", "vulns": [{"description": "d"}]}]}',
         r"x\.json: dependency 0 \(a\): each vulnerability needs an 'id'"),
        (b'{"dependencies": [{"name": "a", "version": "1", "vulns": [{"id": " "}]}]}',
         r"x\.json: dependency 0 \(a\): each vulnerability needs an 'id'"),
        (b"\xff\xfe", r"x\.json: not valid pip-audit JSON: not UTF-8"),
    ],
)
def test_wrong_shapes_are_format_errors(raw: bytes, message: str) -> None:
    with pytest.raises(ReportFormatError, match=message):
        parse_pip_audit(raw, root=REPO_ROOT, source="x.json")


def test_the_scanner_parse_method_delegates() -> None:
    raw = (RECORDED / "vulnerable-app.json").read_bytes()
    findings = PipAuditScanner().parse(raw, root=REPO_ROOT)
    assert len(findings) == 35
    assert findings[0].location.manifest is None


# --- inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("jinja2==2.10\nPyYAML[extra] == 5.3  # comment\n\n# only a comment\n", True),
        ('salt===3000 ; python_version >= "3.8"\n', True),
        ("requests==2.19.0 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n", True),
        ("flask>=0.12\n", False),
        ("flask\n", False),
        ("jinja2==2.*\n", False),
        ("-r other.txt\njinja2==2.10\n", True),
        ("-r other.txt\nflask\n", False),
        ("-e .\njinja2==2.10\n", True),
    ],
)
def test_only_exact_pins_skip_resolution(tmp_path: Path, text: str, pinned: bool) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    (tmp_path / "other.txt").write_text("click==8.1.7\n")
    audit = audit_input(Manifest(path=path, display="requirements.txt"), root=tmp_path)
    assert audit.pinned is pinned
    work = tmp_path / "work"
    work.mkdir()
    args = input_args(audit, directory=work, stem="0")
    assert ("--no-deps" in args and "--disable-pip" in args) is pinned
    assert args[:2] == ["-r", str(work / "0-requirements.txt")]


def test_manifests_are_found_in_order_of_preference(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '1'\n")
    project = find_manifests(ScanTarget(root=tmp_path))
    assert [(m.display, m.is_project) for m in project] == [("pyproject.toml", True)]
    (tmp_path / "requirements.txt").write_text("click==8.1.7\n")
    (tmp_path / "requirements-dev.txt").write_text("pytest==8.0.0\n")
    found = find_manifests(ScanTarget(root=tmp_path))
    assert [m.display for m in found] == ["requirements-dev.txt", "requirements.txt"]
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "prod.txt").write_text("click==8.1.7\n")
    explicit = find_manifests(ScanTarget(root=tmp_path, requirements=(Path("deps/prod.txt"),)))
    assert [m.display for m in explicit] == ["deps/prod.txt"]


def test_nothing_to_audit_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(ScannerError, match=r"^pip-audit: nothing to audit in .* \(no requirements"):
        PipAuditScanner().run(ScanTarget(root=tmp_path))


def test_nothing_in_scope_names_what_was_left_out_and_the_r_option(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "requirements.txt").write_text("x==1\n")
    (tmp_path / "vendor" / "lib").mkdir(parents=True)
    (tmp_path / "vendor" / "lib" / "requirements.txt").write_text("x==1\n")
    with pytest.raises(ScannerError) as caught:
        PipAuditScanner().run(ScanTarget(root=tmp_path))
    assert str(caught.value).endswith(
        "; left out: .venv/, vendor/; name the files to audit with -r")


def test_a_missing_explicit_requirements_file_is_a_config_error(tmp_path: Path) -> None:
    target = ScanTarget(root=tmp_path, requirements=(Path("nope.txt"),))
    with pytest.raises(ConfigError, match=r"requirements file not found: .*nope\.txt"):
        PipAuditScanner().run(target)


def test_an_unknown_service_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("click==8.1.7\n")
    with pytest.raises(ConfigError, match="unknown service 'snyk'"):
        PipAuditScanner().run(ScanTarget(root=tmp_path, pip_audit_service="snyk"))


# --- real pip-audit --------------------------------------------------------------------------


@pytest.mark.usefixtures("real_pip_audit")
def test_real_run_of_the_example_against_bundled_advisories() -> None:
    target = ScanTarget(root=VULNERABLE_APP, advisories_dir=BUNDLED, timeout_seconds=120)
    output = PipAuditScanner().run(target)
    assert output.version is not None
    found = by_id(output.findings)
    assert len(found) == 35
    salt = found["PYSEC-2020-102"]
    assert "CVE-2020-11651" in salt.aliases  # the KEV-listed ClearFuncs bypass
    assert salt.location.package == "salt"
    assert salt.location.manifest == "requirements.txt"
    assert salt.fix_versions == ("2019.2.4", "3000.2")
    assert found["PYSEC-2019-217"].aliases == ("CVE-2019-10906", "GHSA-462w-v97r-4m45")

    index = load_advisory_dir(BUNDLED)
    kev = load_kev(REPO_ROOT / "examples" / "kev" / "known_exploited_vulnerabilities.json")
    enriched = by_id(enrich(output.findings, advisories=index, kev=kev))
    assert enriched["PYSEC-2020-102"].known_exploited is True
    assert enriched["PYSEC-2020-102"].severity is Severity.UNKNOWN  # its record has no CVSS
    assert enriched["PYSEC-2023-166"].severity is Severity.MEDIUM  # CVSS 3.1 base 5.3
    assert enriched["PYSEC-2023-169"].severity is Severity.HIGH  # CVSS 3.1 base 7.8
    scored = {rule for rule, f in enriched.items() if f.severity is not Severity.UNKNOWN}
    assert scored == {"PYSEC-2023-166", "PYSEC-2023-169"}


@pytest.mark.usefixtures("real_pip_audit")
def test_real_run_of_the_clean_app_finds_nothing() -> None:
    target = ScanTarget(root=CLEAN_APP, advisories_dir=BUNDLED, timeout_seconds=120)
    assert PipAuditScanner().run(target).findings == []


@pytest.mark.usefixtures("real_pip_audit")
def test_one_run_per_manifest_tags_each_finding(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("jinja2==2.10\n")
    (tmp_path / "requirements-dev.txt").write_text("pyyaml==5.3\n")
    target = ScanTarget(root=tmp_path, advisories_dir=BUNDLED, timeout_seconds=120)
    findings = PipAuditScanner().run(target).findings
    manifests = {(f.location.package, f.location.manifest) for f in findings}
    assert manifests == {("jinja2", "requirements.txt"), ("pyyaml", "requirements-dev.txt")}


@pytest.mark.shared
@pytest.mark.usefixtures("real_pip_audit")
def test_real_run_against_the_full_pypa_database(shared_dir: Path) -> None:
    advisories = shared_dir / "data" / "pypa-advisory-db" / "vulns"
    target = ScanTarget(root=VULNERABLE_APP, advisories_dir=advisories, timeout_seconds=120)
    findings = PipAuditScanner().run(target).findings
    # the bundled subset is exactly what these pins need
    recorded = parse_fixture("vulnerable-app.json")
    assert {f.rule_id for f in findings} == {f.rule_id for f in recorded}


@pytest.mark.usefixtures("real_pip_audit")
def test_live_service_without_network_never_passes_silently() -> None:
    """pip-audit's default (PyPI) service offline: a crash, or every package not audited."""
    target = ScanTarget(root=VULNERABLE_APP, pip_audit_service="pypi", timeout_seconds=120)
    try:
        findings = PipAuditScanner().run(target).findings
    except ScannerError:
        return  # fails closed as an error
    assert {f.location.package for f in findings} == EXAMPLE_PINS
    not_audited = [f for f in findings if f.rule_id == NOT_AUDITED_RULE]
    assert all(f.severity is Severity.UNKNOWN for f in not_audited)
    assert all("could not be audited" in f.title for f in not_audited)


@pytest.mark.usefixtures("real_pip_audit")
def test_unreachable_osv_service_is_a_scanner_error() -> None:
    target = ScanTarget(
        root=VULNERABLE_APP,
        pip_audit_service="osv",
        timeout_seconds=120,
        extra_env={"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"},
    )
    with pytest.raises(ScannerError, match=r"^pip-audit: failed on requirements\.txt \(exit 1\): "):
        PipAuditScanner().run(target)


# --- fake pip-audit executables ---------------------------------------------------------------


def fake_pip_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    script = tmp_path / "fake-pip-audit"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "pip-audit 9.9.9"; exit 0; fi\n' + body + "\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("GATE_PIP_AUDIT_BIN", str(script))
    return script


def pinned_target(tmp_path: Path, **settings: object) -> ScanTarget:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("jinja2==2.10\n")
    return ScanTarget(root=root, **settings)  # type: ignore[arg-type]


def test_fake_that_crashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crash = 'echo "Traceback ..." >&2\necho "boom: broke" >&2\nexit 3'
    fake_pip_audit(tmp_path, monkeypatch, crash)
    with pytest.raises(ScannerError) as caught:
        PipAuditScanner().run(pinned_target(tmp_path))
    assert str(caught.value) == "pip-audit: failed on requirements.txt (exit 3): boom: broke"


def test_fake_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pip_audit(tmp_path, monkeypatch, "sleep 60")
    with pytest.raises(ScannerError, match=r"^pip-audit: timed out after 2 s and was stopped$"):
        PipAuditScanner().run(pinned_target(tmp_path, timeout_seconds=2))


@pytest.mark.parametrize(
    "body",
    [
        'echo "this is not json"\nexit 0',
        f"head -c 700 {RECORDED / 'vulnerable-app.json'}\nexit 1",
        'echo \'{"fixes": []}\'\nexit 0',
        "exit 0",
    ],
    ids=["garbage", "truncated", "no-dependencies", "silent"],
)
def test_fake_with_unreadable_output_fails_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    fake_pip_audit(tmp_path, monkeypatch, 'echo "last words" >&2\n' + body)
    with pytest.raises(ScannerError, match=r"^pip-audit: failed on requirements\.txt .*last words"):
        PipAuditScanner().run(pinned_target(tmp_path))


def test_fake_exiting_1_with_a_valid_report_is_a_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv_file = tmp_path / "argv.txt"
    fake_pip_audit(
        tmp_path, monkeypatch,
        f'printf "%s\\n" "$@" > {argv_file}\npwd > {tmp_path / "cwd"}\n'
        f'cat "$2" > {tmp_path / "input"}; echo "$PIP_ONLY_BINARY" > {tmp_path / "binary"}\n'
        f'cat {RECORDED / "vulnerable-app.json"}\nexit 1',
    )
    output = PipAuditScanner().run(pinned_target(tmp_path, advisories_dir=BUNDLED))
    assert len(output.findings) == 35
    assert output.version == "9.9.9"
    argv = argv_file.read_text().splitlines()
    # pip-audit reads a copy of the named requirements, outside the tree, from outside it
    assert argv[0] == "-r"
    assert argv[2:4] == ["--no-deps", "--disable-pip"]
    assert (tmp_path / "input").read_text() == "jinja2==2.10\n"
    assert str(tmp_path / "app") not in (tmp_path / "cwd").read_text() + argv[1]
    assert (tmp_path / "binary").read_text() == ":all:\n"
    assert argv[4:8] == ["--format", "json", "--progress-spinner", "off"]
    assert argv[8:11] == ["--vulnerability-service", "osv", "--osv-url"]
    assert argv[11].startswith("http://127.0.0.1:")


def test_a_missing_executable_is_a_scanner_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATE_PIP_AUDIT_BIN", str(tmp_path / "absent"))
    with pytest.raises(ScannerError, match="GATE_PIP_AUDIT_BIN=.* is not an executable file"):
        PipAuditScanner().run(pinned_target(tmp_path))
