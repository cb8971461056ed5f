"""Report formats: one module per format behind the `Renderer` protocol, in an explicit registry.

`render("sarif", verdict)` returns the text of that format. The `text` entry renders plain
text; the CLI builds `TextRenderer(color=True)` itself on a terminal.
"""

from __future__ import annotations

from typing import Protocol

from gate.errors import ConfigError
from gate.models import Verdict
from gate.report.github import GithubRenderer
from gate.report.json_report import JsonRenderer
from gate.report.junit import JunitRenderer
from gate.report.markdown import MarkdownRenderer
from gate.report.sarif import SarifRenderer
from gate.report.text import TextRenderer


class Renderer(Protocol):
    """A report format: turns a verdict into text."""

    def render(self, verdict: Verdict) -> str:
        """The verdict in this format."""
        ...


RENDERERS: dict[str, Renderer] = {
    "text": TextRenderer(),
    "json": JsonRenderer(),
    "sarif": SarifRenderer(),
    "markdown": MarkdownRenderer(),
    "junit": JunitRenderer(),
    "github": GithubRenderer(),
}


def render(fmt: str, verdict: Verdict) -> str:
    """The verdict in format `fmt`; raise `ConfigError` for an unknown format."""
    renderer = RENDERERS.get(fmt)
    if renderer is None:
        raise ConfigError(f"unknown report format {fmt!r} (choose from {', '.join(RENDERERS)})")
    return renderer.render(verdict)
