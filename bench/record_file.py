"""Benchmark: record a large verdict FILE as users do, from the CLI and by an upload.

Writes a verdict of N findings (the mix of bench/ingest.py), then measures, each in a fresh
process so the peak memory is that of the step:
- `gate register record FILE` into SQLite and into PostgreSQL (wall time, peak RSS);
- a gzip upload to a real uvicorn on loopback (`POST /api/v1/runs`, Content-Encoding: gzip)
  into SQLite and PostgreSQL (wall time of the request, peak RSS of the server process);
- with `--outage`, `gate register record FILE` while the database is down (it spools the run)
  and `gate register replay` of that spool into SQLite.
CPU time is the child's user + system time (for an upload, the server's during the request).
Goals: 100,000 findings ≤ 3 s on SQLite, ≤ 5 s on PostgreSQL, peak memory ≤ 300 MB.
`--before REF` also measures the code of git REF (a temporary worktree), alternating with this
checkout case by case, and prints the ratios now / before of the median wall times.

    .venv/bin/python bench/record_file.py --n 100000 [--repeat 3] [--before REF]
        [--skip-postgres] [--skip-upload] [--outage] [--only-outage]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import POSTGRES_URL, drop_schema, make_finding, make_verdict, postgres_schema  # noqa: E402
from views import free_port  # noqa: E402

from register.db import make_engine, session_scope  # noqa: E402
from register.models import Role  # noqa: E402
from register.web.tokens import create_token  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def write_verdict(path: Path, n: int) -> None:
    """A verdict JSON of `n` findings, as `gate scan --format json` writes it."""
    rng = random.Random(42)
    findings = [make_finding(rng, i) for i in range(n)]
    verdict = make_verdict(findings, datetime(2026, 1, 5, tzinfo=UTC))
    path.write_text(verdict.model_dump_json(), encoding="utf-8")


def write_verdicts(first: Path, second: Path, n: int) -> None:
    """The verdict, its gzip form to upload and a copy with a fresh run id (run in a process
    of its own)."""
    write_verdict(first, n)
    gzipped(first).write_bytes(gzip.compress(first.read_bytes(), compresslevel=6))
    with_run_id(first, second)


def gzipped(verdict: Path) -> Path:
    """Where the gzip form of `verdict` is written."""
    return verdict.with_name(verdict.name + ".gz")


def with_run_id(source: Path, target: Path) -> None:
    """A copy of the verdict with a fresh run id (a new run of the same findings)."""
    text = source.read_text(encoding="utf-8")
    old = text.split('"run_id":"', 1)[1].split('"', 1)[0]
    target.write_text(text.replace(old, uuid.uuid4().hex, 1), encoding="utf-8")


Measured = tuple[float, float, int, float]  # wall s, peak RSS MB, exit code/status, CPU s


def run_measured(
    argv: list[str], env: dict[str, str], code: Path = ROOT, *, expected: int = 0
) -> Measured:
    """Wall seconds, peak RSS in MB, exit code and CPU seconds of one child process run in
    `code` (a checkout: `python -m` imports its packages); its stderr is shown unless it
    exits `expected`."""
    began = time.perf_counter()
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=code,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != expected:
        print("   ", process.stderr.read().decode()[-400:] if process.stderr else "")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), cpu


def cli_record(url: str, verdict: Path, code: Path = ROOT) -> Measured:
    """`gate register record FILE --database URL` in a fresh process, with `code`'s riskgate."""
    argv = [sys.executable, "-m", "gate", "register", "record", str(verdict), "--database", url]
    return run_measured(argv, {}, code)


def migrate(url: str, code: Path) -> None:
    """`gate db upgrade` with `code`'s riskgate (its migrations, whatever this checkout's are)."""
    argv = [sys.executable, "-m", "gate", "db", "upgrade", "--database", url]
    subprocess.run(argv, cwd=code, check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def checkout(ref: str, directory: Path) -> Iterator[Path]:
    """A detached worktree of `ref` in `directory`, removed afterwards."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                    str(directory), ref], check=True)
    try:
        yield directory
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(directory)],
                       check=False)


class Server:
    """uvicorn on loopback in a fresh process; its peak RSS and CPU are read when it exits."""

    def __init__(self, url: str, code: Path = ROOT) -> None:
        migrate(url, code)
        engine = make_engine(url)
        with session_scope(engine) as session:
            self.token = create_token(session, name="bench", role=Role.UPLOADER)[1]
        engine.dispose()
        self.port = free_port()
        env = {**os.environ, "GATE_DATABASE_URL": url, "GATE_SECRET_KEY": "bench" * 8,
               "GATE_MAX_UPLOAD_BYTES": str(1 << 30)}
        command = [sys.executable, "-m", "uvicorn", "register.web.app:create_app", "--factory",
                   "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(command, cwd=code, env=env)
        for _ in range(300):
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("uvicorn did not start")

    @property
    def base(self) -> str:
        """The service's loopback URL."""
        return f"http://127.0.0.1:{self.port}"

    def upload(self, verdict: Path) -> tuple[float, int]:
        """POST the verdict gzip-compressed (written beside it); (seconds, HTTP status)."""
        body = gzipped(verdict).read_bytes()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                   "Content-Encoding": "gzip"}
        began = time.perf_counter()
        response = httpx.post(f"{self.base}/api/v1/runs", content=body, headers=headers,
                              timeout=300)
        seconds = time.perf_counter() - began
        if response.status_code >= 300:
            print(f"    HTTP {response.status_code}: {response.text[:200]}")
        return seconds, response.status_code

    def cpu(self) -> float:
        """CPU seconds the server has used so far (its start-up included)."""
        with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> float:
        """Stop the server; its peak RSS in MB."""
        self.process.terminate()
        _, _, usage = os.wait4(self.process.pid, 0)
        return usage.ru_maxrss / 1024


def fresh_sqlite(directory: Path) -> str:
    """A new SQLite database URL in `directory`."""
    return f"sqlite:///{directory / f'{uuid.uuid4().hex}.db'}"


def fresh_postgres(schemas: list[str]) -> str | None:
    """A new schema on the test server (remembered for cleanup), or None."""
    schema = postgres_schema()
    if schema is None:
        return None
    schemas.append(schema)
    url = sa.engine.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def report(label: str, runs: list[Measured]) -> None:
    """Median wall and CPU time, the largest peak RSS and every wall time of `runs`."""
    seconds = statistics.median(run[0] for run in runs)
    cpu = statistics.median(run[3] for run in runs)
    peak = max(run[1] for run in runs)
    codes = sorted({run[2] for run in runs})
    walls = " ".join(f"{run[0]:.2f}" for run in runs)
    print(f"  {label:<42} median {seconds:6.2f} s  CPU {cpu:6.2f} s  peak RSS {peak:6.0f} MB"
          f"  exit/status {codes}  (walls {walls})")


def main() -> None:
    """Write the verdict, then interleave the measurements `--repeat` times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="git ref of the code to compare with (alternated)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--outage", action="store_true",
                        help="also spool while the database is down, and replay the spool")
    parser.add_argument("--only-outage", action="store_true",
                        help="only the outage cases (SQLite)")
    args = parser.parse_args()
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as temp, contextlib.ExitStack() as stack:
        directory = Path(temp)
        codes = {"now": ROOT}
        if args.before:
            codes = {"before": stack.enter_context(checkout(args.before, directory / "before")),
                     **codes}
        first, second = directory / "verdict.json", directory / "again.json"
        # In a process of its own: a child's peak RSS counts the parent's at fork/exec time,
        # so this process never holds a verdict.
        writer = multiprocessing.get_context("spawn").Process(
            target=write_verdicts, args=(first, second, args.n))
        writer.start()
        writer.join()
        print(f"verdict: {args.n:,} findings, {first.stat().st_size / 1e6:.0f} MB")
        backends: list[tuple[str, Callable[[], str | None]]] = [
            ("SQLite", lambda: fresh_sqlite(directory))]
        if not args.skip_postgres:
            backends.append(("PostgreSQL", lambda: fresh_postgres(schemas)))
        results: dict[str, dict[str, list[Measured]]] = {}
        try:
            for _ in range(args.repeat):
                for name, fresh in backends:
                    for side, code in codes.items():
                        if not args.only_outage:
                            measure(name, fresh, code, first, second, args.skip_upload,
                                    results.setdefault(side, {}))
                        if (args.outage or args.only_outage) and name == "SQLite":
                            measure_outage(fresh, code, first, results.setdefault(side, {}))
        finally:
            for schema in schemas:
                drop_schema(schema)
    for side, measured in results.items():
        print(f"{side}" + (f" ({args.before})" if side == "before" else "") + ":")
        for label, runs in measured.items():
            report(label, runs)
    if "before" in results:
        print("ratios now / before (median wall time):")
        for label, runs in results["now"].items():
            before = statistics.median(run[0] for run in results["before"][label])
            now = statistics.median(run[0] for run in runs)
            print(f"  {label:<42} {now / before:5.2f}")
    print("  load average (1, 5, 15 min): " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


def measure(
    name: str, fresh: Callable[[], str | None], code: Path, first: Path, second: Path,
    skip_upload: bool, results: dict[str, list[Measured]],
) -> None:
    """One round of one backend with `code`'s riskgate: a new run, a re-run, an upload."""
    url = fresh()
    if url is None:
        return
    migrate(url, code)
    results.setdefault(f"{name} CLI record (new)", []).append(cli_record(url, first, code))
    results.setdefault(f"{name} CLI record (same findings, new run)", []).append(
        cli_record(url, second, code))
    if skip_upload:
        return
    server = Server(fresh() or url, code)
    idle = server.cpu()
    seconds, status = server.upload(first)
    cpu = server.cpu() - idle
    peak = server.stop()
    results.setdefault(f"{name} gzip upload (new)", []).append((seconds, peak, status, cpu))


CLOSED_PORT = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1


def measure_outage(
    fresh: Callable[[], str | None], code: Path, verdict: Path,
    results: dict[str, list[Measured]],
) -> None:
    """`gate register record` with the database down (exit 2, the run spooled), then
    `gate register replay` of the spool into a fresh register."""
    url = fresh()
    if url is None:
        return
    migrate(url, code)
    spool = Path(tempfile.mkdtemp(prefix="spool-"))
    try:
        down = [sys.executable, "-m", "gate", "register", "record", str(verdict),
                "--database", CLOSED_PORT]
        results.setdefault("SQLite CLI record, database down (spools)", []).append(
            run_measured(down, {"GATE_SPOOL_DIR": str(spool)}, code, expected=2))
        replay = [sys.executable, "-m", "gate", "register", "replay", "--spool-dir", str(spool),
                  "--database", url]
        results.setdefault("SQLite replay of that spool", []).append(
            run_measured(replay, {}, code))
    finally:
        shutil.rmtree(spool, ignore_errors=True)


if __name__ == "__main__":
    main()
