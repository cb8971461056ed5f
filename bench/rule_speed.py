"""Benchmark: semgrep's time with riskgate's rule pack now, against the pack at an earlier commit.

Builds a tree of N files (default 3,000) by copying real Python and template files (this
repository's own code, the example app and the labelled corpus) under numbered folders, then
runs semgrep as the gate does (same flags, same jobs; semgrep's Python pre-validation of
the rules skipped, as for the gate's own pack: `--prevalidate` keeps it) with each pack,
interleaved round by round, and prints every run, the medians and the ratios now / before
(goal: <= 1.5), for wall time and for CPU time (semgrep and its children, user + system).
The load average is printed before and after: wall times taken while other work loads the
machine are labelled "under load"; CPU time is the steadier figure then.

`--source DIR` (repeatable) builds the tree from other code instead, e.g. an installed
library set (`.venv/lib/python3.11/site-packages`): this repository is a web service, denser in
request handlers and SQL than most code, so both kinds of tree are worth a figure.

    .venv/bin/python bench/rule_speed.py [--before REF] [--files N] [--repeat R] [--jobs J]
                                         [--source DIR ...]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from gate.config import bundled_semgrep_rules
from gate.scanners.process import find_executable
from gate.scanners.semgrep import (
    INSTALL_HINT,
    PER_FILE_TIMEOUT,
    SKIP_RULE_PREVALIDATION,
    semgrep_env,
)

ROOT = Path(__file__).resolve().parent.parent
# main before the detection-depth rules of issue 8 (web settings, secrets formats, JWT...).
BEFORE = "f2e56df"
SOURCES = ("gate", "register", "examples/vulnerable-app", "tests/fixtures/corpus")


def old_pack(ref: str, into: Path) -> Path:
    """The rule files (`*.yml`) of policies/semgrep at `ref`, written under `into`."""
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{ref}:policies/semgrep"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if names.returncode != 0:
        sys.exit(f"rule_speed: no policies/semgrep at {ref}: {names.stderr.strip()}")
    into.mkdir(parents=True)
    for name in (n for n in names.stdout.split() if n.endswith(".yml")):
        text = subprocess.run(["git", "show", f"{ref}:policies/semgrep/{name}"], cwd=ROOT,
                              capture_output=True, check=True).stdout
        (into / name).write_bytes(text)
    return into


def build_tree(into: Path, count: int, sources: Sequence[Path] = ()) -> Path:
    """`count` files copied round-robin from `sources` (default: SOURCES), 100 to a folder."""
    roots = sources or [ROOT / source for source in SOURCES]
    files = sorted(p for root in roots for p in root.rglob("*")
                   if p.is_file() and p.suffix in (".py", ".html"))
    if not files:
        sys.exit(f"rule_speed: no .py or .html files under {', '.join(map(str, roots))}")
    for index, source in zip(range(count), itertools.cycle(files), strict=False):
        target = into / f"part{index // 100:03d}" / f"f{index:05d}_{source.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return into


def scan_seconds(
    semgrep: str, rules: Path, tree: Path, *, jobs: int, tmp: Path, prevalidate: bool = False
) -> tuple[float, float]:
    """Wall and CPU time of one semgrep scan of `tree` with `rules`, run as the gate runs it."""
    argv = [semgrep, "scan", "--json", "--metrics=off", "--disable-version-check",
            "--jobs", str(jobs), "--timeout", str(PER_FILE_TIMEOUT), "--config", str(rules),
            *([] if prevalidate else SKIP_RULE_PREVALIDATION), "--x-ignore-semgrepignore-files",
            "-o", str(tmp / "out.json"), "."]
    cpu_before, began = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, cwd=tree, capture_output=True, check=False,
                          env={**os.environ, **semgrep_env(tmp)})
    elapsed, cpu = time.perf_counter() - began, _children_cpu() - cpu_before
    if done.returncode not in (0, 1):
        sys.exit(f"rule_speed: semgrep failed (exit {done.returncode}): "
                 f"{done.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    return elapsed, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Parse arguments, build the tree, time both packs interleaved, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git ref of the earlier pack")
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--prevalidate", action="store_true",
                        help="let semgrep pre-validate the rules in Python, as the gate did "
                             "before it skipped that for its own pack")
    parser.add_argument("--source", type=Path, action="append", default=[],
                        help="build the tree from this folder's files (repeatable)")
    args = parser.parse_args()
    if args.files < 1 or args.repeat < 1 or args.jobs < 1:
        sys.exit("rule_speed: --files, --repeat and --jobs must be at least 1")
    semgrep = find_executable("semgrep", setting="GATE_SEMGREP_BIN", install_hint=INSTALL_HINT)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="riskgate-rule-speed-") as tmp_name:
        tmp = Path(tmp_name)
        packs = {"before": old_pack(args.before, tmp / "before"), "now": bundled_semgrep_rules()}
        tree = build_tree(tmp / "tree", args.files, args.source)
        made_of = ", ".join(map(str, args.source)) or "this repository"
        print(f"tree: {args.files} files from {made_of}; before: {args.before}; jobs: {args.jobs}; "
              f"semgrep rule pre-validation {'on' if args.prevalidate else 'off'}; "
              f"load average {load_before:.2f} on {os.cpu_count()} CPUs")
        wall: dict[str, list[float]] = {name: [] for name in packs}
        cpu: dict[str, list[float]] = {name: [] for name in packs}
        for round_index in range(args.repeat):
            order = list(packs) if round_index % 2 == 0 else list(reversed(packs))
            for name in order:
                seconds, cpu_seconds = scan_seconds(semgrep, packs[name], tree, jobs=args.jobs,
                                                    tmp=tmp, prevalidate=args.prevalidate)
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
                print(f"  round {round_index + 1} {name:<6} {seconds:7.2f} s wall "
                      f"{cpu_seconds:7.2f} s CPU")
    load_after = os.getloadavg()[0]
    busy = max(load_before, load_after) > 0.5 * (os.cpu_count() or 1)
    for label, times in (("wall", wall), ("CPU", cpu)):
        before, now = (statistics.median(times[name]) for name in ("before", "now"))
        print(f"{label}: median before {before:.2f} s | median now {now:.2f} s | "
              f"ratio {now / before:.2f} (goal <= 1.5)"
              + (f" -- under load (load average {load_after:.2f})"
                 if busy and label == "wall" else ""))


if __name__ == "__main__":
    main()
