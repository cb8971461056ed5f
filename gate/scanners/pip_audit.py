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
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.advisories.index import open_advisories
from gate.advisories.online import DEFAULT_OSV_URL, osv_base_url
from gate.advisories.server import serve_advisories
from gate.errors import ConfigError, ReportFormatError, ScannerError
from gate.fingerprint import dependency_fingerprint
from gate.models import Finding, FindingKind, Location, Severity
from gate.scanners.interface import ScanOutput, ScanTarget
from gate.scanners.process import ToolResult, find_executable, last_line, run_tool
from gate.scanners.project_deps import PROJECT_FILES, read_project
from gate.scanners.requirements import AuditInput, Unaudited, logical_lines, read_requirements

NAME = "pip-audit"
NOT_AUDITED_RULE = "riskgate-dependency-not-audited"
NOT_AUDITED_ID = "riskgate-not-audited"
SERVICES = ("osv", "pypi")
TITLE_LIMIT = 120
_OUTPUT_ARGS = ("--format", "json", "--progress-spinner", "off")
# pip may resolve named requirements only from wheels: building an sdist runs its code.
NO_BUILD_ENV = {"PIP_ONLY_BINARY": ":all:", "PIP_NO_INPUT": "1"}
_SKIPPED_VERSION = re.compile(r"\(([^()\s]+)\)\s*$")


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """One thing to audit: a requirements file or a project directory, and its display name."""

    path: Path
    display: str
    is_project: bool = False


class PipAuditScanner:
    """Runs pip-audit once per manifest; offline against `--advisories` via a loopback server."""

    name = NAME

    def run(self, target: ScanTarget) -> ScanOutput:
        """Audit every manifest of the target; `ScannerError` on any failure (fail closed)."""
        manifests = [m for m in find_manifests(target) if is_wanted(m, target)]
        if not manifests:
            return ScanOutput(findings=[])
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
                findings.extend(_findings_of(result, manifest=manifest, root=target.root))
        return ScanOutput(findings=findings, version=_version(executable))

    def parse(self, raw: bytes, *, root: Path) -> list[Finding]:
        """Parse a pip-audit JSON report (see `parse_pip_audit`)."""
        return parse_pip_audit(raw, root=root)


def find_manifests(target: ScanTarget) -> list[Manifest]:
    """Explicit requirement files, else `requirements*.txt` in root, else a pyproject project."""
    root = target.root
    if target.requirements:
        return [_explicit(root, path) for path in target.requirements]
    found = sorted(p for p in root.glob("requirements*.txt") if p.is_file())
    if found:
        return [Manifest(path=p, display=p.name) for p in found]
    for name in PROJECT_FILES:
        if (root / name).is_file():
            return [Manifest(path=root, display=name, is_project=True)]
    raise ScannerError(NAME, f"nothing to audit in {root} (no requirements*.txt or pyproject.toml)"
                       f"{_nested_hint(root)}")


_SKIPPED_DIRS = frozenset(
    {".git", ".venv", "venv", "node_modules", ".tox", ".nox", "site-packages", "__pycache__"}
)


def _nested_hint(root: Path, *, limit: int = 3) -> str:
    """`; found below it: a/requirements.txt, ...; name ... with -r` (environments skipped)."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        base = Path(folder).relative_to(root)
        found += [
            (base / name).as_posix() for name in sorted(files)
            if name in PROJECT_FILES or re.fullmatch(r"requirements.*\.txt", name)
        ]
        if len(found) >= limit:
            found = found[:limit]
            break
    if not found:
        return "; name the files to audit with -r"
    return f"; found below it: {', '.join(found)}; name the files to audit with -r"


def is_wanted(manifest: Manifest, target: ScanTarget) -> bool:
    """True unless the target is narrowed (`only`) to other manifests."""
    return target.only is None or manifest.display in target.only


def has_includes(path: Path) -> bool:
    """True when a requirements file pulls in other files (`-r`, `-c`): its content alone does
    not say what it audits."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    return any(line.startswith(("-r", "-c", "--requirement", "--constraint"))
               for _, line in logical_lines(text))


def audit_input(manifest: Manifest, *, root: Path) -> AuditInput:
    """Read a manifest (never building or running it) into what pip-audit may audit.

    Includes may name files of the tree, or beside an operator-given file outside it.
    """
    if manifest.is_project:
        return read_project(manifest.path)
    allowed = (root, manifest.path.absolute().parent)
    return read_requirements(manifest.path, display=manifest.display, allowed=allowed)


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


def _explicit(root: Path, path: Path) -> Manifest:
    full = path if path.is_absolute() else root / path
    if not full.is_file():
        raise ConfigError(f"{NAME}: requirements file not found: {full}")
    try:
        display = full.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        display = path.as_posix()
    return Manifest(path=full, display=display)


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


def _findings_of(result: ToolResult, *, manifest: Manifest, root: Path) -> list[Finding]:
    """Judge a run by its JSON: a report means success whatever the exit code."""
    try:
        return parse_pip_audit(result.stdout, root=root, manifest=manifest.display)
    except ReportFormatError as exc:
        problem = last_line(result.stderr)
        message = f"failed on {manifest.display} (exit {result.returncode}): {problem}"
        raise ScannerError(NAME, message) from exc


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
        return json.loads(raw.decode("utf-8"))
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
    if not isinstance(vuln, dict) or not isinstance(vuln.get("id"), str) or not vuln["id"]:
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
            package=location.package or "", advisory_ids=[vuln_id, *aliases]
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
        fingerprint=dependency_fingerprint(package=name, advisory_ids=[NOT_AUDITED_ID]),
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

