"""Triage rules: acceptances need an expiry within the policy maximum and expire loudly."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from register import queries, triage
from register.errors import EntryNotFoundError, TriageRefusedError
from register.recording import record_verdict_in
from tests.register.factories import T0, example_findings, verdict

NOW = datetime(2026, 1, 6, 12, 0, tzinfo=T0.tzinfo)


@pytest.fixture()
def recorded(engine: Engine) -> Engine:
    record_verdict_in(engine, verdict(example_findings(), run_id="a"))
    return engine


def _accept(session: Session, until: date | None) -> None:
    triage.accept(session, entry_id=2, reason="vendor patch pending", until=until,
                  approver="ciso", actor="bob", now=NOW)


@pytest.mark.parametrize(
    ("until", "message"),
    [(None, "needs an expiry"), (date(2026, 1, 1), "in the past"),
     (date(2026, 4, 7), "beyond the policy maximum of 90 days")],
)
def test_acceptance_is_refused(recorded: Engine, until: date | None, message: str) -> None:
    with Session(recorded) as session, pytest.raises(TriageRefusedError, match=message):
        _accept(session, until)


def test_acceptance_expiry_reopens_and_logs(recorded: Engine) -> None:
    with Session(recorded) as session, session.begin():
        _accept(session, date(2026, 4, 6))  # exactly the maximum is allowed
        assert queries.list_entries(session, status="accepted")[1] == 1
    later = datetime(2026, 4, 20, tzinfo=T0.tzinfo)  # past the acceptance and the deadline
    with Session(recorded) as session, session.begin():
        assert triage.expire_acceptances(session, now=later) == 1
    with Session(recorded) as session:
        entry = queries.get_entry(session, entry_id=2)
        events = queries.entry_events(session, entry_id=2)
        overdue, count = queries.list_entries(session, overdue=True, on=later.date())
    assert entry is not None and (entry.status, entry.accepted_until) == ("open", None)
    assert [e.kind for e in events] == ["opened", "accepted", "acceptance_expired"]
    assert "overdue since 2026-04-05" in events[-1].detail
    assert 2 in {e.id for e in overdue} and count >= 1


def test_assign_and_false_positive_are_logged_and_survive_a_new_run(recorded: Engine) -> None:
    with Session(recorded) as session, session.begin():
        triage.assign(session, entry_id=1, owner="carol", actor="bob", reason="owns templates")
        triage.mark_false_positive(session, entry_id=2, actor="bob", reason="not reachable")
    record_verdict_in(recorded, verdict(example_findings(), run_id="b", at=T0 + timedelta(1)))
    with Session(recorded) as session:
        first = queries.get_entry(session, entry_id=1)
        second = queries.get_entry(session, entry_id=2)
        kinds = [e.kind for e in queries.entry_events(session, entry_id=1)]
    assert first is not None and second is not None
    assert (first.owner, second.status) == ("carol", "false_positive")
    assert kinds == ["opened", "assigned"]


def test_an_owner_longer_than_the_register_counts_is_refused(recorded: Engine) -> None:
    with Session(recorded) as session, pytest.raises(TriageRefusedError, match="at most 200"):
        triage.assign(session, entry_id=1, owner="c" * 201, actor="bob")
    with Session(recorded) as session:
        entry = queries.get_entry(session, entry_id=1)
    assert entry is not None and entry.owner == "team-shop"


def test_reopen_a_false_positive_and_unknown_entry(recorded: Engine) -> None:
    with Session(recorded) as session, session.begin():
        triage.mark_false_positive(session, entry_id=3, actor="bob", reason="test code")
        entry = triage.reopen(session, entry_id=3, actor="alice", reason="it is reachable")
        assert entry.status == "open"
        with pytest.raises(EntryNotFoundError):
            triage.assign(session, entry_id=999, owner="x", actor="bob")


@pytest.mark.parametrize("approver", ["bob", " BOB "])
def test_four_eyes_the_requester_cannot_approve(recorded: Engine, approver: str) -> None:
    with Session(recorded) as session, pytest.raises(TriageRefusedError, match="four eyes"):
        triage.accept(session, entry_id=2, reason="r", until=date(2026, 2, 1),
                      approver=approver, actor="bob", now=NOW)


def test_bulk_checks_common_inputs_once_and_skips_what_does_not_apply(recorded: Engine) -> None:
    with Session(recorded) as session, session.begin():
        triage.mark_false_positive(session, entry_id=1, actor="bob", reason="test code")
        result = triage.bulk(session, entry_ids=[1, 2, 3, 2], action="accept", actor="bob",
                             reason="vendor fix in May", until=date(2026, 2, 1),
                             approver="ciso", now=NOW)
    with Session(recorded) as session, pytest.raises(TriageRefusedError, match="four eyes"):
        triage.bulk(session, entry_ids=[2], action="accept", actor="bob", reason="r",
                    until=date(2026, 2, 1), approver="bob", now=NOW)

    assert result.changed == (2, 3)
    assert result.skipped == ((1, "entry 1 is false_positive: nothing to accept"),)
    assert result.summary().startswith("accept: 2 changed, 1 skipped (entry 1 is false_positive")
