"""The report registry: every format the CLI offers renders every verdict."""

from __future__ import annotations

import pytest

from gate.cli import REPORT_OPTIONS
from gate.errors import ConfigError
from gate.models import Decision, Verdict
from gate.report import RENDERERS, render
from tests.gate.report.verdicts import hostile_verdict, mixed_verdict


def test_registry_offers_exactly_the_cli_formats() -> None:
    assert set(RENDERERS) == set(REPORT_OPTIONS)


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
@pytest.mark.parametrize(
    "verdict",
    [mixed_verdict(), hostile_verdict(), Verdict(decision=Decision.PASS)],
    ids=["mixed", "hostile", "empty"],
)
def test_every_format_renders_every_verdict(fmt: str, verdict: Verdict) -> None:
    text = render(fmt, verdict)
    assert isinstance(text, str)
    assert text.strip() or fmt == "github"  # no annotations for a clean run


def test_unknown_format_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="unknown report format 'yaml'") as caught:
        render("yaml", mixed_verdict())
    assert caught.value.exit_code == 3
