"""Reading verdict files as a stream: same content as a whole parse, errors that name the place,
and recording from the stream equal to recording the parsed verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from gate.models import Severity, Verdict
from register import verdict_stream
from register.errors import RegisterInputError
from register.models import RiskEntry, RiskEvent, ScanRun
from register.recording import record_verdict_in
from register.verdict_stream import read_verdict_file
from tests.register.factories import code, example_findings, verdict


def many_findings(count: int) -> Verdict:
    findings = [code(f"rule.{n % 7}", f"src/m{n}.py", f"call({n})") for n in range(count)]
    return verdict([*example_findings(), *findings], run_id="stream-1")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("indent", [None, 2])
def test_stream_reads_what_a_whole_parse_reads_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indent: int | None
) -> None:
    monkeypatch.setattr(verdict_stream, "CHUNK_CHARS", 97)  # values cut at every place
    monkeypatch.setattr(verdict_stream, "BATCH", 7)  # batches cut by chunks, a short last one
    original = many_findings(60)
    path = write(tmp_path / "v.json", original.model_dump_json(indent=indent))

    streamed = read_verdict_file(path)

    assert streamed.finding_count == len(original.findings)
    assert list(streamed.findings()) == list(original.findings)
    assert streamed.header == original.model_copy(update={"findings": ()})
    assert not streamed.may_hold_nul


def test_findings_after_the_header_fields_and_numbers_cut_by_a_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verdict_stream, "CHUNK_CHARS", 5)
    original = many_findings(3)
    document = original.model_dump(mode="json")
    findings = document.pop("findings")
    path = write(tmp_path / "v.json", json.dumps({**document, "findings": findings}))

    streamed = read_verdict_file(path)

    assert list(streamed.findings()) == list(original.findings)
    assert streamed.header.context == original.context


def test_no_findings_key_and_empty_findings(tmp_path: Path) -> None:
    bare = read_verdict_file(write(tmp_path / "a.json", '{"decision": "pass"}'))
    empty = read_verdict_file(write(tmp_path / "b.json", '{"decision": "pass", "findings": []}'))
    assert list(bare.findings()) == [] and list(empty.findings()) == []
    assert bare.finding_count == empty.finding_count == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"decision": "pass",\n "findings": [1,}', "not valid JSON at line 2 column"),
        ('{"decision": "maybe"}', "not a verdict: decision:"),
        ('{"decision": "pass"} []', "extra data after the verdict"),
        ('{"decision": "pass", "findings": 3}', "not a verdict: findings:"),
        ("[1, 2]", "not a verdict: (document)"),
        ('{"decision": "pass", "reasons": [NaN]}', "NaN is not a JSON number"),
    ],
)
def test_errors_name_the_file_and_place(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.json", text)
    with pytest.raises(RegisterInputError) as caught:
        read_verdict_file(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_an_invalid_finding_names_its_index_and_field(tmp_path: Path) -> None:
    document = many_findings(2).model_dump(mode="json")
    document["findings"][6]["finding"]["severity"] = "dreadful"
    streamed = read_verdict_file(write(tmp_path / "v.json", json.dumps(document)))
    with pytest.raises(RegisterInputError, match=r"findings\.6\.finding\.severity: Input should"):
        list(streamed.findings())


def test_an_invalid_finding_in_a_later_batch_names_its_index_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verdict_stream, "BATCH", 4)
    document = many_findings(20).model_dump(mode="json")
    document["findings"][13]["finding"]["severity"] = "catastrophic"
    streamed = read_verdict_file(write(tmp_path / "v.json", json.dumps(document)))
    with pytest.raises(RegisterInputError, match=r"findings\.13\.finding\.severity"):
        list(streamed.findings())


def test_a_nul_escape_is_noticed(tmp_path: Path) -> None:
    text = many_findings(1).model_dump_json().replace("call(0)", "call(\\u0000)")
    assert read_verdict_file(write(tmp_path / "v.json", text)).may_hold_nul


def project_rows(engine: Engine, project: str) -> tuple[list[object], list[object], object]:
    """Entries, events and run counts of one project, without ids, project or run names."""
    entry, event, run = (
        RiskEntry.__table__, RiskEvent.__table__, ScanRun.__table__,  # type: ignore[attr-defined]
    )
    skip = {"id", "project_id", "last_run_id"}
    with engine.connect() as connection:
        pid = connection.execute(sa.text("SELECT id FROM project WHERE name = :n"),
                                 {"n": project}).scalar_one()
        entries = connection.execute(
            sa.select(*(c for c in entry.c if c.name not in skip))
            .where(entry.c.project_id == pid).order_by(entry.c.fingerprint)
        ).all()
        events = connection.execute(
            sa.select(event.c.kind, entry.c.fingerprint)
            .join_from(event, entry, event.c.entry_id == entry.c.id)
            .where(entry.c.project_id == pid).order_by(event.c.id)
        ).all()
        counts = connection.execute(
            sa.select(run.c.counts, run.c.finding_count).where(run.c.project_id == pid)
        ).one()
    return [tuple(r) for r in entries], [tuple(r) for r in events], tuple(counts)


def test_recording_a_stream_equals_recording_the_parsed_verdict(
    tmp_path: Path, engine: Engine
) -> None:
    original = many_findings(30)
    worse = code("rule.1", "src/m1.py", "call(1)", severity=Severity.CRITICAL)
    duplicated = original.model_copy(
        update={"findings": (*original.findings, *verdict([worse], run_id="x").findings)}
    )
    streamed = read_verdict_file(write(tmp_path / "v.json", duplicated.model_dump_json()))

    by_stream = record_verdict_in(engine, streamed.header, findings=streamed.findings,
                                  project="streamed")
    parsed = duplicated.model_copy(update={"run_id": "parsed-1"})
    by_model = record_verdict_in(engine, parsed, project="parsed")

    assert by_stream.findings == by_model.findings == len(original.findings)
    assert (by_stream.opened, by_stream.seen) == (by_model.opened, by_model.seen)
    assert project_rows(engine, "streamed") == project_rows(engine, "parsed")
    severities = {r[6] for r in project_rows(engine, "streamed")[0]}
    assert "critical" in severities  # the worse duplicate won


@pytest.mark.parametrize("field", ["branch", "title"])
def test_a_lone_surrogate_is_exit_3_in_one_line_naming_the_field(
    field: str, tmp_path: Path, engine: Engine, database_url: str
) -> None:
    document = json.loads(verdict(example_findings(), run_id="lone").model_dump_json())
    if field == "branch":
        document["branch"] = "x\udfff"
    else:
        document["findings"][1]["finding"]["title"] = "a\ud800b"
    path = tmp_path / "lone.json"
    path.write_text(json.dumps(document))  # ASCII: the surrogate travels as a \\u escape

    result = subprocess.run(
        [sys.executable, "-m", "gate", "register", "record", str(path), "--database",
         database_url], capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 3, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    where = "branch" if field == "branch" else "findings.1.finding.title"
    assert f"{where}: holds a lone surrogate" in result.stderr, result.stderr


@pytest.mark.parametrize("depth", [65, 500, 5000])
def test_a_finding_nested_deeper_than_the_limit_is_refused_in_one_line(
    tmp_path: Path, depth: int
) -> None:
    document = many_findings(3).model_dump(mode="json")
    text = json.dumps(document).replace('"reason": ', '"reason": ' + "[" * depth, 1)
    text = text.replace(', "policy_rule"', "]" * depth + ', "policy_rule"', 1)
    path = write(tmp_path / "deep.json", text)
    with pytest.raises(RegisterInputError, match=r"nested deeper than 64 levels"):
        list(read_verdict_file(path).findings())


def test_brackets_inside_strings_are_not_nesting(tmp_path: Path) -> None:
    original = many_findings(2)
    bracketed = original.model_copy(update={"reasons": ("[" * 200 + "{" * 200,)})
    path = write(tmp_path / "v.json", bracketed.model_dump_json())
    assert read_verdict_file(path).header.reasons == bracketed.reasons
    assert list(read_verdict_file(path).findings()) == list(original.findings)


def record_file_cli(path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """`gate register record FILE` in a process of its own (the fast read's path)."""
    return subprocess.run(
        [sys.executable, "-m", "gate", "register", "record", str(path), "--database",
         database_url], capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.parametrize("indent", [None, 2])  # uploads are compact, `gate scan` indents
@pytest.mark.parametrize("chunk", [97, 1 << 20])
def test_the_fast_split_reads_what_the_exact_reader_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, indent: int | None
) -> None:
    monkeypatch.setattr(verdict_stream, "CHUNK_CHARS", chunk)  # marks cut by chunk edges
    monkeypatch.setattr(verdict_stream, "BATCH", 7)
    monkeypatch.setattr(verdict_stream, "_HELD_CHARS", 3 * chunk)
    original = many_findings(40)
    path = write(tmp_path / "v.json", original.model_dump_json(indent=indent))

    fast, exact = read_verdict_file(path, fast=True), read_verdict_file(path)

    assert not fast.exact and exact.exact
    assert (fast.header, fast.finding_count, fast.batches) == (
        exact.header, exact.finding_count, exact.batches)
    assert list(fast.findings()) == list(original.findings)


def test_a_batch_the_fast_split_cannot_vouch_for_is_split_missed(tmp_path: Path) -> None:
    """`Infinity` (here in a title) is read by pydantic's parser, not by the exact reader."""
    loop = code("rule.inf", "src/loop.py", "while True: pass", title="Infinity loop")
    path = write(tmp_path / "v.json", verdict([loop], run_id="inf").model_dump_json())
    fast = read_verdict_file(path, fast=True)
    with pytest.raises(verdict_stream.SplitMissed):
        list(fast.findings())
    assert [item.finding.title for item in read_verdict_file(path).findings()] == [
        "Infinity loop"]


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def test_hostile_marks_are_recorded_exactly_or_refused_as_the_exact_reader_refuses(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    """Marks inside strings, a second `findings` key after a context (valid JSON: the last
    key wins) and a mark nested in a finding: the CLI records what the exact reader reads,
    or refuses the file with the exact reader's words."""
    hostile = [code("rule.h", f"src/h{n}.py", f'x = \',{{"finding":{n}}}\'',
                    title=f'],{{"finding":{{"x":{n}}}}},[') for n in range(5)]
    real = verdict(hostile, run_id="hostile").model_dump(mode="json")
    decoy = verdict(example_findings(), run_id="decoy").model_dump(mode="json")
    critical = {"business_criticality": "critical", "data_classification": "restricted"}
    fields = [f'"{key}":{compact(value)}' for key, value in real.items()
              if key not in ("findings", "context")]
    fields[2:2] = [f'"findings":{compact(decoy["findings"])}', f'"context":{compact(critical)}',
                   f'"findings":{compact(real["findings"])}']
    path = write(tmp_path / "hostile.json", "{" + ",".join(fields) + "}")
    fast, exact = read_verdict_file(path, fast=True), read_verdict_file(path)
    assert fast.header != exact.header  # the fast split stepped over the context
    with pytest.raises(verdict_stream.SplitMissed):
        list(fast.findings())
    assert exact.header.context.business_criticality == "critical"

    result = record_file_cli(path, database_url)
    assert result.returncode == 0, result.stderr
    replay = exact.header.model_copy(update={"run_id": "hostile-exact"})
    record_verdict_in(engine, replay, findings=exact.findings, project="exactly")
    recorded = project_rows(engine, "shop")
    assert recorded == project_rows(engine, "exactly")
    assert len(recorded[0]) == len(hostile)

    nested = compact({**real, "run_id": "nested"}).replace(
        '"policy_rule":null', '"policy_rule":[0,{"finding":1}]', 1)
    bad = write(tmp_path / "nested.json", nested)
    with pytest.raises(RegisterInputError) as caught:
        list(read_verdict_file(bad).findings())
    result = record_file_cli(bad, database_url)
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip() == f"gate: error: {caught.value}"
