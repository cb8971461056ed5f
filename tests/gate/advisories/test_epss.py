"""Loading EPSS scores from FIRST.org's CSV format."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from gate.advisories.epss import load_epss
from gate.errors import ConfigError, ReportFormatError
from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "epss" / "epss_scores-sample.csv"
HEADER = "#model_version:v2023.03.01,score_date:2024-10-10T00:00:00+0000\ncve,epss,percentile\n"


def test_loads_scores_percentiles_and_metadata() -> None:
    scores = load_epss(SAMPLE)
    assert len(scores) == 6
    assert scores.model_version == "v2023.03.01"
    assert scores.score_date == "2024-10-10T00:00:00+0000"
    assert scores["cve-2020-11651"].epss == pytest.approx(0.97471)
    assert scores["CVE-2020-11651"].percentile == pytest.approx(0.99982)
    assert "CVE-2021-44228" not in scores


def test_gzipped_files_and_files_without_the_comment_line(tmp_path: Path) -> None:
    packed = tmp_path / "epss.csv.gz"
    packed.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert len(load_epss(packed)) == 6
    plain = tmp_path / "plain.csv"
    plain.write_text("cve,epss,percentile\nCVE-2020-1747,0.01455,0.86784\n")
    assert load_epss(plain)["CVE-2020-1747"].epss == pytest.approx(0.01455)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("#model_version:v1\ncve,score\n", r"epss\.csv:2: expected the header 'cve,epss,"),
        (HEADER + "CVE-2020-1,0.1,0.2\nCVE-2020-2,0.1\n", r"epss\.csv:4: expected 3 columns"),
        (HEADER + "CVE-2020-1,high,0.2\n", r"epss\.csv:3: epss is not a number: 'high'"),
        (HEADER + "CVE-2020-1,0.1,1.5\n", r"epss\.csv:3: percentile must be between 0 and 1"),
        (HEADER + "GHSA-xxxx,0.1,0.5\n", r"epss\.csv:3: not a CVE id"),
        ("", r"epss\.csv:1: expected the header"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "epss.csv"
    path.write_text(body)
    with pytest.raises(ReportFormatError, match=message):
        load_epss(path)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.csv: cannot read EPSS scores"):
        load_epss(tmp_path / "nope.csv")
