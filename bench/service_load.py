"""Benchmark: the register's service under a team's load (loopback only, bounded).

Seeds N findings (as bench/views.py does; `--reuse` keeps a database already seeded with N),
starts a real uvicorn with `--workers W` on 127.0.0.1, logs in, then runs C concurrent clients
that request the overview and the triage page in turn for S seconds. Prints requests per
second, p50/p95/max latency per page, and any errors. Goals (issue #13) at 1M findings on
PostgreSQL, 16 clients, 60 s: >= 200 req/s, p95 <= 150 ms, no errors.

    .venv/bin/python bench/service_load.py \\
        --database postgresql+psycopg://postgres@127.0.0.1/test \\
        --findings 1000000 --clients 16 --seconds 60 --workers 2
    .venv/bin/python bench/service_load.py --findings 100000 --paths /mttp   # SQLite, temp dir
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
from views import free_port, logged_in_client, seed, start_server

from register.db import make_engine, session_scope
from register.models import Role
from register.web.tokens import create_token

MAX_CLIENTS = 256
MAX_SECONDS = 600


async def client_loop(
    base: str, cookies: httpx.Cookies, paths: list[str], *, until: float,
    latencies: dict[str, list[float]], errors: list[str],
) -> None:
    """One client: request `paths` in turn until the deadline, recording each latency."""
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
        turn = 0
        while time.perf_counter() < until:
            path = paths[turn % len(paths)]
            turn += 1
            began = time.perf_counter()
            try:
                response = await client.get(path)
            except httpx.HTTPError as exc:
                errors.append(f"{path}: {type(exc).__name__}")
                continue
            latencies[path].append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                errors.append(f"{path}: HTTP {response.status_code}")


async def load(
    base: str, cookies: httpx.Cookies, paths: list[str], *, clients: int, seconds: float
) -> tuple[dict[str, list[float]], list[str], float]:
    """Run `clients` concurrent loops; latencies per path, errors and the elapsed time."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    began = time.perf_counter()
    until = began + seconds
    await asyncio.gather(*(
        client_loop(base, cookies, paths[index % len(paths):] + paths[:index % len(paths)],
                    until=until, latencies=latencies, errors=errors)
        for index in range(clients)
    ))
    return latencies, errors, time.perf_counter() - began


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values`."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def report(latencies: dict[str, list[float]], errors: list[str], elapsed: float) -> None:
    """Print throughput, latency per page and the errors."""
    total = sum(len(values) for values in latencies.values())
    everything = [value for values in latencies.values() for value in values]
    print(f"{total} requests in {elapsed:.1f} s: {total / elapsed:.1f} req/s, "
          f"{len(errors)} errors")
    print(f"{'page':<12} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for path, values in [*sorted(latencies.items()), ("all", everything)]:
        if values:
            print(f"{path:<12} {len(values):>8} {statistics.median(values):>8.1f} "
                  f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f}")
    for error in sorted(set(errors))[:10]:
        print(f"error: {error} (x{errors.count(error)})")


def main() -> None:
    """Seed, serve, load, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="Database URL (default: SQLite in a temp dir).")
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true",
                        help="Use a database already seeded with exactly --findings entries.")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--paths", default="/,/triage", help="Comma-separated pages to load.")
    parser.add_argument("--page-cache-seconds", type=float, default=None,
                        help="GATE_PAGE_CACHE_SECONDS of the service (0: every page rendered "
                        "afresh; default: the service's default).")
    args = parser.parse_args()
    if not (1 <= args.clients <= MAX_CLIENTS and 0 < args.seconds <= MAX_SECONDS):
        parser.error(f"--clients 1..{MAX_CLIENTS} and --seconds up to {MAX_SECONDS}")
    with tempfile.TemporaryDirectory() as temp:
        url = args.database or f"sqlite:///{Path(temp) / 'bench.db'}"
        began = time.perf_counter()
        seed(url, args.findings, reuse=args.reuse)
        print(f"database ready with {args.findings:,} findings in "
              f"{time.perf_counter() - began:.1f} s")
        engine = make_engine(url)
        with session_scope(engine) as session:
            token = create_token(session, name="load", role=Role.ADMIN)[1]
        engine.dispose()
        port = free_port()
        cache = args.page_cache_seconds
        server = start_server(url, port, workers=args.workers, env={} if cache is None else
                              {"GATE_PAGE_CACHE_SECONDS": str(cache)})
        try:
            base = f"http://127.0.0.1:{port}"
            warm = logged_in_client(base, token)
            paths = args.paths.split(",")
            for path in paths:
                warm.get(path).raise_for_status()
            cookies = warm.cookies
            warm.close()
            print(f"{args.clients} clients x {args.seconds:g} s on {', '.join(paths)}, "
                  f"{args.workers} worker(s), page cache "
                  f"{'default' if cache is None else f'{cache:g} s'}")
            report(*asyncio.run(load(base, cookies, paths, clients=args.clients,
                                     seconds=args.seconds)))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
