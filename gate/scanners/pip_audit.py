"""pip-audit adapter: audit each dependency manifest and parse pip-audit's JSON into findings.

pip-audit exits 1 both when it found vulnerabilities and when it failed, so we judge a run by
its JSON, never its exit code. Dependencies pip-audit could not audit become findings of their
own (`riskgate-dependency-not-audited`): the gate fails closed instead of passing silently.

pip-audit never sees the scanned tree: riskgate reads each manifest itself (`requirements`,
`project_deps`), hands pip-audit one flattened file of named requirements in a directory of its
own, and reports local paths, VCS and archive URLs, editable and dynamic dependencies as not
audited. A file of exact `==` pins is audited with `--no-deps --disable-pip` (no resolution;
with `--advisories` fully offline); anything else is resolved by pip from wheels only
(`NO_BUILD_ENV`), so no build backend ever runs. pip-audit reports no severity; enrichment
takes it from advisory records, never invents one.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gate.advisories.index import open_advisories
from gate.advisories.online import DEFAULT_OSV_URL, osv_base_url
from gate.advisories.server import serve_advisories
from gate.errors import ConfigError, ReportFormatError, ScannerError
from gate.fingerprint import dependency_fingerprint, package_key
from gate.models import Finding, FindingKind, Location, Severity
from gate.safe_input import loads_storable
from gate.scanners.interface import ScanOutput, ScanTarget
from gate.scanners.manifests import Manifest, audit_input, discover, find_manifests, is_wanted
from gate.scanners.process import ToolResult, find_executable, last_line, run_tool
from gate.scanners.requirements import AuditInput, Unaudited
from gate.scanners.unpinned import resolved_versions, unpinned_finding

__all__ = ["Manifest", "PipAuditScanner", "audit_input", "find_manifests", "input_args",
           "parse_pip_audit"]

NAME = "pip-audit"
NOT_AUDITED_RULE = "riskgate-dependency-not-audited"
NOT_AUDITED_ID = "riskgate-not-audited"
SERVICES = ("osv", "pypi")
TITLE_LIMIT = 120
_OUTPUT_ARGS = ("--format", "json", "--progress-spinner", "off")
# pip may resolve named requirements only from wheels: building an sdist runs its code.
NO_BUILD_ENV = {"PIP_ONLY_BINARY": ":all:", "PIP_NO_INPUT": "1"}
_SKIPPED_VERSION = re.compile(r"\(([^()\s]+)\)\s*$")


class PipAuditScanner:
    """Runs pip-audit once per manifest; offline against `--advisories` via a loopback server."""

    name = NAME

    def run(self, target: ScanTarget) -> ScanOutput:
        """Audit every manifest of the target; `ScannerError` on any failure (fail closed)."""
        found = discover(target)
        manifests = [m for m in found.manifests if is_wanted(m, target)]
        if not manifests:
            return ScanOutput(findings=[], coverage=found.coverage)
        executable = find_executable(NAME, setting="GATE_PIP_AUDIT_BIN")
        deadline = time.monotonic() + target.timeout_seconds
        findings: list[Finding] = []
        with _service(target) as service_args, tempfile.TemporaryDirectory(
            prefix="riskgate-audit-"
        ) as work:
            for index, manifest in enumerate(manifests):
                audit = audit_input(manifest, root=target.root)
                findings.extend(_not_audited_input(item, manifest.display)
                                for item in audit.unaudited)
                if not audit.requirements:
                    continue
                args = input_args(audit, directory=Path(work), stem=str(index))
                argv = [executable, *args, *_OUTPUT_ARGS, *service_args]
                result = _run_within(argv, deadline=deadline, target=target, cwd=Path(work))
                report = _findings_of(result, manifest=manifest, audit=audit, root=target.root)
                findings.extend(attributed(report, audit))
                unpinned = unpinned_finding(audit, manifest=manifest.display,
                                            versions=resolved_versions(result.stdout))
                findings.extend([unpinned] if unpinned else [])
        return ScanOutput(findings=_unique(findings), version=_version(executable),
                          coverage=found.coverage)

    def parse(self, raw: bytes, *, root: Path) -> list[Finding]:
        """Parse a pip-audit JSON report (see `parse_pip_audit`)."""
        return parse_pip_audit(raw, root=root)


def attributed(findings: list[Finding], audit: AuditInput) -> list[Finding]:
    """Each finding of a requirement declared in an included file (`-r base.txt`) moved to
    that file, so the files that include it do not repeat it."""
    files = {d.name: d.file for d in audit.declared}
    moved = []
    for finding in findings:
        place = files.get(package_key(finding.location.package or ""))
        if place is None or place == finding.location.manifest:
            moved.append(finding)
            continue
        location = finding.location.model_copy(update={"manifest": place})
        moved.append(finding.model_copy(update={
            "location": location, "fingerprint": _fingerprint(finding, location)}))
    return moved


def input_args(audit: AuditInput, *, directory: Path, stem: str) -> list[str]:
    """Write the audit's flattened requirements into `directory`; pip-audit's input arguments.

    Exact pins are audited with `--no-deps --disable-pip`; constraints matter only when pip
    resolves, so only then are they written beside the requirements.
    """
    lines = [*audit.options, *audit.requirements]
    if audit.constraints and not audit.pinned:
        constraints = directory / f"{stem}-constraints.txt"
        constraints.write_text("\n".join(audit.constraints) + "\n", encoding="utf-8")
        lines.insert(0, f"-c {constraints}")
    path = directory / f"{stem}-requirements.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["-r", str(path)]
    return [*args, "--no-deps", "--disable-pip"] if audit.pinned else args


def parse_pip_audit(
    raw: bytes, *, root: Path, manifest: str | None = None, source: str = "pip-audit output"
) -> list[Finding]:
    """Findings from pip-audit's JSON (the current `{"dependencies": [...]}` or a bare list).

    `root` is accepted for the scanner protocol; pip-audit reports carry no file paths.
    Raises `ReportFormatError` reading `<source>: not valid pip-audit JSON at line L column C`.
    """
    dependencies = _dependencies(_load_json(raw, source), source)
    findings: list[Finding] = []
    for index, dependency in enumerate(dependencies):
        findings.extend(_dependency_findings(dependency, manifest, f"{source}: dependency {index}"))
    return findings


@contextmanager
def _service(target: ScanTarget) -> Iterator[list[str]]:
    """Service arguments: a loopback OSV server over `advisories_dir`, else the live service."""
    if target.advisories_dir is not None:
        with serve_advisories(open_advisories(target.advisories_dir)) as url:
            yield ["--vulnerability-service", "osv", "--osv-url", url]
        return
    if target.pip_audit_service not in SERVICES:
        raise ConfigError(f"{NAME}: unknown service {target.pip_audit_service!r} (osv or pypi)")
    osv_url = osv_base_url() if target.pip_audit_service == "osv" else None
    mirror = osv_url not in (None, DEFAULT_OSV_URL)
    url_args = ["--osv-url", f"{osv_url}/v1/query"] if mirror else []
    yield ["--vulnerability-service", target.pip_audit_service, *url_args]


def _run_within(
    argv: list[str], *, deadline: float, target: ScanTarget, cwd: Path
) -> ToolResult:
    """Run one audit in what is left of the scanner's time budget (shared by all manifests)."""
    timed_out = ScannerError(NAME, f"timed out after {target.timeout_seconds:g} s and was stopped")
    left = deadline - time.monotonic()
    if left <= 0:
        raise timed_out
    try:
        # never the tree: `python -m pip` would import a `pip` package of the scanned tree
        env = {**target.extra_env, **NO_BUILD_ENV}
        return run_tool(NAME, argv, timeout=left, cwd=cwd, env=env)
    except ScannerError as exc:
        if time.monotonic() >= deadline:
            raise timed_out from exc
        raise


def _findings_of(
    result: ToolResult, *, manifest: Manifest, audit: AuditInput, root: Path
) -> list[Finding]:
    """Judge a run by its JSON: a report means success whatever the exit code.

    A failure names the manifest and, when pip had to resolve unpinned requirements (which
    needs the package index), says how to audit without resolving.
    """
    try:
        return parse_pip_audit(result.stdout, root=root, manifest=manifest.display)
    except ReportFormatError as exc:
        problem = last_line(result.stderr)
        message = f"failed on {manifest.display} (exit {result.returncode}): {problem}"
        raise ScannerError(NAME, message + _resolution_hint(audit)) from exc


def _resolution_hint(audit: AuditInput) -> str:
    unpinned = audit.unpinned
    if not unpinned:
        return ""
    shown = ", ".join(unpinned[:3]) + (" …" if len(unpinned) > 3 else "")
    return (f"; pip had to resolve its {len(unpinned)} unpinned requirement"
            f"{'' if len(unpinned) == 1 else 's'} ({shown}), which needs the package index: "
            "pin them (name==version) to audit offline, name only pinned files with -r, "
            "or leave this manifest out with the policy's scope.exclude")


def _unique(findings: list[Finding]) -> list[Finding]:
    """One finding per fingerprint (an included file's findings come once), first kept."""
    seen: set[str] = set()
    kept = []
    for finding in findings:
        if finding.fingerprint not in seen:
            seen.add(finding.fingerprint)
            kept.append(finding)
    return kept


def _fingerprint(finding: Finding, location: Location) -> str:
    """A dependency finding's fingerprint at `location` (its manifest and version count)."""
    is_not_audited = finding.rule_id == NOT_AUDITED_RULE
    ids = [NOT_AUDITED_ID] if is_not_audited else [finding.rule_id, *finding.aliases]
    return dependency_fingerprint(package=location.package or "", advisory_ids=ids,
                                  manifest=location.manifest,
                                  version=None if is_not_audited else location.version)


def _version(executable: str) -> str | None:
    """pip-audit's version, or None when it will not say (the audit itself already worked).

    When the executable is the one installed beside our own Python, its package metadata says
    the version without starting another interpreter.
    """
    if Path(executable).parent == Path(sys.executable).parent:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version("pip-audit")
    try:
        result = run_tool(NAME, [executable, "--version"], timeout=30)
    except ScannerError:
        return None
    words = result.stdout.decode("utf-8", "replace").split()
    return words[-1] if result.returncode == 0 and words else None


def _load_json(raw: bytes, source: str) -> Any:
    try:
        return loads_storable(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportFormatError(f"{source}: not valid pip-audit JSON: not UTF-8") from exc
    except json.JSONDecodeError as exc:
        where = f"{source}: not valid pip-audit JSON at line {exc.lineno} column {exc.colno}"
        raise ReportFormatError(f"{where}: {exc.msg}") from exc


def _dependencies(data: Any, source: str) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("dependencies"), list):
        return list(data["dependencies"])
    if isinstance(data, list):
        return data
    raise ReportFormatError(f"{source}: not a pip-audit report (no 'dependencies' list)")


def _dependency_findings(dependency: Any, manifest: str | None, where: str) -> list[Finding]:
    if not isinstance(dependency, dict) or not isinstance(dependency.get("name"), str):
        raise ReportFormatError(f"{where}: expected an object with a 'name'")
    name: str = dependency["name"]
    if dependency.get("skip_reason"):
        reason = str(dependency["skip_reason"])
        match = _SKIPPED_VERSION.search(reason)
        return [_not_audited(name, reason, manifest, version=match.group(1) if match else None)]
    version = _optional_text(dependency.get("version"))
    vulns = dependency.get("vulns") or []
    if not isinstance(vulns, list):
        raise ReportFormatError(f"{where} ({name}): 'vulns' must be a list")
    location = Location(package=name, version=version, manifest=manifest)
    return [_vulnerability(vuln, location, f"{where} ({name})") for vuln in vulns]


def _vulnerability(vuln: Any, location: Location, where: str) -> Finding:
    if not isinstance(vuln, dict) or not isinstance(vuln.get("id"), str) or not vuln["id"].strip():
        raise ReportFormatError(f"{where}: each vulnerability needs an 'id'")
    vuln_id: str = vuln["id"]
    aliases = tuple(sorted({str(a) for a in vuln.get("aliases") or () if str(a) != vuln_id}))
    description = _optional_text(vuln.get("description")) or ""
    return Finding(
        kind=FindingKind.DEPENDENCY,
        scanner=NAME,
        rule_id=vuln_id,
        title=_title(description, location, vuln_id),
        severity=Severity.UNKNOWN,
        fingerprint=dependency_fingerprint(
            package=location.package or "", advisory_ids=[vuln_id, *aliases],
            manifest=location.manifest, version=location.version,
        ),
        location=location,
        aliases=aliases,
        message=description,
        fix_versions=tuple(str(v) for v in vuln.get("fix_versions") or ()),
        help_url=f"https://osv.dev/vulnerability/{vuln_id}",
    )


def _not_audited(name: str, reason: str, manifest: str | None, *, version: str | None) -> Finding:
    return Finding(
        kind=FindingKind.DEPENDENCY,
        scanner=NAME,
        rule_id=NOT_AUDITED_RULE,
        title=_bounded(f"{name} could not be audited: {reason}"),
        severity=Severity.UNKNOWN,
        fingerprint=dependency_fingerprint(package=name, advisory_ids=[NOT_AUDITED_ID],
                                           manifest=manifest),
        location=Location(package=name, version=version, manifest=manifest),
        message=reason,
    )


def _not_audited_input(item: Unaudited, manifest: str) -> Finding:
    """A dependency riskgate would not hand to pip-audit, with the reason and the place."""
    return _not_audited(item.name, f"{item.reason} ({item.where})", manifest, version=None)


def _title(description: str, location: Location, vuln_id: str) -> str:
    lines = description.strip().splitlines()
    first = lines[0].strip() if lines else ""
    if not first or first == "N/A":
        version = f" {location.version}" if location.version else ""
        return f"{location.package}{version}: {vuln_id}"
    return _bounded(first)


def _bounded(text: str) -> str:
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1].rstrip() + "…"


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None

