"""Benchmark: latency of the register's pages at scale, and the upload of a 10k-finding run.

Seeds N findings across 50 projects with bulk INSERT ... SELECT (PostgreSQL: generate_series,
SQLite: a recursive CTE), starts a real uvicorn on loopback, logs in, then measures p50/p95 of
the overview, matrix, MTTP and triage (first page), and the upload of a 10k-finding verdict.
Goals: p95 < 150 ms for pages at 1M findings; the 10k upload < 2 s.

    .venv/bin/python bench/views.py --database postgresql+psycopg://postgres@127.0.0.1/test \\
        --findings 1000000
    .venv/bin/python bench/views.py --findings 100000          # SQLite in a temp dir
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from gate.fingerprint import code_fingerprint
from gate.models import Action, Decision, EvaluatedFinding, Finding, FindingKind, Location, Verdict
from register.db import make_engine, session_scope, upgrade
from register.models import Role
from register.web.tokens import create_token

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = 50
PAGES = {
    "overview": "/",
    "matrix (API)": "/api/v1/matrix",
    "mttp": "/mttp",
    "triage (page 1)": "/triage",
}


def _series(dialect: str, count: int) -> str:
    if dialect == "postgresql":
        return f"SELECT g AS i FROM generate_series(1, {count}) AS g"  # noqa: S608 - an int
    recursive = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {})"
    return recursive.format(int(count)) + " SELECT i FROM s"  # noqa: S608 - an int


def _days(dialect: str, expression: str, base: str = "'2025-01-01'") -> str:
    if dialect == "postgresql":
        return f"(timestamp {base} + ({expression}) * interval '1 day')"
    return f"datetime({base}, '+' || ({expression}) || ' days')"


def _entry_insert(dialect: str, count: int) -> str:
    first_seen = _days(dialect, "i % 365")
    fixed_at = _days(dialect, "i % 365 + i % 60")
    due = _days(dialect, "i % 365 + 30")
    due_date = f"CAST({due} AS DATE)" if dialect == "postgresql" else f"date({due})"
    # Only integers and fixed SQL fragments are interpolated.
    return f"""
INSERT INTO risk_entry (project_id, fingerprint, kind, scanner, rule_id, aliases, title, severity,
  path, start_line, fix_versions, known_exploited, action, status, probability, impact, score,
  band, probability_reason, impact_reason, owner, sla_days, due_date, first_seen, last_seen,
  fixed_at, reopened_count, last_run_id)
SELECT 1 + i % {PROJECTS}, 'fp-' || i, 'code', 'semgrep', 'rule.' || (i % 200), '[]',
  'Finding number ' || i, CASE i % 5 WHEN 0 THEN 'critical' WHEN 1 THEN 'high'
    WHEN 2 THEN 'medium' WHEN 3 THEN 'low' ELSE 'info' END,
  'src/module_' || (i % 1000) || '.py', 1 + i % 400, '[]', i % 97 = 0, 'block',
  CASE WHEN i % 10 < 6 THEN 'open' WHEN i % 10 < 9 THEN 'fixed' ELSE 'accepted' END,
  1 + i % 5, 1 + (i / 5) % 5, (1 + i % 5) * (1 + (i / 5) % 5),
  CASE WHEN (1 + i % 5) * (1 + (i / 5) % 5) >= 20 THEN 'critical'
    WHEN (1 + i % 5) * (1 + (i / 5) % 5) >= 10 THEN 'high'
    WHEN (1 + i % 5) * (1 + (i / 5) % 5) >= 5 THEN 'medium' ELSE 'low' END,
  'bench', 'bench', 'team-' || (i % 20), 30, {due_date}, {first_seen}, {first_seen},
  CASE WHEN i % 10 BETWEEN 6 AND 8 THEN {fixed_at} END, 0, 'bench-run'
FROM ({_series(dialect, count)}) AS series
"""  # noqa: S608


def seed(url: str, count: int, *, reuse: bool = False) -> None:
    """Create the schema and insert `count` entries over 50 projects.

    With `reuse`, a database that already holds exactly `count` entries is used as it is.
    """
    upgrade(url)
    engine = make_engine(url)
    dialect = engine.dialect.name
    with engine.begin() as connection:
        held = connection.execute(sa.text("SELECT count(*) FROM risk_entry")).scalar_one()
        if reuse and held == count:
            engine.dispose()
            return
        if held:
            raise SystemExit(f"{url}: the database already holds findings; use an empty one")
        for number in range(1, PROJECTS + 1):
            connection.execute(
                sa.text("INSERT INTO project (id, name, business_criticality, data_classification,"
                        " acceptance_max_days, sla_days, created_at, updated_at) VALUES (:id, :n,"
                        " 'medium', 'internal', 90, '{}', :t, :t)"),
                {"id": number, "n": f"project-{number:02d}", "t": "2025-01-01 00:00:00"},
            )
        connection.execute(sa.text(_entry_insert(dialect, count)))
        if dialect == "postgresql":
            connection.execute(sa.text("SELECT setval('project_id_seq', :n)"), {"n": PROJECTS})
    # What autovacuum does on a live database: statistics, and the visibility map that lets
    # the count and time-to-patch queries read their indexes only.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE"))
    engine.dispose()


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    url: str, port: int, *, workers: int = 1, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """uvicorn with the app factory on loopback (`env`: extra GATE_* settings)."""
    env = {**os.environ, "GATE_DATABASE_URL": url, "GATE_SECRET_KEY": "bench" * 8, **(env or {})}
    command = [sys.executable, "-m", "uvicorn", "register.web.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
               "--workers", str(workers)]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("uvicorn did not start")


def logged_in_client(base: str, token: str) -> httpx.Client:
    """A client with a session cookie and the bearer header."""
    client = httpx.Client(base_url=base, timeout=120,
                          headers={"Authorization": f"Bearer {token}"})
    page = client.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if found is None:
        raise SystemExit("login page has no CSRF field")
    client.post("/login", data={"token": token, "csrf_token": found.group(1)})
    return client


def measure(client: httpx.Client, path: str, repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds (after one warm-up request)."""
    client.get(path).raise_for_status()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def big_verdict(count: int) -> Verdict:
    """A verdict of a new project with `count` code findings."""
    findings = tuple(
        EvaluatedFinding(
            finding=Finding(kind=FindingKind.CODE, scanner="semgrep", rule_id=f"rule.{n % 50}",
                            title=f"Upload finding {n}", severity="high",
                            fingerprint=code_fingerprint(rule_id="r", path=f"f{n}.py",
                                                         matched_code=str(n)),
                            location=Location(path=f"src/f{n}.py", start_line=n % 300 + 1)),
            action=Action.BLOCK, reason="bench",
        )
        for n in range(count)
    )
    return Verdict(decision=Decision.BLOCK, findings=findings, project="upload-bench")


def main() -> None:
    """Seed, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="Empty database URL (default: SQLite in a temp dir).")
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--upload", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        url = args.database or f"sqlite:///{Path(temp) / 'bench.db'}"
        start = time.perf_counter()
        seed(url, args.findings)
        print(f"seeded {args.findings:,} findings in {time.perf_counter() - start:.1f}s")
        engine = make_engine(url)
        with session_scope(engine) as session:
            token = create_token(session, name="bench", role=Role.ADMIN)[1]
        engine.dispose()
        port = free_port()
        server = start_server(url, port)
        try:
            client = logged_in_client(f"http://127.0.0.1:{port}", token)
            print(f"{'view':<18} {'p50 ms':>8} {'p95 ms':>8}")
            for name, path in PAGES.items():
                p50, p95 = measure(client, path, args.repeat)
                print(f"{name:<18} {p50:>8.1f} {p95:>8.1f}")
            body = big_verdict(args.upload).model_dump_json()
            start = time.perf_counter()
            response = client.post("/api/v1/runs", content=body,
                                   headers={"Content-Type": "application/json"})
            elapsed = time.perf_counter() - start
            response.raise_for_status()
            print(f"upload of {args.upload:,} findings: {elapsed:.2f}s "
                  f"({len(body) / 1e6:.1f} MB, HTTP {response.status_code})")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
