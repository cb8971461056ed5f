"""Recording's whole effect on a register, pinned: entries, events, summary and run counts.

A scenario of five runs (new findings with duplicates, a re-run, fixes, an acceptance, a code
edit, a dependency whose pin moved, a reopen, an older run recorded late, NUL in a text) is
recorded from verdict files and by `record_run`, then every stored row is compared with
`tests/fixtures/register/recording_golden.json`, on SQLite and on PostgreSQL. A change to how
recording works must leave this file as it is; regenerate it only for a wanted change in
what is stored (`RISKGATE_WRITE_GOLDEN=1`).
"""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.models import Location, MoneyModel, RiskContext, ScanScope, Severity, Verdict
from register import recording, triage
from register.models import RiskEntry, RiskEvent, ScanRun
from register.queries import SUMMARY
from register.record_files import record_files
from register.recording import record_run
from tests.register.factories import T0, code, dependency, verdict

GOLDEN = Path(__file__).parent.parent / "fixtures" / "register" / "recording_golden.json"
SEVERITIES = list(Severity)
MONEY = MoneyModel(
    currency="EUR",
    annual_frequency_per_probability={1: 0.01, 2: 0.05, 3: 0.2, 4: 0.5, 5: 1.0},
    loss_per_impact={1: (100, 1000), 2: (1000, 10000), 3: (10000, 50000), 4: (50000, 200000)},
)
CONTEXT = RiskContext(default_owner="team-shop", money=MONEY)


def findings(count: int, seed: int) -> list[Any]:
    """A deterministic mix of dependency and code findings with varied scoring inputs."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    found = []
    for n in range(count):
        severity = SEVERITIES[n % len(SEVERITIES)]
        if n % 3:
            extra: dict[str, Any] = {"cvss_score": rng.choice([None, 0.0, 3.9, 7.5, 9.8])}
            if n % 4 == 0:
                extra["epss_percentile"] = round(rng.random(), 4)
            if n % 11 == 0:
                extra.update(known_exploited=True, kev_due_date=date(2026, 1, 9))
            if n % 5 == 0:
                extra["fix_versions"] = ()
            found.append(dependency(f"pkg{n}", f"GHSA-{n:04d}", severity=severity, **extra))
        else:
            confidence = rng.choice([None, "high", "medium", "low"])
            found.append(code(f"rule.{n % 4}", f"app/m{n}.py", f"call_{n}(x)",
                              severity=severity, confidence=confidence))
    return found


def scenario() -> list[Verdict | tuple[Verdict, str]]:
    """The runs in recording order; a tuple names the finding to accept after that run."""
    base = findings(300, seed=7)
    nul = code("rule.nul", "app/nul.py", "x = '\x00'", title="NUL \x00 in title")
    worse = base[1].model_copy(update={"severity": Severity.CRITICAL})
    first = verdict([*base, nul, worse, base[2]], run_id="r1", context=CONTEXT)
    again = verdict([*base, nul], run_id="r2", at=T0 + timedelta(days=1), context=CONTEXT)
    edited = code("rule.0", "app/m0.py", "call_0(y)")
    edited = edited.model_copy(update={"location": Location(path="app/m0.py", start_line=4)})
    moved = base[1].model_copy(update={
        "location": Location(package="pkg1", version="1.1", manifest="requirements.txt"),
        "fingerprint": "moved-pin-of-pkg1"})
    fewer = verdict([edited, moved, *base[2:40]], run_id="r3", at=T0 + timedelta(days=2),
                    context=CONTEXT)
    back = verdict([*base[40:50], nul], run_id="r4", at=T0 + timedelta(days=3),
                   context=CONTEXT, owner="team-late")
    late = verdict(base[50:], run_id="r0", at=T0 - timedelta(days=1), context=CONTEXT,
                   scope=ScanScope.DIFF, branch="feature")
    return [first, (again, base[4].fingerprint), fewer, back, late]


def record_scenario(engine: Engine, url: str, directory: Path) -> None:
    """Record every run: odd ones from a verdict file, even ones with `record_run`."""
    for number, step in enumerate(scenario()):
        run, accept = step if isinstance(step, tuple) else (step, None)
        if number % 2 == 0:
            path = directory / f"{run.run_id}.json"
            path.write_text(run.model_dump_json(), encoding="utf-8")
            record_files([path], url=url, spool_dir=directory / "spool", project=None,
                         actor="gate", echo=lambda _line: None)
        else:
            with Session(engine) as session, session.begin():
                record_run(session, run)
        if accept is not None:
            _accept(engine, accept)


def _accept(engine: Engine, fingerprint: str) -> None:
    with Session(engine) as session, session.begin():
        entry_id = session.execute(sa.text(
            "SELECT id FROM risk_entry WHERE fingerprint = :f"), {"f": fingerprint}).scalar_one()
        triage.accept(session, entry_id=entry_id, reason="behind the VPN", approver="ciso",
                      actor="dev", until=datetime.now(UTC).date() + timedelta(days=30))


# Columns whose value depends on the day the test runs (acceptances run from today).
_TODAY_DEPENDENT = {("risk_entry", "accepted_until"), ("risk_event", "at"),
                    ("risk_event", "detail"), ("scan_run", "recorded_at")}
_TABLES: dict[str, tuple[sa.Table, tuple[str, ...]]] = {
    "risk_entry": (RiskEntry.__table__, ("id",)),  # type: ignore[attr-defined]
    "risk_event": (RiskEvent.__table__, ("id",)),  # type: ignore[attr-defined]
    "scan_run": (ScanRun.__table__, ("id",)),  # type: ignore[attr-defined]
    "risk_summary": (SUMMARY, ("project_id", "status", "probability", "impact", "band",
                               "due_date")),
}


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables recording writes, as JSON-ready values."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for name, (table, order) in _TABLES.items():
            query = sa.select(table).order_by(*(table.c[key] for key in order))
            tables[name] = [_plain(name, dict(row)) for row in connection.execute(query).mappings()]
    return tables


def _plain(table: str, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if (table, key) in _TODAY_DEPENDENT and not _recorded_event(table, row):
            value = "(today)" if value is not None else None
        elif isinstance(value, datetime):
            value = value.replace(tzinfo=None).isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float):
            value = round(value, 6)
        elif isinstance(value, bool):
            value = int(value)
        out[key] = value
    return out


def _recorded_event(table: str, row: dict[str, Any]) -> bool:
    """Events that recording writes carry the run's time, not today's."""
    return table == "risk_event" and row.get("run_id") is not None


def test_recording_stores_exactly_the_golden_register(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    record_scenario(engine, database_url, tmp_path)
    stored = dump(engine)
    if os.environ.get("RISKGATE_WRITE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(_one_row_a_line(stored), encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for table, rows in golden.items():
        assert stored[table] == rows, f"{table} differs from the golden register"


def _one_row_a_line(tables: dict[str, list[dict[str, Any]]]) -> str:
    """JSON with one row a line, so a change shows as the rows it changed."""
    parts = []
    for name, rows in tables.items():
        lines = ",\n".join(json.dumps(row, sort_keys=True) for row in rows)
        parts.append(f"{json.dumps(name)}: [\n{lines}\n]")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _up_to_ids(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """The tables with entry and event ids left out (events name their entry's fingerprint),
    each a sorted list of rows."""
    fingerprints = {row["id"]: row["fingerprint"] for row in tables["risk_entry"]}
    plain: dict[str, list[dict[str, Any]]] = {
        "risk_entry": [{k: v for k, v in row.items() if k != "id"}
                       for row in tables["risk_entry"]],
        "risk_event": [{**{k: v for k, v in row.items() if k not in ("id", "entry_id")},
                        "entry": fingerprints[row["entry_id"]]} for row in tables["risk_event"]],
        "scan_run": tables["scan_run"],
        "risk_summary": tables["risk_summary"],
    }
    return {name: sorted(json.dumps(row, sort_keys=True) for row in rows)
            for name, rows in plain.items()}


@pytest.mark.parametrize("batch_rows", [1, 7])
def test_recording_in_small_batches_stores_the_golden_register_but_for_ids(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    batch_rows: int,
) -> None:
    """Rows are merged a batch at a time (the database merges one while the next is read).
    Duplicates and held rows in other batches than their first sighting leave the register
    as one batch does; only the order of entry and event ids may differ."""
    monkeypatch.setattr(recording, "_BATCH_ROWS", batch_rows)
    record_scenario(engine, database_url, tmp_path)
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    stored, expected = _up_to_ids(dump(engine)), _up_to_ids(golden)
    for table, rows in expected.items():
        assert stored[table] == rows, f"{table} differs from the golden register"
