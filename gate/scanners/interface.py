"""The scanner seam: running a tool is separate from parsing what it printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gate.models import Coverage, Finding


@dataclass(frozen=True, kw_only=True)
class ScanTarget:
    """What to scan and how: the project root plus per-scanner settings.

    `only` (root-relative paths) narrows a scan to those files or manifests: a diff-aware
    baseline scans just what changed. None scans everything.
    """

    root: Path
    timeout_seconds: float = 600.0
    requirements: tuple[Path, ...] = ()
    advisories_dir: Path | None = None
    pip_audit_service: str = "osv"
    semgrep_configs: tuple[str, ...] = ()
    semgrep_max_target_bytes: int = 10_000_000
    semgrep_jobs: int = 1
    semgrep_honour_nosemgrep: bool = False
    exclude: tuple[str, ...] = ()
    only: frozenset[str] | None = None
    ignore_files_at: str | None = None  # a git ref: read `.semgrepignore` files as there
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ScanOutput:
    """Parsed findings of one scanner run, the tool's version and what it covered."""

    findings: list[Finding]
    version: str | None = None
    coverage: Coverage | None = None


class Scanner(Protocol):
    """A scanner adapter. `run` raises `ScannerError` on any failure; `parse` is pure."""

    name: str

    def run(self, target: ScanTarget) -> ScanOutput:
        """Run the tool on the target and return its parsed findings."""
        ...

    def parse(self, raw: bytes, *, root: Path) -> list[Finding]:
        """Parse the tool's raw report; raise `ReportFormatError` when it is not readable."""
        ...
