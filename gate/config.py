"""The settings of one gate run, built by the CLI (or the action) and read by the pipeline."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gate.models import Severity

REPO_ROOT = Path(__file__).resolve().parent.parent


def policies_dir() -> Path:
    """Where the bundled policies and semgrep rules live.

    `GATE_POLICIES_DIR` overrides; an installed wheel carries them as `gate/_bundled` (copied
    there from `policies/` at build time, see setup.py); a checkout or editable install reads
    the repository's `policies/`.
    """
    configured = os.environ.get("GATE_POLICIES_DIR")
    if configured:
        return Path(configured)
    bundled = resources.files("gate").joinpath("_bundled")
    if isinstance(bundled, Path) and bundled.is_dir():
        return bundled
    return REPO_ROOT / "policies"


def default_policy_path() -> Path:
    """The policy used when none is named."""
    return policies_dir() / "default.yml"


def bundled_semgrep_rules() -> Path:
    """Our own semgrep rule pack."""
    return policies_dir() / "semgrep"


@dataclass(frozen=True, kw_only=True)
class GateConfig:
    """Everything `run_gate` needs. Paths are as the user gave them, resolved by the pipeline."""

    target: Path
    policy_path: Path | None = None  # None: the target's own policy, else the bundled one
    fail_on: Severity | None = None  # --fail-on: block this severity and worse, too
    only: frozenset[str] | None = None  # root-relative files: scan just these (pre-commit)
    scanners: tuple[str, ...] = ("pip-audit", "semgrep")
    imports: tuple[Path, ...] = ()
    advisories_dir: Path | None = None
    kev_path: Path | None = None
    epss_path: Path | None = None
    requirements: tuple[Path, ...] = ()
    pip_audit_service: str | None = None
    semgrep_configs: tuple[str, ...] = ()
    baseline_ref: str | None = None
    timeout_seconds: float | None = None
    project: str | None = None
    commit: str | None = None
    branch: str | None = None
    register_url: str | None = None
    register_token: str | None = None
    decisions_database: str | None = None
    vex_files: tuple[Path, ...] = ()
