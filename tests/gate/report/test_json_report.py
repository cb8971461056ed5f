"""The JSON report is the full verdict and reads back into the same verdict."""

from __future__ import annotations

import json

import pytest

from gate.errors import ReportFormatError
from gate.report.json_report import load_verdict, render_json
from tests.gate.report.verdicts import hostile_verdict, mixed_verdict


@pytest.mark.parametrize("verdict", [mixed_verdict(), hostile_verdict()], ids=["mixed", "hostile"])
def test_json_round_trips_to_the_same_verdict(verdict: object) -> None:
    text = render_json(verdict)  # type: ignore[arg-type]
    assert load_verdict(text.encode(), source="verdict.json") == verdict


def test_json_carries_every_finding_and_the_decision() -> None:
    document = json.loads(render_json(mixed_verdict()))
    assert document["decision"] == "block"
    assert document["schema_version"] == "1"
    assert len(document["findings"]) == 6
    assert document["findings"][1]["finding"]["known_exploited"] is True


def test_broken_json_names_the_source_line_and_column() -> None:
    with pytest.raises(ReportFormatError) as caught:
        load_verdict(b'{\n  "decision": "block",\n', source="upload.json")
    message = str(caught.value)
    assert message.startswith("upload.json: invalid JSON at line 3 column 1")
    assert "\n" not in message


def test_json_of_another_shape_is_refused_with_the_field() -> None:
    raw = render_json(mixed_verdict()).replace('"decision": "block"', '"decision": "maybe"')
    with pytest.raises(ReportFormatError, match=r"^upload.json: not a riskgate verdict: decision"):
        load_verdict(raw.encode(), source="upload.json")


def test_empty_upload_is_refused() -> None:
    with pytest.raises(ReportFormatError, match="upload.json: empty file"):
        load_verdict(b"  ", source="upload.json")
