"""Import an existing report: detect its format from the content and hand it to its parser.

Detection never trusts the file name: SARIF has `version` and `runs`; semgrep JSON has a
`results` list and an `errors` list; pip-audit JSON has a `dependencies` list (or, from old
pip-audit versions, is a non-empty list of objects with `name` and `vulns` or `skip_reason`).
Anything else is refused (fail closed), including an empty list, which fits no format for sure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gate.errors import ReportFormatError
from gate.models import Finding
from gate.safe_input import decode_json, max_import_bytes, read_regular_file

SARIF_VERSION = "2.1.0"
EXPECTED = "expected pip-audit JSON, semgrep JSON or SARIF 2.1.0"


def detect_format(document: Any, *, source: str) -> str:
    """`sarif`, `semgrep` or `pip-audit`; raise `ReportFormatError` for anything else."""
    if isinstance(document, dict):
        if "version" in document and "runs" in document:
            version = document["version"]
            if version != SARIF_VERSION:
                raise ReportFormatError(
                    f"{source}: SARIF version {version!r} is not supported "
                    f"(expected {SARIF_VERSION})"
                )
            return "sarif"
        if isinstance(document.get("results"), list) and isinstance(document.get("errors"), list):
            return "semgrep"
        if isinstance(document.get("dependencies"), list):
            return "pip-audit"
    elif _is_bare_pip_audit_list(document):
        return "pip-audit"
    raise ReportFormatError(f"{source}: unknown report format ({EXPECTED})")


def _is_bare_pip_audit_list(document: Any) -> bool:
    """Old pip-audit: a list of `{name, version, vulns}` (or `{name, skip_reason}`) objects."""
    return (
        isinstance(document, list)
        and bool(document)
        and all(
            isinstance(item, dict) and "name" in item and ("vulns" in item or "skip_reason" in item)
            for item in document
        )
    )


def load_report(path: Path, *, root: Path) -> list[Finding]:
    """Read a report file (a regular file within `GATE_MAX_IMPORT_BYTES`), detect its format
    from the content and parse it into findings."""
    raw = read_regular_file(path, limit=max_import_bytes())
    return parse_report(raw, root=root, source=str(path))


def parse_report(raw: bytes, *, root: Path, source: str) -> list[Finding]:
    """Detect the format of report bytes and dispatch to the matching parser."""
    fmt = detect_format(decode_json(raw, source=source), source=source)
    if fmt == "sarif":
        from gate.scanners.sarif import parse_sarif

        return parse_sarif(raw, root=root, source=source)
    if fmt == "semgrep":
        from gate.scanners.semgrep import parse_report as parse_semgrep_report
        from gate.scanners.semgrep_coverage import imported_gaps, not_scanned_findings

        report = parse_semgrep_report(raw, root=root, source=source)
        gaps = imported_gaps(report.paths)
        return [*report.findings, *not_scanned_findings(gaps, scanner="semgrep", root=root)]
    from gate.scanners.pip_audit import parse_pip_audit

    return parse_pip_audit(raw, root=root, manifest=None, source=source)
