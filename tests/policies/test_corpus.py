"""The labelled corpus, scanned as the detection bench does it (`bench/recall.py`).

Every marked flaw of the vulnerable apps must be found, nothing on their safe twins or on
unmarked lines may be reported, and the gate must find more than bandit with fewer false
positives.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ROW = re.compile(
    r"^(?P<tool>riskgate|bandit)\s+(?P<found>\d+)/(?P<total>\d+)\s+\d+%\s+(?P<fp>\d+)", re.MULTILINE
)


@pytest.mark.semgrep
def test_the_gate_finds_every_marked_flaw_and_nothing_else(semgrep_env: str) -> None:
    done = subprocess.run([sys.executable, str(REPO_ROOT / "bench/recall.py"), "-v"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    rows = {m["tool"]: m for m in ROW.finditer(done.stdout)}
    gate = rows["riskgate"]
    misses = [line for line in done.stdout.splitlines() if line.startswith("riskgate:")]
    assert misses == []
    assert gate["found"] == gate["total"] and gate["fp"] == "0"
    if "bandit" in rows:
        assert int(rows["bandit"]["found"]) < int(gate["found"])
        assert int(rows["bandit"]["fp"]) > int(gate["fp"])


def test_the_bench_says_when_the_corpus_has_no_markers(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(REPO_ROOT / "bench/recall.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    message = f"recall: no '# flaw: <kind>' markers under {tmp_path.resolve()}"
    assert done.stderr.strip().splitlines() == [message]

