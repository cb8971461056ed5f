"""Loading the CISA KEV catalog."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gate.advisories.kev import load_kev
from gate.errors import ConfigError, ReportFormatError
from tests.conftest import FIXTURES, REPO_ROOT

SUBSET = FIXTURES / "kev" / "kev-subset.json"


def test_loads_due_date_date_added_and_ransomware_use() -> None:
    kev = load_kev(SUBSET)
    assert len(kev) == 3
    assert kev.catalog_version == "2025.08.25"
    salt = kev["cve-2020-11651"]
    assert (salt.date_added, salt.due_date, salt.known_ransomware) == (
        date(2021, 11, 3), date(2022, 5, 3), False,
    )
    assert kev["CVE-2021-44228"].known_ransomware is True
    assert "CVE-2020-11652" in kev
    assert "CVE-2019-10906" not in kev


def test_the_bundled_example_subset_has_the_salt_cves() -> None:
    kev = load_kev(REPO_ROOT / "examples" / "kev" / "known_exploited_vulnerabilities.json")
    assert {"CVE-2020-11651", "CVE-2020-11652"} <= set(kev)


@pytest.mark.shared
def test_the_full_catalog_loads(shared_dir: Path) -> None:
    kev = load_kev(shared_dir / "data" / "cisa-kev" / "known_exploited_vulnerabilities.json")
    assert len(kev) > 1000
    assert "CVE-2020-11651" in kev


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "kev.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def entry(**changes: object) -> dict[str, object]:
    base = {"cveID": "CVE-2020-11651", "dateAdded": "2021-11-03", "dueDate": "2022-05-03",
            "knownRansomwareCampaignUse": "Unknown"}
    return {**base, **changes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"vulnerabilities": [\n  {"cveID": }', r"kev\.json:2:13: invalid JSON"),
        ({"title": "x"}, r"kev\.json: not a KEV catalog \(no 'vulnerabilities' list\)"),
        ({"vulnerabilities": [entry(cveID="")]}, r"vulnerabilities\[0\] has no valid 'cveID'"),
        ({"vulnerabilities": [entry(), entry(dueDate="soon")]},
         r"vulnerabilities\[1\] \(CVE-2020-11651\): 'dueDate' is not a YYYY-MM-DD date"),
        ({"vulnerabilities": ["CVE-1"]}, r"vulnerabilities\[0\] is not an object"),
    ],
)
def test_malformed_catalogs_name_the_file(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(ReportFormatError, match=message) as caught:
        load_kev(write(tmp_path, data))
    assert str(tmp_path) in str(caught.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.json: cannot read KEV catalog"):
        load_kev(tmp_path / "missing.json")
