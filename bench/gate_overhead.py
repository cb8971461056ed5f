"""Benchmark: how much the gate adds on top of its scanners.

Runs, on the same target and in one go: semgrep alone (our rule pack, the flags the gate uses),
pip-audit alone (per manifest, against the same offline advisories served on loopback), then
`gate scan`. Prints wall times and the ratio gate / slowest scanner (goal: <= 1.05).

    .venv/bin/python bench/gate_overhead.py [TARGET] [--advisories DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gate.advisories.osv import load_advisory_dir
from gate.advisories.server import serve_advisories
from gate.scanners.interface import ScanTarget
from gate.scanners.process import find_executable
from gate.scanners.semgrep import build_argv, semgrep_env

ROOT = Path(__file__).resolve().parent.parent


def timed(label: str, action: Callable[[], int], repeat: int) -> float:
    """Median wall time of `action` over `repeat` runs; prints each run."""
    times = []
    for attempt in range(repeat):
        began = time.perf_counter()
        code = action()
        times.append(time.perf_counter() - began)
        print(f"  {label:<10} run {attempt + 1}: {times[-1]:6.2f} s (exit {code})")
    return statistics.median(times)


def semgrep_alone(target: Path) -> int:
    """semgrep exactly as the gate runs it: same argv, environment and working directory."""
    scan_target = ScanTarget(root=target.resolve())
    executable = find_executable("semgrep", setting="GATE_SEMGREP_BIN")
    with tempfile.TemporaryDirectory() as tmp:
        argv = build_argv(executable, target=scan_target, configs=[])
        return _run(argv, semgrep_env(Path(tmp)), cwd=scan_target.root)


def pip_audit_alone(target: Path, advisories: Path) -> int:
    """pip-audit on each requirements file, against the offline advisories on loopback."""
    pip_audit = find_executable("pip-audit", setting="GATE_PIP_AUDIT_BIN")
    code = 0
    with serve_advisories(load_advisory_dir(advisories)) as url:
        for manifest in sorted(target.glob("requirements*.txt")):
            argv = [
                pip_audit, "-r", str(manifest), "--no-deps", "--disable-pip",
                "--format", "json", "--progress-spinner", "off", "--osv-url", url,
            ]
            code = max(code, _run(argv, {}))
    return code


def gate_scan(target: Path, advisories: Path) -> int:
    """The whole gate, as a user runs it."""
    argv = [
        sys.executable, "-m", "gate", "scan", str(target),
        "--advisories", str(advisories), "--format", "json", "--no-progress",
    ]
    return _run(argv, {})


def _run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> int:
    completed = subprocess.run(
        argv, env={**os.environ, **env}, cwd=cwd, capture_output=True, check=False
    )
    return completed.returncode


def main() -> None:
    """Parse arguments, run the three measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", type=Path, default=ROOT / "examples/vulnerable-app")
    parser.add_argument("--advisories", type=Path, default=ROOT / "examples/advisories")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"target: {args.target}  advisories: {args.advisories}  repeat: {args.repeat}")
    semgrep = timed("semgrep", lambda: semgrep_alone(args.target), args.repeat)
    pip_audit = timed("pip-audit", lambda: pip_audit_alone(args.target, args.advisories),
                      args.repeat)
    gate = timed("gate scan", lambda: gate_scan(args.target, args.advisories), args.repeat)
    slowest = max(semgrep, pip_audit)
    print(f"median semgrep {semgrep:.2f} s | pip-audit {pip_audit:.2f} s | gate {gate:.2f} s")
    print(f"ratio gate / slowest scanner: {gate / slowest:.3f} (goal <= 1.05)")


if __name__ == "__main__":
    main()
