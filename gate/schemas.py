"""The JSON Schema of the verdict: the `--json` report, which is also the register's upload body.

Generated from the pydantic model, so it cannot drift from what the gate writes;
`gate schema verdict > schemas/verdict.schema.json` publishes it (a test keeps the copy current).
"""

from __future__ import annotations

import json
from typing import Any

from gate.models import Verdict

VERDICT_SCHEMA_ID = "https://riskgate.dev/verdict.schema.json"


def verdict_json_schema() -> dict[str, Any]:
    """The verdict JSON's schema (draft 2020-12), as the JSON report serialises it."""
    schema = Verdict.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": VERDICT_SCHEMA_ID,
        **schema,
    }


def verdict_json_schema_text() -> str:
    """The schema as stable, indented text."""
    return json.dumps(verdict_json_schema(), indent=2, ensure_ascii=False) + "\n"
