"""Loading OSV records and matching package versions against them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from gate.advisories.osv import (
    MemoryIndex,
    OsvRecord,
    load_advisory_dir,
    normalise_timestamp,
)
from gate.errors import ConfigError, ReportFormatError
from tests.conftest import FIXTURES, REPO_ROOT

DEMO = FIXTURES / "advisories" / "osv"
EXAMPLE = REPO_ROOT / "examples" / "advisories"


def ids(records: Iterable[OsvRecord]) -> list[str]:
    return sorted(r.id for r in records)


def record(index: MemoryIndex, record_id: str) -> OsvRecord:
    found = index.get(record_id)
    assert found is not None, record_id
    return found


@pytest.fixture(scope="module")
def demo() -> MemoryIndex:
    return load_advisory_dir(DEMO)


def test_loads_yaml_yml_and_json_recursively(demo: MemoryIndex) -> None:
    assert ids(demo.records) == [
        "DEMO-1", "DEMO-2", "DEMO-3", "DEMO-4", "DEMO-5", "GHSA-demo-0001", "GHSA-demo-0002",
    ]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.9", ["DEMO-1"]),
        ("1.2", ["DEMO-2"]),  # DEMO-1 is fixed in 1.2, the first unaffected version
        ("1.0", ["DEMO-1", "DEMO-2"]),
        ("1.5", ["DEMO-2"]),  # last_affected is still affected
        ("1.5.1", []),
        ("2.0", ["DEMO-1"]),
        ("2.1.2", ["DEMO-1"]),
        ("2.1.3", []),
        ("3.0", ["DEMO-3"]),  # explicit versions list
        ("3.0.0", ["DEMO-3"]),  # the same PEP 440 version spelt differently
        ("3.0.1", []),
    ],
)
def test_query_applies_ranges_last_affected_and_versions(
    demo: MemoryIndex, version: str, expected: list[str]
) -> None:
    assert ids(demo.query("demo-pkg", version)) == expected


def test_query_normalises_package_names_per_pep_503(demo: MemoryIndex) -> None:
    for spelling in ("Demo_Pkg", "DEMO.pkg", "demo--pkg"):
        assert ids(demo.query(spelling, "0.9")) == ["DEMO-1"]


def test_withdrawn_and_other_ecosystems_never_match(demo: MemoryIndex) -> None:
    matched = {r.id for v in ("0.1", "1.0", "2.0", "3.0", "9.9") for r in demo.query("demo-pkg", v)}
    assert "DEMO-4" not in matched
    assert "DEMO-5" not in matched


def test_semver_ranges_match(demo: MemoryIndex) -> None:
    assert ids(demo.query("ghsa-pkg", "1.3.9")) == ["GHSA-demo-0001", "GHSA-demo-0002"]
    assert ids(demo.query("ghsa-pkg", "1.4.0")) == ["GHSA-demo-0002"]


def test_get_by_id_or_alias_case_insensitively(demo: MemoryIndex) -> None:
    assert record(demo, "DEMO-2").id == "DEMO-2"
    assert record(demo, "cve-2099-0003").id == "DEMO-3"
    assert demo.get("CVE-1999-0000") is None


def test_timestamps_are_normalised_to_utc_z(demo: MemoryIndex) -> None:
    one, two, three = (record(demo, i) for i in ("DEMO-1", "DEMO-2", "DEMO-3"))
    assert one.published == "2021-07-05T00:01:22Z"  # +02:00 converted
    assert one.modified == "2022-01-02T00:00:00Z"  # a bare date
    assert two.modified == "2024-01-03T22:31:36Z"  # unquoted in YAML, still text
    assert three.published == "2021-07-05T00:01:22.043149Z"


def test_record_fields_are_kept(demo: MemoryIndex) -> None:
    ghsa = record(demo, "GHSA-demo-0001")
    assert ghsa.aliases == ("CVE-2099-0101",)
    assert ghsa.cwe_ids == ("CWE-79",)
    assert ghsa.database_specific["severity"] == "MODERATE"
    assert record(demo, "DEMO-1").references[0].url == "https://example.invalid/demo-1"


def test_real_pypa_records_match_the_example_pins() -> None:
    index = load_advisory_dir(EXAMPLE)
    assert "PYSEC-2019-217" in ids(index.query("Jinja2", "2.10"))
    assert ids(index.query("jinja2", "2.10.1")) == ["PYSEC-2021-66"]
    salt = index.query("salt", "3000")
    assert {"PYSEC-2020-102", "PYSEC-2020-103"} <= {r.id for r in salt}
    assert index.query("salt", "3000.3") != salt  # 3000.3 fixed the ClearFuncs bypass
    assert "PYSEC-2020-102" not in {r.id for r in index.query("salt", "3000.3")}


def test_versions_that_look_like_numbers_stay_text() -> None:
    index = load_advisory_dir(EXAMPLE)
    # '2.10' read as a float would be 2.1: jinja2 2.1 must not pick up 2.10's listing
    assert record(index, "PYSEC-2019-217").affected[0].versions.count("2.10") == 1


@pytest.mark.shared
def test_full_pypa_database_loads_and_answers(shared_dir: Path) -> None:
    index = load_advisory_dir(shared_dir / "data" / "pypa-advisory-db" / "vulns")
    assert len(index) > 2000
    assert record(index, "CVE-2020-11651").id == "PYSEC-2020-102"
    assert "PYSEC-2022-42969" in ids(index.query("py", "1.11.0"))  # last_affected 1.11.0


def test_missing_or_empty_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        load_advisory_dir(tmp_path / "nope")
    (tmp_path / "README.md").write_text("no records\n")
    with pytest.raises(ConfigError, match="no OSV records"):
        load_advisory_dir(tmp_path)


def test_hidden_files_and_other_suffixes_are_skipped(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (tmp_path / "vulns" / "pkg").mkdir(parents=True)
    (tmp_path / "vulns" / "pkg" / "X-1.yaml").write_text("id: X-1\n")
    (tmp_path / "vulns" / "pkg" / ".id-allocator").write_text("garbage: [\n")
    (tmp_path / "LICENSE").write_text("text\n")
    assert ids(load_advisory_dir(tmp_path).records) == ["X-1"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "id: X\naffected:\n  - package: [\n", r"bad\.yaml:4:1: invalid YAML"),
        ("bad.json", '{"id": "X",\n  "affected": }', r"bad\.json:2:15: invalid JSON"),
        ("noid.yaml", "summary: no id here\n", r"noid\.yaml: OSV record has no 'id'"),
        ("list.yaml", "- 1\n- 2\n", r"list\.yaml: an OSV record must be a mapping"),
        ("time.yaml", "id: X\npublished: yesterday\n", r"time\.yaml: 'published' is not"),
        ("ranges.yaml", "id: X\naffected:\n- package: {name: a, ecosystem: PyPI}\n"
         "  ranges: nope\n", r"ranges\.yaml: 'ranges' must be a list"),
    ],
)
def test_malformed_files_name_the_file_and_position(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(ReportFormatError, match=message) as caught:
        load_advisory_dir(tmp_path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-07-05T00:01:22.043149Z", "2021-07-05T00:01:22.043149Z"),
        ("2021-07-05T00:01:22+00:00", "2021-07-05T00:01:22Z"),
        ("2021-07-05T00:01:22", "2021-07-05T00:01:22Z"),
        ("2021-07-05", "2021-07-05T00:00:00Z"),
        ("2021-07-04T23:00:00-05:00", "2021-07-05T04:00:00Z"),
    ],
)
def test_normalise_timestamp(text: str, expected: str) -> None:
    assert normalise_timestamp(text) == expected
