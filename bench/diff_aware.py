"""Benchmark: a diff-aware scan (`--baseline HEAD~1`) against a plain scan of the same tree.

Builds a git repository in a temp dir: commit 1 is the tree (TARGET, or with `--large` the
example app plus copies of large installed packages: thousands of real Python files), commit 2
edits a few files (a new vulnerable call in each) and one manifest pin. Then runs, interleaved
round by round in fresh processes, `gate scan REPO` and `gate scan REPO --baseline HEAD~1`, and
prints each run, the medians and the ratio (goal: <= 1.1). Both verdicts are compared: the
diff-aware one must hold the same findings, split into new and existing.

    .venv/bin/python bench/diff_aware.py [TARGET] [--large] [--repeat N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gate.config import default_policy_path

ROOT = Path(__file__).resolve().parent.parent
LARGE_PACKAGES = ("sqlalchemy", "pip", "setuptools", "pydantic", "fastapi", "starlette")
EDITED_FILES = 5
LEGS = ("plain", "diff-aware")


def git(repo: Path, *argv: str) -> None:
    """Run git in `repo` quietly, as a fixed identity."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    subprocess.run(["git", "-C", str(repo), *argv], check=True, capture_output=True, env=env)


def package_dir(name: str) -> Path | None:
    """Where an installed package's sources are, if it is installed."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def build_repo(repo: Path, target: Path, *, large: bool) -> int:
    """Commit the tree, then a change of a few files and one pin; the tree's Python file count."""
    shutil.copytree(target, repo, ignore=shutil.ignore_patterns(".git", "__pycache__"))
    if large:
        for name in LARGE_PACKAGES:
            source = package_dir(name)
            if source is not None:
                shutil.copytree(source, repo / "vendor" / name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    python_files = sorted(repo.rglob("*.py"))
    step = max(1, len(python_files) // EDITED_FILES)
    for path in python_files[::step][:EDITED_FILES]:
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\n\ndef _bench_added(text):\n    return eval(text)\n")
    manifests = sorted(repo.glob("requirements*.txt"))
    if manifests:
        with manifests[0].open("a", encoding="utf-8") as handle:
            handle.write("\nurllib3==1.26.4\n")
    git(repo, "commit", "-q", "-am", "change")
    return len(python_files)


def run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and exit code of one fresh-process command."""
    began = time.perf_counter()
    completed = subprocess.run(argv, capture_output=True, check=False, env=os.environ)
    if completed.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv)} failed:\n{completed.stderr.decode(errors='replace')}")
    return time.perf_counter() - began, completed.returncode


def summary(path: Path) -> tuple[set[str], int]:
    """The fingerprints of a verdict and how many it marks new."""
    findings = json.loads(path.read_text(encoding="utf-8"))["findings"]
    return ({f["finding"]["fingerprint"] for f in findings},
            sum(1 for f in findings if f.get("in_baseline") is False))


def main() -> None:
    """Build the repository, run the interleaved measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", type=Path, default=ROOT / "examples/vulnerable-app")
    parser.add_argument("--large", action="store_true",
                        help="Add copies of large installed packages to the tree.")
    parser.add_argument("--advisories", type=Path, default=ROOT / "examples/advisories")
    parser.add_argument("--policy", type=Path, default=default_policy_path())
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        repo = Path(temp) / "repo"
        files = build_repo(repo, args.target.resolve(), large=args.large)
        print(f"repository: {files} Python files; commit 2 edits {EDITED_FILES} files and a pin")
        base = [sys.executable, "-m", "gate", "scan", str(repo), "--no-progress",
                "--advisories", str(args.advisories.resolve()),
                "--policy", str(args.policy.resolve())]
        outputs = {name: Path(temp) / f"{name}.json" for name in LEGS}
        argvs = {"plain": [*base, "--json", str(outputs["plain"])],
                 "diff-aware": [*base, "--baseline", "HEAD~1", "--json",
                                str(outputs["diff-aware"])]}
        times: dict[str, list[float]] = {name: [] for name in LEGS}
        for round_index in range(args.repeat):
            order = LEGS if round_index % 2 == 0 else LEGS[::-1]
            for name in order:
                seconds, code = run(argvs[name])
                times[name].append(seconds)
                print(f"  round {round_index + 1} {name:<10} {seconds:7.2f} s (exit {code})")
        plain, diff = summary(outputs["plain"]), summary(outputs["diff-aware"])
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(" | ".join(f"median {name} {medians[name]:.2f} s" for name in LEGS))
    print(f"ratio diff-aware / plain: {medians['diff-aware'] / medians['plain']:.3f} (goal <= 1.1)")
    same = "same findings" if plain[0] == diff[0] else "DIFFERENT findings"
    print(f"verdicts: {len(plain[0])} findings in both runs ({same}); {diff[1]} marked new")


if __name__ == "__main__":
    main()
