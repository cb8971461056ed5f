"""The shared models: the verdict's JSON is the upload schema, so it must refuse nonsense."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gate.models import Action, Decision, RiskContext, Verdict


def test_a_verdict_survives_its_own_json() -> None:
    verdict = Verdict(decision=Decision.BLOCK, reasons=("1 finding blocked",))
    assert Verdict.model_validate_json(verdict.model_dump_json()) == verdict
    assert verdict.exit_code == 1
    assert verdict.count_by_action() == {action.value: 0 for action in Action}


@pytest.mark.parametrize("days", [0, -1, 10**12])
def test_deadlines_past_the_calendar_are_refused(days: int) -> None:
    with pytest.raises(ValidationError):
        RiskContext(sla_days={"critical": days})
    with pytest.raises(ValidationError):
        RiskContext(acceptance_max_days=days)


def test_unknown_fields_in_an_upload_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Verdict.model_validate({"decision": "pass", "surprise": 1})
