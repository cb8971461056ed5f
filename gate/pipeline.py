"""`run_gate(config) -> Verdict`: run the scanners in parallel, enrich, evaluate.

The only module that knows the whole flow; every step it calls is a small, separately tested
piece. Scanner failures do not raise here: they become failed `ScannerRun`s that the policy
turns into an error verdict (fail closed) unless it names the scanner fail-open.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gate.advisories.enrich import enrich, records_of
from gate.advisories.epss import EpssScores, load_epss
from gate.advisories.index import AdvisoryIndex, open_advisories
from gate.advisories.kev import KevCatalog, load_kev
from gate.advisories.local import data_paths
from gate.advisories.lookup import advisory_records
from gate.advisories.notes import with_advisory_note
from gate.baseline import BaselineScan, scan_baseline
from gate.config import GateConfig
from gate.decisions import decisions_for
from gate.errors import ConfigError, GateError
from gate.gitinfo import current_branch, current_commit, repository_prefix, resolve_commit
from gate.identity import number_occurrences
from gate.models import AdvisoryData, Finding, ScannerRun, ScannerStatus, ScanScope, Verdict
from gate.policy.discover import PolicySource, discover_policy, read_policy, with_fail_on
from gate.policy.evaluate import evaluate
from gate.policy.owners import OwnerResolver, load_codeowners
from gate.policy.schema import Policy
from gate.policy.trusted import named_policy_at_baseline, policy_at_baseline
from gate.progress import ProgressSink, SilentProgress
from gate.remediation import with_remediation
from gate.scanners.declarations import with_declaration_lines
from gate.scanners.imports import load_report
from gate.scanners.interface import Scanner, ScanTarget
from gate.scanners.pip_audit import PipAuditScanner
from gate.scanners.semgrep import SemgrepScanner

SCANNERS: dict[str, type[Scanner]] = {"pip-audit": PipAuditScanner, "semgrep": SemgrepScanner}


@dataclass(frozen=True, kw_only=True)
class Collected:
    """Findings of every scanner that ran, and how each run went."""

    findings: list[Finding]
    runs: list[ScannerRun]


@dataclass(frozen=True, kw_only=True)
class Enrichment:
    """Optional advisory data: offline OSV records, the KEV catalog, EPSS scores."""

    advisories_dir: Path | None = None
    advisories: AdvisoryIndex | None = None
    kev: KevCatalog | None = None
    epss: EpssScores | None = None
    source: AdvisoryData = AdvisoryData()


def run_gate(config: GateConfig, *, progress: ProgressSink | None = None) -> Verdict:
    """Scan, enrich and evaluate one target; raise `GateError` only for configuration faults."""
    started_at = datetime.now(UTC)
    root = _existing_dir(config.target)
    policy_source, policy = applied_policy(config, root)
    policy = with_fail_on(policy, config.fail_on)
    project = config.project or policy.asset.name or root.resolve().name
    decisions = decisions_for(config, project=project, policy=policy)  # before the slow part
    enrichment = load_enrichment(config, policy)
    target = build_target(config, policy, root=root, enrichment=enrichment)
    sink = progress or SilentProgress()
    names = enabled_scanners(config, policy)
    collected, current, baseline_scan = scan_with_baseline(config, target, names, sink=sink)
    baseline = baseline_scan.fingerprints(current) if baseline_scan else None
    advisories, advisory_data = advisory_records(
        current, offline=enrichment.advisories, offline_source=enrichment.source
    )
    findings = enrich(current, advisories=advisories, kev=enrichment.kev, epss=enrichment.epss)
    findings = with_remediation(findings, records_of(advisories))
    owners = OwnerResolver(policy=policy, codeowners=load_codeowners(root))
    verdict = evaluate(
        findings, policy, baseline=baseline, scanners=collected.runs, owners=owners,
        decisions=decisions,
    )
    verdict = with_advisory_note(verdict, advisory_data, policy=policy.advisories)
    return verdict.model_copy(
        update={
            "project": project,
            "target": str(config.target),
            "source_root": repository_prefix(root) or None,
            "commit": config.commit or current_commit(root),
            "branch": config.branch or current_branch(root),
            "scope": scan_scope(config, names, collected.runs),
            "baseline_ref": config.baseline_ref,
            "fixed": baseline_scan.fixed(current) if baseline_scan else (),
            "policy_source": policy_source.describe(),
            "started_at": started_at,
            "finished_at": datetime.now(UTC),
        }
    )


def scan_with_baseline(
    config: GateConfig, target: ScanTarget, names: Sequence[str], *, sink: ProgressSink
) -> tuple[Collected, list[Finding], BaselineScan | None]:
    """Scan the target and, on a diff-aware run, what changed at the baseline, side by side.

    Returns what the scanners did, the current findings (numbered, dependency findings on
    their manifest line) and the baseline scan, if any.
    """
    with ThreadPoolExecutor(max_workers=4) as pool:
        baseline_future = (
            pool.submit(
                scan_baseline, ref=config.baseline_ref, target=target, names=names,
                scanners=SCANNERS,
            )
            if config.baseline_ref
            else None
        )
        collected = collect(config, target, names, sink=sink)
        current = with_declaration_lines(number_occurrences(collected.findings), root=target.root)
        return collected, current, baseline_future.result() if baseline_future else None


def applied_policy(config: GateConfig, root: Path) -> tuple[PolicySource, Policy]:
    """The policy named, else the target's own; on a diff-aware run, one in the tree as it is
    at the baseline."""
    if config.baseline_ref:
        with tempfile.TemporaryDirectory(prefix="riskgate-policy-") as copy:
            ref, into = config.baseline_ref, Path(copy)
            trusted = (policy_at_baseline(root, ref=ref, into=into) if config.policy_path is None
                       else named_policy_at_baseline(root, given=config.policy_path, ref=ref,
                                                     into=into))
            if trusted is not None:
                return trusted, read_policy(trusted.path, base_dir=trusted.anchor)
    source = discover_policy(root, given=config.policy_path)
    return source, read_policy(source.path)


def _existing_dir(path: Path) -> Path:
    if not path.exists():
        raise ConfigError(f"{path}: target path does not exist")
    if not path.is_dir():
        raise ConfigError(f"{path}: target path is not a directory")
    return path


def load_enrichment(config: GateConfig, policy: Policy) -> Enrichment:
    """Load the advisory, KEV and EPSS files named on the command line or in the policy,
    else those `gate advisories sync` keeps."""
    paths = data_paths(
        advisories=config.advisories_dir or policy.enrichment.advisories,
        kev=config.kev_path or policy.enrichment.kev,
        epss=config.epss_path or policy.enrichment.epss,
    )
    if paths.advisories is not None and not paths.advisories.exists():
        raise ConfigError(f"{paths.advisories}: advisories directory does not exist")
    return Enrichment(
        advisories_dir=paths.advisories,
        advisories=open_advisories(paths.advisories) if paths.advisories else None,
        kev=load_kev(paths.kev) if paths.kev else None,
        epss=load_epss(paths.epss) if paths.epss else None,
        source=paths.source,
    )


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def build_target(
    config: GateConfig, policy: Policy, *, root: Path, enrichment: Enrichment
) -> ScanTarget:
    """Merge command-line options over the policy's scanner settings."""
    pip_audit = policy.scanners.pip_audit
    semgrep = policy.scanners.semgrep
    timeout = config.timeout_seconds or max(pip_audit.timeout, semgrep.timeout)
    return ScanTarget(
        root=root,
        timeout_seconds=timeout,
        requirements=config.requirements or tuple(Path(p) for p in pip_audit.requirements),
        advisories_dir=enrichment.advisories_dir,
        pip_audit_service=config.pip_audit_service or pip_audit.service,
        semgrep_configs=(*semgrep.configs, *config.semgrep_configs),
        semgrep_max_target_bytes=semgrep.max_target_bytes,
        semgrep_jobs=semgrep.jobs or usable_cpus(),
        semgrep_honour_nosemgrep=semgrep.honour_nosemgrep,
        exclude=policy.scope.exclude,
        only=config.only,
        # the commit, not the ref: the baseline's worktree resolves `HEAD~1` otherwise
        ignore_files_at=resolve_commit(root, config.baseline_ref) if config.baseline_ref else None,
    )


def enabled_scanners(config: GateConfig, policy: Policy) -> tuple[str, ...]:
    """The scanners to run: those asked for that the policy does not disable."""
    if config.imports:
        return ()
    settings = {"pip-audit": policy.scanners.pip_audit, "semgrep": policy.scanners.semgrep}
    return tuple(name for name in config.scanners if settings[name].enabled)


def collect(
    config: GateConfig, target: ScanTarget, names: Sequence[str], *, sink: ProgressSink
) -> Collected:
    """Read imported reports, or run the named scanners in parallel."""
    if config.imports:
        return _collect_imports(config.imports, root=target.root)
    with ThreadPoolExecutor(max_workers=max(len(names), 1)) as pool:
        runs = list(pool.map(lambda name: run_scanner(name, target, sink=sink), names))
    findings = [finding for found, _ in runs for finding in found]
    return Collected(findings=findings, runs=[run for _, run in runs])


def _collect_imports(paths: Sequence[Path], *, root: Path) -> Collected:
    findings: list[Finding] = []
    for path in paths:
        findings.extend(load_report(path, root=root))
    run = ScannerRun(name="import", status=ScannerStatus.OK, finding_count=len(findings))
    return Collected(findings=findings, runs=[run])


def run_scanner(
    name: str, target: ScanTarget, *, sink: ProgressSink
) -> tuple[list[Finding], ScannerRun]:
    """Run one scanner; a failure is recorded in its `ScannerRun`, never raised."""
    sink.started(name)
    began = time.monotonic()
    try:
        output = SCANNERS[name]().run(target)
    except ConfigError as exc:  # bad configuration is exit 3 whatever fail_open says
        sink.finished(name, summary=f"FAILED: {exc}")
        raise
    except GateError as exc:
        sink.finished(name, summary=f"FAILED: {exc}")
        run = ScannerRun(
            name=name,
            status=ScannerStatus.FAILED,
            error=str(exc),
            duration_seconds=round(time.monotonic() - began, 3),
        )
        return [], run
    sink.finished(name, summary=f"done, {len(output.findings)} findings")
    run = ScannerRun(
        name=name,
        status=ScannerStatus.OK,
        version=output.version,
        duration_seconds=round(time.monotonic() - began, 3),
        finding_count=len(output.findings),
        coverage=output.coverage,
    )
    return output.findings, run


def scan_scope(config: GateConfig, names: Sequence[str], runs: Sequence[ScannerRun]) -> ScanScope:
    """Full only when every scanner ran on the whole tree and succeeded."""
    if config.baseline_ref:
        return ScanScope.DIFF
    if config.imports or config.only is not None or set(names) != set(SCANNERS):
        return ScanScope.PARTIAL
    if any(run.status is not ScannerStatus.OK for run in runs):
        return ScanScope.PARTIAL
    return ScanScope.FULL
