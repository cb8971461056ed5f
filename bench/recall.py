"""Benchmark: what riskgate's rule pack finds on the labelled corpus, beside bandit.

The corpus (tests/fixtures/corpus) marks every deliberate flaw on the line a scanner should
report, `# flaw: <kind>` (or `{# flaw: <kind> #}` in templates); lines marked with the same
`<kind>@<name>` in one file are one flaw (a query built on one line, run on the next), found when
any of them is reported. Each vulnerable app has a safe twin with look-alikes. A finding that
spans no flaw line is a false positive (counted once per file and line). Legs: the gate
itself (`gate scan`, pip-audit off), bandit when it is installed (all findings, and medium
severity and up), and each `--semgrep-config` given (semgrep alone, e.g. another rule pack).

    .venv/bin/python bench/recall.py [CORPUS] [--semgrep-config CONFIG ...] [-v]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gate.scanners.process import find_executable
from gate.scanners.semgrep import INSTALL_HINT, semgrep_env

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests/fixtures/corpus"
MARKER = re.compile(r"flaw:\s*([\w-]+(?:@[\w-]+)?)")
# The gate's own scan of the corpus: every finding reported, dependencies not audited.
BENCH_POLICY = """version: 1
name: recall-bench
default_action: warn
rules: []
scanners:
  pip-audit: {enabled: false}
"""

Line = tuple[str, int]


@dataclass(frozen=True)
class Span:
    """Where one finding is: a corpus-relative path and its first and last line."""

    path: str
    start: int
    end: int


@dataclass(frozen=True)
class Score:
    """One tool's result: the flaws it found and the places it reported without a flaw."""

    found: frozenset[str]
    false_positives: frozenset[Line]


def labels(root: Path) -> dict[Line, str]:
    """Every marked line of the corpus -> the flaw it belongs to (`kind@file:name|line`)."""
    flaws: dict[Line, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "README.md"):
        relative = path.relative_to(root).as_posix()
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if marker := MARKER.search(text):
                kind, _, name = marker.group(1).partition("@")
                flaws[(relative, number)] = f"{kind}@{relative}:{name or number}"
    return flaws


def kind(flaw: str) -> str:
    """The kind of a flaw id (`sqli@app.py:7` -> `sqli`)."""
    return flaw.partition("@")[0]


def score(flaws: dict[Line, str], spans: list[Span]) -> Score:
    """Match findings to flaws: a finding finds the flaw of each marked line it spans."""
    found: set[str] = set()
    false_positives: set[Line] = set()
    for span in spans:
        hit = {(span.path, line) for line in range(span.start, span.end + 1)} & flaws.keys()
        found |= {flaws[line] for line in hit}
        if not hit:
            false_positives.add((span.path, span.start))
    return Score(frozenset(found), frozenset(false_positives))


def _run(argv: list[str], *, cwd: Path, ok: tuple[int, ...] = (0, 1)) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode not in ok:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        sys.exit(f"recall: {Path(argv[0]).name} failed (exit {done.returncode}): {lines[-1]}")
    return done.stdout


def gate_spans(root: Path, tmp: Path) -> list[Span]:
    """The gate's code findings on the corpus (`gate scan --json`)."""
    policy, report = tmp / "policy.yml", tmp / "verdict.json"
    policy.write_text(BENCH_POLICY, encoding="utf-8")
    _run([sys.executable, "-m", "gate", "scan", str(root), "--policy", str(policy),
          "--json", str(report), "--no-progress", "-q"], cwd=tmp)
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    locations = [f["finding"]["location"] for f in findings if f["finding"]["kind"] == "code"]
    return [Span(loc["path"], loc["start_line"], loc["end_line"] or loc["start_line"])
            for loc in locations if loc["path"] and loc["start_line"]]


def bandit_spans(root: Path, executable: str, *, medium_up: bool) -> list[Span]:
    """bandit's findings on the corpus, all or only medium and high severity."""
    results = json.loads(_run([executable, "-r", ".", "-f", "json", "-q"], cwd=root))["results"]
    kept = [r for r in results if not medium_up or r["issue_severity"] in ("MEDIUM", "HIGH")]
    return [Span(r["filename"].removeprefix("./"), min(r["line_range"]), max(r["line_range"]))
            for r in kept]


def semgrep_spans(root: Path, config: str, tmp: Path) -> list[Span]:
    """semgrep alone with another config on the corpus."""
    semgrep = find_executable("semgrep", setting="GATE_SEMGREP_BIN", install_hint=INSTALL_HINT)
    config = str(Path(config).resolve()) if Path(config).exists() else config
    argv = [semgrep, "scan", "--json", "--metrics=off", "--disable-version-check", "--config",
            config, "--x-ignore-semgrepignore-files", "."]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False,
                          env={**os.environ, **semgrep_env(tmp)})
    if done.returncode not in (0, 1):
        sys.exit(f"recall: semgrep --config {config} failed (exit {done.returncode})")
    return [Span(r["path"].removeprefix("./"), r["start"]["line"], r["end"]["line"])
            for r in json.loads(done.stdout)["results"]]


def legs(root: Path, configs: list[str], tmp: Path) -> dict[str, list[Span]]:
    """Run every available tool on the corpus."""
    spans = {"riskgate": gate_spans(root, tmp)}
    bandit = shutil.which("bandit", path=f"{Path(sys.executable).parent}{os.pathsep}"
                                         f"{os.environ.get('PATH', '')}")
    if bandit is None:
        print("bandit is not installed: its leg is skipped (pip install -e '.[dev]')")
    else:
        spans["bandit"] = bandit_spans(root, bandit, medium_up=False)
        spans["bandit (medium+)"] = bandit_spans(root, bandit, medium_up=True)
    for config in configs:
        spans[f"semgrep {config}"] = semgrep_spans(root, config, tmp)
    return spans


def report(flaws: dict[Line, str], scores: dict[str, Score], *, verbose: bool) -> None:
    """Print recall and false positives side by side, then recall per kind of flaw."""
    total = len(set(flaws.values()))
    print(f"{'tool':<22}{'found':>10}{'recall':>9}{'false pos.':>12}{'precision':>11}")
    for tool, result in scores.items():
        found, wrong = len(result.found), len(result.false_positives)
        precision = found / (found + wrong) if found + wrong else 1.0
        print(f"{tool:<22}{f'{found}/{total}':>10}{found / total:>9.0%}"
              f"{wrong:>12}{precision:>11.0%}")
    kinds = Counter(kind(flaw) for flaw in set(flaws.values()))
    print(f"\n{'kind':<22}" + "".join(f"{tool[:16]:>18}" for tool in scores))
    for name, count in sorted(kinds.items()):
        cells = (sum(1 for flaw in s.found if kind(flaw) == name) for s in scores.values())
        print(f"{name:<22}" + "".join(f"{f'{n}/{count}':>18}" for n in cells))
    if verbose:
        for tool, result in scores.items():
            for flaw in sorted(set(flaws.values()) - result.found):
                print(f"{tool}: missed {flaw}")
            for path, line in sorted(result.false_positives):
                print(f"{tool}: false positive at {path}:{line}")


def main() -> None:
    """Parse arguments, run the legs, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--semgrep-config", action="append", default=[], metavar="CONFIG")
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and FPs")
    args = parser.parse_args()
    root = args.corpus.resolve()
    if not root.is_dir():
        sys.exit(f"recall: {args.corpus} is not a directory")
    flaws = labels(root)
    if not flaws:
        sys.exit(f"recall: no '# flaw: <kind>' markers under {root}")
    print(f"corpus: {root} ({len(set(flaws.values()))} marked flaws)")
    with tempfile.TemporaryDirectory(prefix="riskgate-recall-") as tmp:
        spans = legs(root, args.semgrep_config, Path(tmp))
    report(flaws, {tool: score(flaws, found) for tool, found in spans.items()},
           verbose=args.verbose)


if __name__ == "__main__":
    main()
