"""Benchmark: record N realistic findings into SQLite and PostgreSQL, then again, then 10 % changed.

    .venv/bin/python bench/ingest.py --n 100000

Prints findings/second for each step. PostgreSQL (GATE_TEST_POSTGRES_URL, default
127.0.0.1:5432/test) is skipped with a message when unreachable; it runs in a throwaway schema.
Goals: 100,000 findings in < 10 s on SQLite and < 15 s on PostgreSQL; re-recording no slower.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gate.fingerprint import code_fingerprint, dependency_fingerprint  # noqa: E402
from gate.models import (  # noqa: E402
    Action,
    Decision,
    EvaluatedFinding,
    Finding,
    FindingKind,
    Location,
    Severity,
    Verdict,
)
from register.db import make_engine, upgrade  # noqa: E402
from register.recording import record_verdict_in  # noqa: E402

POSTGRES_URL = os.environ.get(
    "GATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SEVERITIES = list(Severity)


def make_finding(rng: random.Random, n: int) -> EvaluatedFinding:
    """A dependency finding (70 %) or a code finding (30 %), numbered `n`."""
    severity = rng.choice(SEVERITIES)
    if rng.random() < 0.7:
        package, advisory = f"package-{n % 5000}", f"GHSA-{n:04x}-bench-{n}"
        finding = Finding(
            kind=FindingKind.DEPENDENCY, scanner="pip-audit", rule_id=advisory,
            title=f"{package}: {advisory}", severity=severity,
            fingerprint=dependency_fingerprint(package=package, advisory_ids=[advisory]),
            location=Location(package=package, version="1.2.3", manifest="requirements.txt"),
            aliases=(f"CVE-2025-{n}",), fix_versions=("1.2.4",),
            cvss_score=round(rng.uniform(2, 10), 1), epss_percentile=rng.random(),
            known_exploited=rng.random() < 0.02,
        )
    else:
        rule, path = f"python.bench.rule-{n % 200}", f"src/module_{n % 3000}.py"
        finding = Finding(
            kind=FindingKind.CODE, scanner="semgrep", rule_id=rule, title=f"{rule} in {path}",
            severity=severity, confidence=rng.choice(["high", "medium", "low"]),
            fingerprint=code_fingerprint(rule_id=rule, path=path, matched_code=f"call({n})"),
            location=Location(path=path, start_line=n % 900 + 1),
        )
    return EvaluatedFinding(finding=finding, action=Action.WARN, reason="bench", owner="team-a")


def make_verdict(findings: list[EvaluatedFinding], at: datetime) -> Verdict:
    """A full-scope verdict of project `bench` at `at`."""
    return Verdict(run_id=uuid.uuid4().hex, decision=Decision.WARN, findings=tuple(findings),
                   project="bench", branch="main", started_at=at, finished_at=at)


def timed(label: str, count: int, action: Callable[[], object]) -> None:
    """Run `action` and print its throughput."""
    began = time.perf_counter()
    action()
    seconds = time.perf_counter() - began
    click.echo(f"  {label:<34} {count:>8} findings {seconds:7.2f} s {count / seconds:>10,.0f} /s")


def run_backend(name: str, url: str, n: int) -> None:
    """Record the three runs into one database."""
    rng = random.Random(42)  # noqa: S311 - benchmark data
    findings = [make_finding(rng, i) for i in range(n)]
    changed = findings[: n - n // 10] + [make_finding(rng, n + i) for i in range(n // 10)]
    start = datetime(2026, 1, 5, tzinfo=UTC)
    first = make_verdict(findings, start)
    upgrade(url)
    engine = make_engine(url)
    click.echo(f"{name}:")
    timed("first recording", n, lambda: record_verdict_in(engine, first))
    timed("same run again (idempotent)", n, lambda: record_verdict_in(engine, first))
    again = make_verdict(findings, start + timedelta(days=1))
    timed("same findings, new run", n, lambda: record_verdict_in(engine, again))
    diff = make_verdict(changed, start + timedelta(days=2))
    timed("new run, 10 % changed", n, lambda: record_verdict_in(engine, diff))
    engine.dispose()


def postgres_schema() -> str | None:
    """A fresh schema on the test server, or None when it is unreachable."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.begin() as connection:
            connection.execute(sa.schema.CreateSchema(schema))
        engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        click.echo(f"PostgreSQL: skipped ({str(exc).splitlines()[0]})")
        return None
    return schema


def drop_schema(schema: str) -> None:
    """Remove the benchmark's schema."""
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.schema.DropSchema(schema, cascade=True))
    engine.dispose()


@click.command()
@click.option("--n", "count", type=click.IntRange(1), default=100_000, show_default=True)
@click.option("--skip-postgres", is_flag=True)
def main(count: int, skip_postgres: bool) -> None:
    """Record N findings into SQLite and PostgreSQL and print findings/second."""
    with tempfile.TemporaryDirectory() as directory:
        run_backend("SQLite", f"sqlite:///{Path(directory) / 'bench.db'}", count)
    schema = None if skip_postgres else postgres_schema()
    if schema is not None:
        url = sa.engine.make_url(POSTGRES_URL).update_query_dict(
            {"options": f"-csearch_path={schema}"})
        try:
            run_backend("PostgreSQL", url.render_as_string(hide_password=False), count)
        finally:
            drop_schema(schema)


if __name__ == "__main__":
    main()
