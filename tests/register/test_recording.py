"""Recording semantics on SQLite and PostgreSQL: idempotence, fixes, reopening, deadlines."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from gate.models import Finding, Location, RiskContext, ScanScope, Severity
from register import queries, recording
from register.db import make_engine, upgrade
from register.errors import RegisterInputError
from register.models import RiskEntry, RiskEvent, ScanRun
from register.recording import record_verdict_in
from tests.register.factories import T0, code, dependency, example_findings, verdict
from tests.register.test_summary import assert_summary_exact

DAY = timedelta(days=1)


def entries(engine: Engine) -> dict[str, RiskEntry]:
    with Session(engine) as session:
        return {e.rule_id: e for e in session.exec(select(RiskEntry)).all()}


def table_counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (RiskEntry.__table__, RiskEvent.__table__, ScanRun.__table__)  # type: ignore[attr-defined]
        )


def test_recording_the_same_run_twice_changes_nothing(engine: Engine) -> None:
    first = record_verdict_in(engine, verdict(example_findings(), run_id="run-1"))
    before = (table_counts(engine), entries(engine))
    again = record_verdict_in(engine, verdict(example_findings(), run_id="run-1"))
    assert first.opened == 5 and again.already_recorded
    assert (table_counts(engine), entries(engine)) == before


def test_seen_again_updates_last_seen_only(engine: Engine) -> None:
    record_verdict_in(engine, verdict(example_findings(), run_id="a"))
    result = record_verdict_in(engine, verdict(example_findings(), run_id="b", at=T0 + 2 * DAY))
    assert (result.opened, result.seen) == (0, 5)
    entry = entries(engine)["CVE-2023-32681"]
    assert entry.first_seen == T0 and entry.last_seen == T0 + 2 * DAY
    assert entry.last_run_id == "b" and entry.status == "open"


def test_a_rerun_rewrites_what_changed_and_only_the_sighting_of_the_rest(engine: Engine) -> None:
    """An unchanged entry gets its sighting alone (a narrow update); a new title, aliases or an
    EPSS turned -0.0 are written as the full update writes them."""
    kept, renamed = dependency("e", "CVE-5"), dependency("b", "CVE-2")
    record_verdict_in(engine, verdict([
        kept, renamed, dependency("a", "CVE-1", epss=0.0),
        dependency("c", "CVE-3", aliases=("X-1",))], run_id="r1"))
    before = entries(engine)
    result = record_verdict_in(engine, verdict([
        kept, renamed.model_copy(update={"title": "renamed"}),
        dependency("a", "CVE-1", epss=-0.0), dependency("c", "CVE-3", aliases=("X-1", "X-2"))],
        run_id="r2", at=T0 + DAY))

    after = entries(engine)
    assert (result.opened, result.seen) == (0, 4)
    assert {e.last_run_id for e in after.values()} == {"r2"}
    assert {e.last_seen for e in after.values()} == {T0 + DAY}
    sighting = {"last_seen", "last_run_id"}
    assert after["CVE-5"].model_dump(exclude=sighting) == before["CVE-5"].model_dump(
        exclude=sighting)
    assert after["CVE-2"].title == "renamed" and after["CVE-3"].aliases == ["X-1", "X-2"]
    epss = after["CVE-1"].epss
    assert epss == 0 and str(epss) == ("-0.0" if engine.dialect.name == "postgresql" else "0.0")


def test_full_scan_without_an_entry_marks_it_fixed_at_run_time(engine: Engine) -> None:
    findings = example_findings()
    record_verdict_in(engine, verdict(findings, run_id="a"))
    result = record_verdict_in(engine, verdict(findings[1:], run_id="b", at=T0 + 3 * DAY))
    assert result.fixed == 1
    fixed = entries(engine)["CVE-2024-22195"]
    assert fixed.status == "fixed" and fixed.fixed_at == T0 + 3 * DAY
    assert entries(engine)["CVE-2023-32681"].status == "open"


def test_diff_and_partial_scans_never_fix(engine: Engine) -> None:
    record_verdict_in(engine, verdict(example_findings(), run_id="a"))
    for number, scope in enumerate((ScanScope.DIFF, ScanScope.PARTIAL), start=1):
        result = record_verdict_in(
            engine, verdict([], run_id=f"s{number}", at=T0 + number * DAY, scope=scope)
        )
        assert result.fixed == 0
    assert {e.status for e in entries(engine).values()} == {"open"}


def test_full_scan_of_another_branch_does_not_fix_main(engine: Engine) -> None:
    record_verdict_in(engine, verdict(example_findings(), run_id="a"))
    record_verdict_in(engine, verdict([], run_id="b", at=T0 + DAY, branch="feature/x"))
    assert {e.status for e in entries(engine).values()} == {"open"}


def test_fixed_entry_seen_again_reopens_with_event_and_new_deadline(engine: Engine) -> None:
    findings = example_findings()
    record_verdict_in(engine, verdict(findings, run_id="a"))
    record_verdict_in(engine, verdict(findings[1:], run_id="b", at=T0 + DAY))
    result = record_verdict_in(engine, verdict(findings, run_id="c", at=T0 + 10 * DAY))
    assert result.reopened == 1
    entry = entries(engine)["CVE-2024-22195"]
    assert (entry.status, entry.fixed_at, entry.reopened_count) == ("open", None, 1)
    assert entry.due_date == (T0 + 10 * DAY).date() + timedelta(days=90)  # medium SLA
    with Session(engine) as session:
        kinds = [e.kind for e in queries.entry_events(session, entry_id=entry.id or 0)]
    assert kinds == ["opened", "fixed", "reopened"]


def test_kev_entry_is_due_kev_sla_after_first_seen_and_keeps_cisas_date(engine: Engine) -> None:
    kev = dependency("pyyaml", "CVE-2020-14343", severity=Severity.CRITICAL, known_exploited=True,
                     kev_due_date=date(2022, 5, 3))
    old_kev = dependency("pillow", "CVE-2023-4863", severity=Severity.HIGH, known_exploited=True,
                         kev_due_date=date(2021, 6, 1))
    record_verdict_in(engine, verdict([kev, old_kev], run_id="a"))
    critical, high = entries(engine)["CVE-2020-14343"], entries(engine)["CVE-2023-4863"]
    assert critical.due_date == T0.date() + timedelta(days=7)  # critical SLA is shorter
    assert high.due_date == T0.date() + timedelta(days=14)  # KEV SLA, not CISA's 2021 date
    assert high.kev_due_date == date(2021, 6, 1)
    assert high.due_date >= high.first_seen.date()


def test_owner_comes_from_the_finding_then_the_project_default(engine: Engine) -> None:
    context = RiskContext(default_owner="team-default")
    record_verdict_in(engine, verdict(example_findings()[:1], run_id="a", owner="alice",
                                      context=context))
    record_verdict_in(engine, verdict(example_findings()[1:2], run_id="b", context=context,
                                      scope=ScanScope.PARTIAL))
    owners = {rule: e.owner for rule, e in entries(engine).items()}
    assert owners == {"CVE-2024-22195": "alice", "CVE-2023-32681": "team-default"}


def test_hostile_and_huge_strings_are_stored_verbatim(engine: Engine) -> None:
    hostile = "'); DROP TABLE risk_entry; -- <script>alert(1)</script> [b]x[/] =cmd|' /C calc'!A0"
    huge = "A" * 200_000 + "\u202e\u0000end"
    path = "../../etc/passwd; rm -rf / $(id) `id` %s %n {0}"
    finding = code("rule.hostile", path, hostile, title=hostile + huge)
    record_verdict_in(engine, verdict([finding], run_id="h"))
    stored = entries(engine)["rule.hostile"]
    # NUL is the one character PostgreSQL text cannot hold: it becomes U+FFFD on both databases.
    assert stored.title == hostile + huge.replace("\u0000", "\ufffd")
    assert stored.path == path


def test_lists_of_texts_are_stored_as_the_json_type_writes_them(engine: Engine) -> None:
    aliases = ("CVE-2024-1", 'quote " back \\ slash', "caf\u00e9 \u65e5\u672c", "tab\tline\n\u2028")
    finding = dependency("odd", "GHSA-odd", aliases=aliases, fix_versions=("2.0", "3.0rc1"),
                         cwe=(), owasp=("A03:2021",))
    record_verdict_in(engine, verdict([finding], run_id="j"))
    with engine.connect() as connection:
        stored = connection.execute(sa.text(
            "SELECT CAST(aliases AS TEXT), CAST(fix_versions AS TEXT), CAST(cwe AS TEXT),"
            " CAST(owasp AS TEXT) FROM risk_entry")).one()
    expected = (aliases, ("2.0", "3.0rc1"), (), ("A03:2021",))
    assert tuple(stored) == tuple(json.dumps(list(texts)) for texts in expected)


def test_user_story_record_twice_then_one_fewer_gives_mttp(engine: Engine) -> None:
    findings = example_findings()
    record_verdict_in(engine, verdict(findings, run_id="story-1"))
    record_verdict_in(engine, verdict(findings, run_id="story-1"))
    record_verdict_in(engine, verdict(findings[1:], run_id="story-2", at=T0 + 6 * DAY))
    with Session(engine) as session:
        fixed, total = queries.list_entries(session, status="fixed")
        report = queries.mttp(session)
        runs = session.exec(select(sa.func.count()).select_from(ScanRun)).one()
    assert total == 1 and fixed[0].rule_id == "CVE-2024-22195" and runs == 2
    assert [(r.group, r.fixed, r.mean_days, r.median_days) for r in report.by_severity] == [
        ("medium", 1, 6.0, 6.0)
    ]
    assert report.sla_overall.percent == 100.0


def test_older_run_recorded_late_does_not_move_last_seen_back(engine: Engine) -> None:
    record_verdict_in(engine, verdict(example_findings(), run_id="new", at=T0 + 5 * DAY))
    record_verdict_in(engine, verdict(example_findings(), run_id="old", at=T0))
    with Session(engine) as session:
        seen = session.exec(select(col(RiskEntry.last_seen)).distinct()).all()
    assert seen == [T0 + 5 * DAY]


# PostgreSQL only: SQLite has no index entry size limit.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_database_limit_met_while_recording_is_an_input_error_not_unavailable(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a value the checks let through still exceed a PostgreSQL limit, the run is
    refused as input (422 / exit 3), never "unavailable, try again" (retried for ever)."""
    monkeypatch.setattr("register.recording.refuse_overlong_entry", lambda row, index, limits: None)
    # Incompressible (PostgreSQL compresses index entries): 8,000 hex digits, ~4,000 bytes.
    name = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(125))
    too_big = verdict([dependency(name, "CVE-2024-1")], run_id="big")
    with pytest.raises(RegisterInputError, match="too large for the register.*index row size"):
        record_verdict_in(engine, too_big)
    assert table_counts(engine) == (0, 0, 0)


def _at_version(finding: Finding, version: str) -> Finding:
    location = finding.location.model_copy(update={"version": version})
    return finding.model_copy(update={"location": location})


def test_an_indexed_text_too_long_for_an_index_entry_is_refused_naming_the_field(
    engine: Engine,
) -> None:
    """Owner, package and version are unbounded columns but indexed: PostgreSQL refuses an
    index entry over 2,704 bytes, which an upload used to meet as a 503 "unavailable"."""
    cases = [
        (verdict(example_findings(), run_id="o", owner="é" * 201), r"findings\.0\.owner is 201"),
        (verdict(example_findings(), run_id="d", context=RiskContext(default_owner="t" * 3000)),
         r"context\.default_owner is 3000"),
        (verdict([dependency("p" * 3000, "CVE-2024-1")], run_id="p"),
         r"findings\.0\.finding\.location\.package is 3000"),
        (verdict([_at_version(dependency("p", "CVE-2024-1"), "1." * 1500)], run_id="v"),
         r"findings\.0\.finding\.location\.version is 3000"),
    ]
    for too_long, problem in cases:
        with pytest.raises(RegisterInputError, match=problem):
            record_verdict_in(engine, too_long)
    assert table_counts(engine) == (0, 0, 0)
    longest = verdict([_at_version(dependency("p" * 400, "CVE-2024-1"), "9" * 200)], run_id="ok",
                      owner="\U0001f600" * 200)  # the limits, 4 bytes a character: stored
    assert record_verdict_in(engine, longest).opened == 1


@pytest.mark.parametrize(
    ("overlong", "field"),
    [
        ({"confidence": "very-" * 10}, "findings.5.finding.confidence"),
        ({"cvss_vector": "CVSS:3.1/" + "AV:N/" * 60}, "findings.5.finding.cvss_vector"),
        ({"scanner": "s" * 101}, "findings.5.finding.scanner"),
    ],
)
def test_text_longer_than_its_column_is_refused_naming_the_field_and_nothing_is_recorded(
    engine: Engine, overlong: dict[str, str], field: str
) -> None:
    """PostgreSQL refuses such values inside the database; both engines refuse them first."""
    finding = code("rule.long", "src/a.py", "x()").model_copy(update=overlong)
    with pytest.raises(RegisterInputError, match=rf"{re.escape(field)} is \d+ characters long"):
        record_verdict_in(engine, verdict([*example_findings(), finding], run_id="long"))
    with pytest.raises(RegisterInputError, match=r"run_id is 101 characters long"):
        record_verdict_in(engine, verdict(example_findings(), run_id="r" * 101))
    assert table_counts(engine) == (0, 0, 0)


@pytest.mark.parametrize("batch_rows", [4096, 1])
def test_a_worse_duplicate_of_a_fixed_finding_reopens_it_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    """Rows are merged in batches; a worse duplicate in a later batch than its first sighting
    updates the entry its first sighting reopened: one reopening, one event, the worse row."""
    monkeypatch.setattr(recording, "_BATCH_ROWS", batch_rows)
    mild = dependency("requests", "CVE-9", severity=Severity.LOW)
    worse = mild.model_copy(update={"severity": Severity.CRITICAL})
    other = dependency("flask", "CVE-8")
    record_verdict_in(engine, verdict([mild, other], run_id="r1"))
    record_verdict_in(engine, verdict([other], run_id="r2", at=T0 + DAY))
    result = record_verdict_in(engine, verdict([mild, other, worse], run_id="r3",
                                               at=T0 + 2 * DAY))
    assert (result.findings, result.reopened, result.seen) == (2, 1, 1)
    entry = entries(engine)["CVE-9"]
    assert (entry.status, entry.severity, entry.reopened_count) == ("open", "critical", 1)
    with Session(engine) as session:
        logged = session.exec(select(RiskEvent.kind).where(RiskEvent.entry_id == entry.id)
                              .order_by(col(RiskEvent.id))).all()
    assert logged == ["opened", "fixed", "reopened"]
    assert_summary_exact(engine)


def test_zeros_and_empty_texts_are_stored_as_given_and_missing_values_as_null(
    engine: Engine,
) -> None:
    """Staging binds a stand-in for each missing value (0 for a text, '' for a number); a
    text "0" or "" and a number 0 are values, stored as they came."""
    zero = code("0", "0", "0", title="0", cvss_score=0.0, epss=0.0, epss_percentile=0.0,
                confidence="", cwe=("0",), help_url="", cvss_vector="0")
    zero = zero.model_copy(update={"location": Location(path="0", start_line=0, end_line=0,
                                                        scope="")})
    bare = dependency("pkg", "CVE-0", fix_versions=())
    record_verdict_in(engine, verdict([zero, bare], run_id="r1"))
    with engine.connect() as connection:
        stored = {row.rule_id: row for row in connection.execute(sa.text(
            "SELECT rule_id, title, path, snippet, start_line, end_line, scope, cvss_score, epss,"
            " epss_percentile, confidence, cwe, help_url, cvss_vector, package, owasp"
            " FROM risk_entry"))}
        if engine.dialect.name == "sqlite":  # stored with the column's own type
            types = connection.execute(sa.text(
                "SELECT typeof(title), typeof(start_line), typeof(cvss_score) FROM risk_entry"
                " WHERE rule_id = '0'")).one()
            assert tuple(types) == ("text", "integer", "real")
    values = [json.loads(v) if isinstance(v, str) and v.startswith("[") else v
              for v in tuple(stored["0"])[1:]]  # JSON as SQLite's text or psycopg's list
    assert values == ["0", "0", "0", 0, 0, "", 0.0, 0.0, 0.0, "", ["0"], "", "0", None, []]
    missing = stored["CVE-0"]
    assert (missing.path, missing.snippet, missing.start_line, missing.cvss_score,
            missing.epss, missing.confidence, missing.help_url) == (None,) * 7


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_connection_bound_to_its_thread_merges_on_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `check_same_thread=true` sqlite3 refuses the connection on the merge worker, so
    the batches are merged on the caller's thread instead."""
    upgrade(database_url)
    monkeypatch.setattr(recording, "_BATCH_ROWS", 2)
    engine = make_engine(database_url + "?check_same_thread=true")
    try:
        result = record_verdict_in(engine, verdict(example_findings(), run_id="r1"))
    finally:
        engine.dispose()
    assert (result.opened, result.findings) == (5, 5)
