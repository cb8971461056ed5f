"""Unpinned requirements, reported: what pip resolved them to, and that they should be pinned.

A requirement that is not an exact `==` pin is resolved by pip to the newest release at the
time of the scan. The audit then checks that release, which may not be what is deployed, and
a later run may check another. riskgate says so instead of passing silently: one
`riskgate-dependency-unpinned` finding (severity `info`) per manifest, naming each unpinned
requirement, where it is declared and the version it was audited at.
"""

from __future__ import annotations

import json

from packaging.requirements import InvalidRequirement, Requirement

from gate.fingerprint import dependency_fingerprint, package_key
from gate.models import Finding, FindingKind, Location, Severity
from gate.scanners.requirements import AuditInput

UNPINNED_RULE = "riskgate-dependency-unpinned"
NAME = "pip-audit"
_SHOWN = 5


def resolved_versions(raw: bytes) -> dict[str, str]:
    """Normalised name → version of every dependency in a pip-audit JSON report."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    dependencies = data.get("dependencies") if isinstance(data, dict) else data
    if not isinstance(dependencies, list):
        return {}
    return {
        package_key(d["name"]): d["version"] for d in dependencies
        if isinstance(d, dict) and isinstance(d.get("name"), str)
        and isinstance(d.get("version"), str)
    }


def unpinned_finding(audit: AuditInput, *, manifest: str, versions: dict[str, str],
                     ) -> Finding | None:
    """The manifest's unpinned requirements as one finding, or None when all are pinned."""
    if not audit.unpinned:
        return None
    places = {d.requirement: d.where for d in audit.declared}
    parts = [_part(line, places.get(line), versions) for line in audit.unpinned]
    count = len(parts)
    plural = "requirement is" if count == 1 else "requirements are"
    shown = "; ".join(parts[:_SHOWN]) + (f"; and {count - _SHOWN} more" if count > _SHOWN else "")
    message = (f"{count} {plural} not pinned, so pip resolved them to the latest release at this "
               f"scan: {shown}. The audit checked those versions, not necessarily what you "
               "deploy: pin them (name==version), or audit the lock file instead.")
    return Finding(
        kind=FindingKind.DEPENDENCY,
        scanner=NAME,
        rule_id=UNPINNED_RULE,
        title=f"{manifest}: {count} unpinned {'requirement' if count == 1 else 'requirements'}"
              " audited at the latest release; pin them",
        severity=Severity.INFO,
        fingerprint=dependency_fingerprint(package=manifest, advisory_ids=[UNPINNED_RULE],
                                           manifest=manifest),
        location=Location(path=manifest, start_line=_first_line(audit, manifest),
                          manifest=manifest),
        message=message,
    )


def _part(line: str, where: str | None, versions: dict[str, str]) -> str:
    try:
        name = Requirement(line).name
    except InvalidRequirement:
        name = line
    version = versions.get(package_key(name))
    resolved = f"resolved to {version}" if version else "not resolved"
    at = f" ({where})" if where else ""
    return f"{line}{at} {resolved}" + (f", pin {name}=={version}" if version else "")


def _first_line(audit: AuditInput, manifest: str) -> int | None:
    """The first line of the manifest itself that declares an unpinned requirement."""
    unpinned = set(audit.unpinned)
    places = [d.where.rsplit(":", 1)[-1] for d in audit.declared
              if d.file == manifest and d.requirement in unpinned]
    lines = [int(p) for p in places if p.isdigit()]
    return min(lines) if lines else None
