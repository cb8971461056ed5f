"""Recording keeps an entry whose code was edited in place, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.models import Location, ScanScope, Severity
from register import recording, triage
from register.recording import record_verdict_in
from tests.register.factories import T0, code, verdict
from tests.register.test_summary import assert_summary_exact

RULE = "python-bind-all-interfaces"


def bind(snippet: str, *, line: int = 5, scope: str | None = "serve", path: str = "app.py"):  # type: ignore[no-untyped-def]
    finding = code(RULE, path, snippet)
    where = Location(path=path, start_line=line, scope=scope)
    return finding.model_copy(update={"location": where})


def rows(engine: Engine) -> list[tuple[int, str, str, int]]:
    with engine.connect() as connection:
        found = connection.execute(sa.text(
            "SELECT id, status, fingerprint, start_line FROM risk_entry ORDER BY id")).all()
    return [(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in found]


def kinds(engine: Engine, entry_id: int) -> list[str]:
    with engine.connect() as connection:
        found = connection.execute(sa.text(
            "SELECT kind FROM risk_event WHERE entry_id = :e ORDER BY id"), {"e": entry_id})
        return [str(k[0]) for k in found]


def test_an_edit_continues_the_entry_and_other_code_opens_a_new_one(engine: Engine) -> None:
    original = bind('app.run(host="0.0.0.0", debug=debug)')
    record_verdict_in(engine, verdict([original], run_id="r1", at=T0))
    with Session(engine) as session, session.begin():
        triage.accept(session, entry_id=1, reason="behind the VPN", approver="ciso", actor="dev",
                      until=datetime.now(UTC).date() + timedelta(days=30))

    edited = bind('app.run(host="0.0.0.0", debug=False)', line=6)
    elsewhere = bind('sock.bind(("0.0.0.0", 9000))', line=20, scope="helper")
    result = record_verdict_in(
        engine, verdict([edited, elsewhere], run_id="r2", at=T0 + timedelta(days=1)))
    assert (result.opened, result.seen, result.fixed) == (1, 1, 0)
    (kept, new) = rows(engine)
    assert kept == (1, "accepted", edited.fingerprint, 6)
    assert new[1:] == ("open", elsewhere.fingerprint, 20)
    assert kinds(engine, 1) == ["opened", "accepted", "code_edited"]
    assert not [e for e in rows(engine) if e[1] == "fixed"], "nothing was fixed by the edit"

    # similar code in another function is another risk: the old entry is fixed, a new one opens
    moved = bind('app.run(host="0.0.0.0", debug=True)', line=40, scope="main")
    third = record_verdict_in(
        engine, verdict([moved, elsewhere], run_id="r3", at=T0 + timedelta(days=2),
                        scope=ScanScope.FULL))
    assert (third.opened, third.fixed) == (1, 1)
    assert rows(engine)[0][1] == "fixed"



def test_an_edit_of_an_entry_whose_fingerprint_is_empty_continues_it_once(
    engine: Engine,
) -> None:
    """An uploaded verdict may carry an empty fingerprint: its entry is continued by an edit
    like any other, not continued and opened again (the unique key refused that)."""
    original = bind('app.run(host="0.0.0.0", debug=debug)').model_copy(
        update={"fingerprint": ""})
    record_verdict_in(engine, verdict([original], run_id="r1", at=T0))
    edited = bind('app.run(host="0.0.0.0", debug=False)', line=6)
    result = record_verdict_in(engine, verdict([edited], run_id="r2", at=T0 + timedelta(days=1)))
    assert (result.opened, result.seen) == (0, 1)
    assert rows(engine) == [(1, "open", edited.fingerprint, 6)]
    assert kinds(engine, 1) == ["opened", "code_edited"]


def test_a_held_row_is_stored_as_a_streamed_one_after_the_stream(engine: Engine) -> None:
    """A new finding held for edit matching (its rule and file have entries) opens after the
    findings streamed straight through, its columns stored in the same forms (times, dates,
    JSON texts, numbers) as an alike finding's that was not held."""
    original = bind('app.run(host="0.0.0.0")')
    record_verdict_in(engine, verdict([original], run_id="r1", at=T0))
    alike = {"aliases": ("CWE-200",), "cwe": ("CWE-605",), "cvss_score": 6.5, "epss": 0.0}
    held = bind('sock.bind(("0.0.0.0", 9000))', line=20, scope="helper")
    held = held.model_copy(update={**alike, "title": "bind all"})
    streamed = bind('sock.bind(("0.0.0.0", 9000))', line=20, scope="helper", path="other.py")
    streamed = streamed.model_copy(update={**alike, "title": "bind all"})
    result = record_verdict_in(engine, verdict([held, original, streamed], run_id="r2",
                                               at=T0 + timedelta(days=1)))
    assert (result.opened, result.seen, result.fixed) == (2, 1, 0)
    ids = {fingerprint: entry_id for entry_id, _, fingerprint, _ in rows(engine)}
    assert ids[streamed.fingerprint] < ids[held.fingerprint], "held rows are staged last"
    with engine.connect() as connection:
        found = connection.execute(sa.text(
            "SELECT * FROM risk_entry WHERE id IN (:a, :b) ORDER BY id"),
            {"a": ids[streamed.fingerprint], "b": ids[held.fingerprint]}).mappings().all()
    differing = {"id", "fingerprint", "path"}
    stored = [{k: v for k, v in row.items() if k not in differing} for row in found]
    assert stored[0] == stored[1]
    assert [kinds(engine, ids[f.fingerprint]) for f in (streamed, held)] == [["opened"]] * 2


def _entries_and_events(engine: Engine) -> tuple[list[tuple[str, str, str]], list[str]]:
    with engine.connect() as connection:
        entries = connection.execute(sa.text(
            "SELECT fingerprint, severity, rule_id FROM risk_entry ORDER BY id")).all()
        found = connection.execute(sa.text("SELECT kind FROM risk_event ORDER BY id")).all()
    return [(str(f), str(s), str(r)) for f, s, r in entries], [str(k[0]) for k in found]


@pytest.mark.parametrize("batch_rows", [4096, 1])
def test_a_worse_duplicate_held_or_streamed_replaces_the_earlier_row_wherever_it_waits(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    """Two findings of one fingerprint naming different rules and files: one is held for edit
    matching (rule and file with entries), the other streams straight through. The worse one
    is recorded once, counted once, with one event (PostgreSQL refused the upsert, SQLite
    counted and logged two openings), also when the streamed one was merged in an earlier
    batch than the held one is."""
    monkeypatch.setattr(recording, "_BATCH_ROWS", batch_rows)
    known = code(RULE, "app.py", "x = 1")
    record_verdict_in(engine, verdict([known], run_id="r1", at=T0))
    streamed = code("rule-b", "other.py", "y = 2", severity=Severity.LOW)
    held = code(RULE, "app.py", "z = 3", severity=Severity.HIGH).model_copy(
        update={"fingerprint": streamed.fingerprint})
    result = record_verdict_in(engine, verdict([known, streamed, held], run_id="r2",
                                               at=T0 + timedelta(days=1)))
    assert (result.opened, result.seen, result.findings) == (1, 1, 2)
    entries, kinds_logged = _entries_and_events(engine)
    assert entries[1] == (held.fingerprint, "high", RULE)
    assert kinds_logged == ["opened", "opened"]

    # the other way round: the held row comes first and the worse one streams
    held_first = code(RULE, "app.py", "w = 4", severity=Severity.LOW)
    streamed_worse = code("rule-c", "third.py", "v = 5", severity=Severity.CRITICAL).model_copy(
        update={"fingerprint": held_first.fingerprint})
    again = record_verdict_in(engine, verdict(
        [known, held, held_first, streamed_worse], run_id="r3", at=T0 + timedelta(days=2)))
    assert (again.opened, again.seen, again.findings) == (1, 2, 3)
    entries, kinds_logged = _entries_and_events(engine)
    assert entries[2] == (held_first.fingerprint, "critical", "rule-c")
    assert kinds_logged == ["opened", "opened", "opened"]
    assert_summary_exact(engine)


@pytest.mark.parametrize("batch_rows", [4096, 1])
def test_a_held_worse_duplicate_continues_an_edited_entry_though_its_first_sighting_streamed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    """A finding streams, and a worse one of the same fingerprint is held and continues an
    entry whose code was edited: the entry takes the fingerprint, as when both are merged
    together, also when the first was merged in an earlier batch."""
    monkeypatch.setattr(recording, "_BATCH_ROWS", batch_rows)
    record_verdict_in(engine, verdict([bind('app.run(host="0.0.0.0", debug=debug)')],
                                      run_id="r1", at=T0))
    edited = bind('app.run(host="0.0.0.0", debug=False)', line=6)
    edited = edited.model_copy(update={"severity": Severity.CRITICAL})
    streamed = code("rule-b", "other.py", "y = 2", severity=Severity.LOW).model_copy(
        update={"fingerprint": edited.fingerprint})
    others = [code("rule-c", f"m{n}.py", f"v = {n}") for n in range(3)]
    result = record_verdict_in(engine, verdict([streamed, *others, edited], run_id="r2",
                                               at=T0 + timedelta(days=1)))
    assert (result.opened, result.seen, result.findings) == (3, 1, 4)
    assert rows(engine)[0] == (1, "open", edited.fingerprint, 6)
    assert kinds(engine, 1) == ["opened", "code_edited"]
    assert len(rows(engine)) == 4
    assert_summary_exact(engine)
