"""`risk_summary` (kept by the triggers of migration 0002) always equals a fresh GROUP BY.

Checked after every kind of write: recordings (open, seen with a new score, auto-fix, reopen by
a later sighting), triage (assign, accept, reopen, false positive), acceptance expiry, raw SQL
deletes, and concurrent recordings and triage from several threads. Both databases.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.models import Finding, MoneyModel, RiskContext, ScanScope, Severity
from register import queries, triage
from register.db import session_scope
from register.recording import record_verdict_in
from tests.register.factories import T0, code, dependency, verdict

DAY = timedelta(days=1)
KEY = "project_id, status, probability, impact, band, due_date"
FIXED_ON_TIME = {
    "sqlite": "status = 'fixed' AND date(fixed_at) <= due_date",
    "postgresql": "status = 'fixed' AND CAST(fixed_at AS DATE) <= due_date",
}
FRESH = (
    f"SELECT {KEY}, count(*), count(annual_loss_low), coalesce(sum(annual_loss_low), 0),"  # noqa: S608
    " coalesce(sum(annual_loss_high), 0), sum(CASE WHEN {on_time} THEN 1 ELSE 0 END)"
    f" FROM risk_entry GROUP BY {KEY}"
)
STORED = f"SELECT {KEY}, entries, priced, loss_low, loss_high, on_time FROM risk_summary"  # noqa: S608
MONEY = RiskContext(
    money=MoneyModel(
        currency="EUR",
        loss_per_impact={i: (1000.0 * i, 5000.0 * i) for i in range(1, 6)},
        annual_frequency_per_probability={p: p / 10 for p in range(1, 6)},
    )
)


Counts = tuple[int, int, float, float, int]


def _rows(engine: Engine, sql: str) -> dict[tuple[object, ...], Counts]:
    with engine.connect() as connection:
        return {
            tuple(row[:6]): (int(row[6]), int(row[7]), round(row[8], 6), round(row[9], 6),
                             int(row[10]))
            for row in connection.execute(sa.text(sql))
        }


def assert_summary_exact(engine: Engine) -> None:
    """The summary holds exactly the fresh counts, sums and on-time fixes, and no empty rows."""
    fresh = FRESH.replace("{on_time}", FIXED_ON_TIME[engine.dialect.name])
    assert _rows(engine, STORED) == _rows(engine, fresh)


def _findings(count: int, *, severity: Severity = Severity.HIGH) -> list[Finding]:
    return [dependency(f"pkg{n}", f"CVE-2026-{n}", severity=severity) for n in range(count)]


def test_summary_follows_recordings_fixes_and_reopens(engine: Engine) -> None:
    first = _findings(6) + [code("rule.a", "app.py", "eval(x)")]
    record_verdict_in(engine, verdict(first, run_id="r1", context=MONEY))
    assert_summary_exact(engine)
    # Seen again with a new severity (new probability/impact/band), two gone (auto-fixed).
    rescored = _findings(4, severity=Severity.CRITICAL) + first[6:]
    record_verdict_in(engine, verdict(rescored, run_id="r2", at=T0 + DAY, context=MONEY))
    assert_summary_exact(engine)
    # The fixed ones come back (reopened with a fresh deadline); another project records too.
    record_verdict_in(engine, verdict(first, run_id="r3", at=T0 + 2 * DAY))
    record_verdict_in(engine, verdict(first[:2], run_id="o1", project="other"))
    # A diff run fixes nothing; the same run again changes nothing.
    record_verdict_in(engine, verdict(first[:1], run_id="r4", at=T0 + 3 * DAY,
                                      scope=ScanScope.DIFF))
    record_verdict_in(engine, verdict(first, run_id="r3", at=T0 + 2 * DAY))
    assert_summary_exact(engine)
    with Session(engine) as session:
        summaries = {s.name: s for s in queries.project_summaries(session)}
    assert summaries["shop"].open == 7 and summaries["other"].open == 2


def test_summary_follows_triage_and_expiry(engine: Engine) -> None:
    record_verdict_in(engine, verdict(_findings(5), run_id="r1", context=MONEY))
    with session_scope(engine) as session:
        ids = [e.id for e in queries.list_entries(session, sort="id")[0] if e.id is not None]
    now = T0 + DAY
    with session_scope(engine) as session:
        triage.assign(session, entry_id=ids[0], owner="alice", actor="t", now=now)
        triage.accept(session, entry_id=ids[1], reason="later", until=(now + DAY).date(),
                      approver="boss", actor="t", now=now)
        triage.accept(session, entry_id=ids[2], reason="later", until=(now + 5 * DAY).date(),
                      approver="boss", actor="t", now=now)
        triage.mark_false_positive(session, entry_id=ids[3], actor="t", reason="test", now=now)
    assert_summary_exact(engine)
    with session_scope(engine) as session:
        triage.reopen(session, entry_id=ids[3], actor="t", reason="was real", now=now)
        assert triage.expire_acceptances(session, now=now + 3 * DAY) == 1
    assert_summary_exact(engine)
    with Session(engine) as session:
        total = queries.list_entries(session, status="accepted")[1]
        overdue = queries.list_entries(session, overdue=True, on=(T0 + 400 * DAY).date())[1]
    assert total == 1 and overdue == 4


def test_summary_follows_raw_deletes(engine: Engine) -> None:
    record_verdict_in(engine, verdict(_findings(3), run_id="r1", context=MONEY))
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM risk_event"))
        connection.execute(sa.text("DELETE FROM risk_entry WHERE rule_id <> 'CVE-2026-0'"))
    assert_summary_exact(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM risk_entry"))
    assert _rows(engine, STORED) == {}


def _record_runs(engine: Engine, worker: int) -> None:
    for run in range(4):
        findings = _findings(20 + worker * 5 + run, severity=Severity.MEDIUM)
        record_verdict_in(engine, verdict(findings, run_id=f"w{worker}-{run}",
                                          at=T0 + (run + worker) * DAY, scope=ScanScope.PARTIAL))


def _triage_entries(engine: Engine, errors: list[BaseException]) -> None:
    for _ in range(6):
        try:
            with session_scope(engine) as session:
                for entry in queries.list_entries(session, status="open", limit=3)[0]:
                    assert entry.id is not None  # noqa: S101 - stored
                    triage.mark_false_positive(session, entry_id=entry.id, actor="t",
                                               reason="noise")
        except Exception as exc:  # noqa: BLE001 - a deadlock abort is allowed, not a wrong sum
            errors.append(exc)


def test_summary_stays_exact_under_concurrent_writers(engine: Engine) -> None:
    record_verdict_in(engine, verdict(_findings(10), run_id="seed", scope=ScanScope.PARTIAL))
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_record_runs, args=(engine, w)) for w in range(3)]
    threads.append(threading.Thread(target=_triage_entries, args=(engine, errors)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert_summary_exact(engine)
    with Session(engine) as session:
        false_positives = queries.list_entries(session, status="false_positive")[1]
    assert false_positives > 0 or errors
