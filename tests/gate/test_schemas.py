"""`gate schema verdict`: the published verdict schema is current and real output conforms."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from gate.cli import cli
from gate.schemas import verdict_json_schema, verdict_json_schema_text
from tests.conftest import FIXTURES, REPO_ROOT

PUBLISHED = REPO_ROOT / "schemas" / "verdict.schema.json"


def test_published_copy_is_current() -> None:
    assert PUBLISHED.read_text() == verdict_json_schema_text(), (
        "regenerate: gate schema verdict > schemas/verdict.schema.json"
    )


def test_cli_prints_the_schema() -> None:
    result = CliRunner().invoke(cli, ["schema", "verdict"])
    assert result.exit_code == 0
    assert json.loads(result.output) == verdict_json_schema()


def test_real_verdict_conforms_and_a_broken_one_does_not(tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    result = CliRunner().invoke(cli, [
        "scan", str(REPO_ROOT / "examples" / "vulnerable-app"), "--import",
        str(FIXTURES / "pip-audit" / "vulnerable-app.json"), "--json", str(out), "--no-progress",
    ])
    assert result.exit_code == 1, result.output
    verdict = json.loads(out.read_text())
    assert verdict["findings"]
    validator = jsonschema.Draft202012Validator(verdict_json_schema())
    validator.validate(verdict)

    verdict["decision"] = "maybe"
    verdict["findings"][0]["finding"]["severity"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(verdict)
    assert len(list(validator.iter_errors(verdict))) == 2
