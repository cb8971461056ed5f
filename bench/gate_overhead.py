"""Benchmark: how much the gate adds on top of its scanners.

Three commands on the same target, interleaved round by round (rotating their order), each in
a fresh process so no in-process cache carries over:

- semgrep alone: the gate's own semgrep adapter (same argv, environment, jobs) and nothing else;
- pip-audit alone: the gate's own pip-audit adapter (same manifests and flags, the same offline
  advisories served on loopback) and nothing else;
- `gate scan`: both scanners in parallel, enrichment, policy, reports.

Prints every run, the medians and the ratio gate / slowest scanner (goal: <= 1.05).

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
from pathlib import Path

from gate.config import default_policy_path
from gate.pipeline import usable_cpus

ROOT = Path(__file__).resolve().parent.parent
LEGS = ("semgrep", "pip-audit", "gate")


def run_leg(name: str, target: Path, *, advisories: Path, policy_path: Path) -> None:
    """Run one scanner exactly as the gate would (in this fresh process); exit 2 if it fails."""
    from gate.config import GateConfig
    from gate.errors import GateError
    from gate.pipeline import SCANNERS, build_target, load_enrichment
    from gate.policy.load import load_policy

    config = GateConfig(target=target, advisories_dir=advisories, policy_path=policy_path)
    policy = load_policy(config.policy_path)
    enrichment = load_enrichment(config, policy)
    scan_target = build_target(config, policy, root=target, enrichment=enrichment)
    try:
        output = SCANNERS[name]().run(scan_target)
    except GateError as exc:
        print(f"{name} failed: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(f"{name}: {len(output.findings)} findings", file=sys.stderr)


def leg_argv(name: str, target: Path, *, data: list[str], output: Path) -> list[str]:
    """The command line of one leg; `data` names the advisories and the policy."""
    if name == "gate":
        return [
            sys.executable, "-m", "gate", "scan", str(target), *data,
            "--json", str(output), "--no-progress",
        ]
    return [sys.executable, __file__, "--leg", name, str(target), *data]


def measure(target: Path, data: list[str], repeat: int) -> dict[str, list[float]]:
    """Wall times per leg, interleaved: round r starts with leg r mod 3."""
    times: dict[str, list[float]] = {name: [] for name in LEGS}
    with tempfile.TemporaryDirectory() as tmp:
        for round_index in range(repeat):
            shift = round_index % len(LEGS)
            for name in LEGS[shift:] + LEGS[:shift]:
                argv = leg_argv(name, target, data=data, output=Path(tmp) / "verdict.json")
                began = time.perf_counter()
                completed = subprocess.run(argv, capture_output=True, check=False, env=os.environ)
                elapsed = time.perf_counter() - began
                times[name].append(elapsed)
                print(f"  round {round_index + 1} {name:<9} {elapsed:7.2f} s "
                      f"(exit {completed.returncode})")
                if completed.returncode not in (0, 1):
                    sys.exit(f"{name} failed:\n{completed.stderr.decode(errors='replace')}")
    return times


def main() -> None:
    """Parse arguments, run the interleaved measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", type=Path, default=ROOT / "examples/vulnerable-app")
    parser.add_argument("--advisories", type=Path, default=ROOT / "examples/advisories")
    parser.add_argument("--policy", type=Path, default=default_policy_path())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--leg", choices=("semgrep", "pip-audit"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    target, advisories = args.target.resolve(), args.advisories.resolve()
    if args.leg:
        run_leg(args.leg, target, advisories=advisories, policy_path=args.policy)
        return
    print(f"target: {target}  advisories: {advisories}  policy: {args.policy}")
    print(f"{args.repeat} rounds, interleaved; semgrep jobs: policy or {usable_cpus()} CPUs")
    data = ["--advisories", str(advisories), "--policy", str(args.policy.resolve())]
    times = measure(target, data, args.repeat)
    medians = {name: statistics.median(values) for name, values in times.items()}
    slowest = max(medians["semgrep"], medians["pip-audit"])
    print(" | ".join(f"median {name} {medians[name]:.2f} s" for name in LEGS))
    print(f"ratio gate / slowest scanner: {medians['gate'] / slowest:.3f} (goal <= 1.05)")


if __name__ == "__main__":
    main()
