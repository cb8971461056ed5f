"""Dependency entries keep their identity when fingerprints start counting manifest and
version, and when a pin moves to another affected version; another manifest is another risk.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.decisions.interface import Decisions
from gate.fingerprint import dependency_fingerprint
from gate.models import Finding, FindingKind, Location, Severity, TriageDecision, TriageStatus
from register import triage
from register.recording import record_verdict_in
from tests.register.factories import T0, verdict

ADVISORY = "PYSEC-2021-66"
ALIASES = ("CVE-2020-28493",)


def jinja(version: str, manifest: str = "requirements.txt", *, legacy: bool = False) -> Finding:
    """A jinja2 finding as riskgate reports it now (or as it did before: `legacy`)."""
    ids = [ADVISORY, *ALIASES]
    fingerprint = (dependency_fingerprint(package="jinja2", advisory_ids=ids) if legacy else
                   dependency_fingerprint(package="jinja2", advisory_ids=ids, manifest=manifest,
                                          version=version))
    return Finding(
        kind=FindingKind.DEPENDENCY, scanner="pip-audit", rule_id=ADVISORY, aliases=ALIASES,
        title="jinja2 ReDoS", severity=Severity.MEDIUM, fingerprint=fingerprint,
        location=Location(package="jinja2", version=version, manifest=manifest),
        fix_versions=("2.11.3",),
    )


def entries(engine: Engine) -> list[tuple[int, str, str, str, str]]:
    with engine.connect() as connection:
        found = connection.execute(sa.text(
            "SELECT id, status, fingerprint, manifest, version FROM risk_entry ORDER BY id"))
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in found]


def events(engine: Engine, entry_id: int) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        found = connection.execute(sa.text(
            "SELECT kind, detail FROM risk_event WHERE entry_id = :e ORDER BY id"), {"e": entry_id})
        return [(str(k), str(d)) for k, d in found]


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def test_an_entry_recorded_before_keeps_its_identity_and_acceptance(engine: Engine) -> None:
    record_verdict_in(engine, verdict([jinja("2.10", legacy=True)], run_id="r1", at=day(0)))
    with Session(engine) as session, session.begin():
        triage.accept(session, entry_id=1, reason="sandbox unused", approver="ciso", actor="dev",
                      until=datetime.now(UTC).date() + timedelta(days=30))

    now = jinja("2.10")
    other = jinja("2.11.2", "services/api/requirements.txt")
    result = record_verdict_in(engine, verdict([now, other], run_id="r2", at=day(1)))
    assert (result.opened, result.seen, result.fixed) == (1, 1, 0)
    (kept, new) = entries(engine)
    assert kept == (1, "accepted", now.fingerprint, "requirements.txt", "2.10")
    assert new[1:] == ("open", other.fingerprint, "services/api/requirements.txt", "2.11.2")
    kind, detail = events(engine, 1)[-1]
    assert kind == "dependency_updated"
    assert detail.startswith("jinja2 2.10 in requirements.txt: one entry per manifest and version")

    again = record_verdict_in(engine, verdict([now, other], run_id="r3", at=day(2)))
    assert (again.opened, again.seen, again.fixed) == (0, 2, 0), "stable from now on"


def test_a_pin_moved_to_another_affected_version_continues_the_entry(engine: Engine) -> None:
    record_verdict_in(engine, verdict([jinja("2.10")], run_id="r1", at=day(0)))
    moved = jinja("2.11.2")
    result = record_verdict_in(engine, verdict([moved], run_id="r2", at=day(1)))
    assert (result.opened, result.seen, result.fixed) == (0, 1, 0)
    assert entries(engine) == [(1, "open", moved.fingerprint, "requirements.txt", "2.11.2")]
    assert events(engine, 1)[-1][1].startswith(
        "jinja2 2.10 → 2.11.2 in requirements.txt: the advisory still applies")


def test_the_same_advisory_in_another_manifest_is_another_risk(engine: Engine) -> None:
    record_verdict_in(engine, verdict([jinja("2.10")], run_id="r1", at=day(0)))
    elsewhere = jinja("2.10", "docs/requirements.txt")
    result = record_verdict_in(engine, verdict([elsewhere], run_id="r2", at=day(1)))
    assert (result.opened, result.fixed) == (1, 1)
    assert [e[1] for e in entries(engine)] == ["fixed", "open"]


def test_a_fixed_entry_recorded_before_reopens_as_it_would_have(engine: Engine) -> None:
    record_verdict_in(engine, verdict([jinja("2.10", legacy=True)], run_id="r1", at=day(0)))
    record_verdict_in(engine, verdict([], run_id="r2", at=day(1)))
    assert entries(engine)[0][1] == "fixed"
    result = record_verdict_in(engine, verdict([jinja("2.10")], run_id="r3", at=day(2)))
    assert (result.opened, result.reopened) == (0, 1)
    assert [e[:2] for e in entries(engine)] == [(1, "open")]


def test_the_gate_applies_a_decision_recorded_under_the_old_fingerprint() -> None:
    old = jinja("2.10", legacy=True)
    decision = TriageDecision(status=TriageStatus.FALSE_POSITIVE, reason="not reachable",
                              source="register")
    decisions = Decisions({old.fingerprint: decision})
    assert decisions.for_finding(jinja("2.10")) == decision
    assert decisions.for_finding(jinja("2.10", "docs/requirements.txt")) == decision


def test_an_entry_whose_stored_fingerprint_is_empty_is_continued_not_duplicated(
    engine: Engine,
) -> None:
    """An uploaded verdict may carry any fingerprint, the empty one too (found by the upload
    fuzz test on PostgreSQL): the entry it made is continued by the real fingerprint once, as
    any other; the new row is not also inserted (which broke the unique key: a 500)."""
    blank = jinja("2.10").model_copy(update={"fingerprint": ""})
    record_verdict_in(engine, verdict([blank], run_id="r1", at=day(0)))
    now = jinja("2.10")
    result = record_verdict_in(engine, verdict([now], run_id="r2", at=day(1)))
    assert (result.opened, result.seen, result.fixed) == (0, 1, 0)
    assert entries(engine) == [(1, "open", now.fingerprint, "requirements.txt", "2.10")]
    assert events(engine, 1)[-1][0] == "dependency_updated"
