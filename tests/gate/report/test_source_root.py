"""A target below the repository's top: SARIF and annotations point at repository paths."""

from __future__ import annotations

import json

from gate.report import render
from tests.gate.report.verdicts import mixed_verdict


def _uris(sarif_text: str) -> set[str]:
    runs = json.loads(sarif_text)["runs"]
    return {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for run in runs
        for result in run["results"]
        for location in result.get("locations", [])
    }


def test_sarif_and_annotations_are_relative_to_the_repository() -> None:
    at_top = mixed_verdict()
    below = mixed_verdict(source_root="services/api")
    top_uris = _uris(render("sarif", at_top))
    assert top_uris and all(not uri.startswith("services/api/") for uri in top_uris)
    assert _uris(render("sarif", below)) == {f"services/api/{uri}" for uri in top_uris}
    annotations = render("github", below)
    assert "file=services/api/" in annotations
    assert "file=services/api/" not in render("github", at_top)
