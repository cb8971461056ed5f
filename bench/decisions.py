"""Benchmark: triage decisions at scale, read by the gate and followed across code edits.

Records N findings (bench/ingest.py's mix, code findings with snippets), marks a tenth of them
accepted or false positive, then measures:
- `project_decisions` (what `--database` and GET /api/v1/projects/{p}/decisions run);
- `evaluate()` of the N findings with those decisions (`Decisions.resolve`), after editing
  1 % of the code findings in place so the edit matcher has work to do;
- recording that edited run, which holds new code findings and re-keys the edited entries,
  next to recording the same run unedited.

    .venv/bin/python bench/decisions.py --n 100000 [--postgres]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import POSTGRES_URL, drop_schema, make_finding, make_verdict, postgres_schema  # noqa: E402

from gate.decisions.interface import Decisions  # noqa: E402
from gate.fingerprint import code_fingerprint  # noqa: E402
from gate.models import EvaluatedFinding, FindingKind  # noqa: E402
from gate.policy.evaluate import evaluate  # noqa: E402
from gate.policy.load import parse_policy  # noqa: E402
from register.db import make_engine, upgrade  # noqa: E402
from register.decisions import project_decisions  # noqa: E402
from register.recording import record_verdict_in  # noqa: E402

T = TypeVar("T")
POLICY = parse_policy("version: 1\nname: bench\nrules:\n  - {name: all, action: block}\n"
                      "decisions: {max_severity: critical}\n", source="bench.yml")


def with_snippet(item: EvaluatedFinding, *, edited: bool = False) -> EvaluatedFinding:
    """Give a code finding matched code (as semgrep's adapter does); `edited` changes it."""
    finding = item.finding
    if finding.kind is not FindingKind.CODE:
        return item
    code = f"request_handler(user_input, flag=True)  # {finding.fingerprint[:12]}"
    if edited:
        code = code.replace("flag=True", "flag=False")
    path = finding.location.path or ""
    fingerprint = code_fingerprint(rule_id=finding.rule_id, path=path, matched_code=code)
    return item.model_copy(update={"finding": finding.model_copy(
        update={"snippet": code, "fingerprint": fingerprint,
                "location": finding.location.model_copy(update={"scope": "handler"})})})


def timed(label: str, action: Callable[[], T]) -> T:
    began = time.perf_counter()
    result = action()
    print(f"  {label:<52} {time.perf_counter() - began:7.3f} s")
    return result


def run(url: str, n: int) -> None:
    rng = random.Random(7)  # noqa: S311 - benchmark data
    items = [with_snippet(make_finding(rng, i)) for i in range(n)]
    start = datetime(2026, 11, 2, tzinfo=UTC)
    upgrade(url)
    engine = make_engine(url)
    timed(f"record {n} findings", lambda: record_verdict_in(engine, make_verdict(items, start)))
    until = datetime.now(UTC).date() + timedelta(days=30)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "UPDATE risk_entry SET status = CASE WHEN id % 20 = 0 THEN 'false_positive' "
            "ELSE 'accepted' END, accepted_until = :until WHERE id % 10 = 0"), {"until": until})
    with engine.connect() as connection:
        decided = timed("project_decisions (register read)",
                        lambda: project_decisions(connection, project="bench"))
    code_items = [i for i in items if i.finding.kind is FindingKind.CODE]
    edited_ids = {id(i) for i in code_items[:: 100]}
    edited = [with_snippet(i, edited=True) if id(i) in edited_ids else i for i in items]
    findings = [i.finding for i in edited]
    verdict = evaluate(findings, POLICY, decisions=Decisions(decided))  # warm-up
    began = time.perf_counter()
    verdict = evaluate(findings, POLICY, decisions=Decisions(decided))
    label = f"evaluate {n} findings with {len(decided)} decisions"
    print(f"  {label:<52} {time.perf_counter() - began:7.3f} s")
    waived = sum(1 for f in verdict.findings if f.triage is not None and f.action.value == "ignore")
    print(f"  {'findings not blocking':<52} {waived:>7}")
    later = start + timedelta(days=1)
    timed("record the same run again (nothing edited)",
          lambda: record_verdict_in(engine, make_verdict(items, later)))
    result = timed(f"record with {len(edited_ids)} code findings edited in place",
                   lambda: record_verdict_in(engine, make_verdict(edited, later + timedelta(1))))
    print(f"  {'entries opened by the edited run':<52} {result.opened:>7}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite:")
        run(f"sqlite:///{folder}/bench.db", args.n)
    schema = postgres_schema() if args.postgres else None
    if schema is not None:
        url = sa.engine.make_url(POSTGRES_URL).update_query_dict(
            {"options": f"-csearch_path={schema}"})
        try:
            print("PostgreSQL:")
            run(url.render_as_string(hide_password=False), args.n)
        finally:
            drop_schema(schema)


if __name__ == "__main__":
    main()
