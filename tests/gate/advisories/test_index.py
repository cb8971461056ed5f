"""The content-keyed advisory index: a directory or export zip, built once, rebuilt on change."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from gate.advisories import index
from gate.advisories.index import DiskIndex, open_advisories
from gate.advisories.osv import MemoryIndex, load_advisory_dir
from gate.errors import ConfigError, ReportFormatError
from tests.conftest import FIXTURES, REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "advisories"
ALIASES = FIXTURES / "advisories" / "aliases"


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    index._open.cache_clear()


def indexes(cache: Path) -> list[Path]:
    return sorted((cache / "advisory-index").glob("v*-*.sqlite"))


def export_zip(folder: Path, target: Path) -> Path:
    """OSV's export layout: one <ID>.json per record, flat."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in load_advisory_dir(folder).records:
            archive.writestr(f"{record.id}.json", json.dumps(record.to_osv()))
    return target


def ids(records: object) -> list[str]:
    return sorted(r.id for r in records)  # type: ignore[attr-defined]


def test_directory_index_answers_like_the_in_memory_one(tmp_path: Path) -> None:
    disk = open_advisories(EXAMPLE, cache_dir=tmp_path)
    memory = load_advisory_dir(EXAMPLE)
    assert isinstance(disk, DiskIndex) and len(disk) == len(memory)
    for package, version in [("salt", "3000"), ("Jinja2", "2.10"), ("pyyaml", "5.3"),
                             ("flask", "0.12.2"), ("salt", "3006.2"), ("nothing", "1")]:
        assert ids(disk.query(package, version)) == ids(memory.query(package, version))
    assert disk.get("cve-2020-11651") == memory.get("CVE-2020-11651")
    assert disk.get("PYSEC-2020-102") == memory.get("PYSEC-2020-102")
    assert disk.get("NOPE-1") is None


def test_named_lists_every_record_of_an_alias(tmp_path: Path) -> None:
    disk = open_advisories(ALIASES, cache_dir=tmp_path)
    assert ids(disk.named("CVE-2099-0201")) == ["GHSA-fx01-aaaa-bbbb", "PYSEC-2099-1"]
    assert ids(disk.named("GHSA-fx02-cccc-dddd")) == ["GHSA-fx02-cccc-dddd", "PYSEC-2099-2"]
    assert disk.get("GHSA-fx02-cccc-dddd").id == "GHSA-fx02-cccc-dddd"  # type: ignore[union-attr]


def test_export_zip_gives_the_same_answers(tmp_path: Path) -> None:
    archive = export_zip(EXAMPLE, tmp_path / "all.zip")
    zipped = open_advisories(archive, cache_dir=tmp_path / "cache")
    memory = load_advisory_dir(EXAMPLE)
    assert len(zipped) == len(memory)
    assert ids(zipped.query("salt", "3000")) == ids(memory.query("salt", "3000"))


def test_index_is_built_once_and_reused_across_processes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "pkg").mkdir(parents=True)
    for file in ALIASES.glob("pkg/*.yaml"):
        (data / "pkg" / file.name).write_bytes(file.read_bytes())
    cache = tmp_path / "cache"
    open_advisories(data, cache_dir=cache)
    (built,) = indexes(cache)
    index._open.cache_clear()  # as a new process would
    os.utime(data / "pkg" / "PYSEC-2099-1.yaml", ns=(1, 1))  # same content, other time
    assert len(open_advisories(data, cache_dir=cache)) == 5
    assert indexes(cache) == [built]  # keyed by content: reused


def _one_advisory(tmp_path: Path) -> Path:
    """A data folder of one advisory, A-1: package `a` 1.0."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "A-1.yaml").write_text("id: A-1\naffected:\n- package: {name: a, ecosystem: PyPI}\n"
                                   "  versions: ['1.0']\n")
    return data


def test_changed_content_is_indexed_afresh(tmp_path: Path) -> None:
    data, cache = _one_advisory(tmp_path), tmp_path / "cache"
    assert ids(open_advisories(data, cache_dir=cache).query("a", "1.0")) == ["A-1"]
    (data / "A-2.json").write_text(json.dumps({"id": "A-2", "affected": [
        {"package": {"name": "a", "ecosystem": "PyPI"}, "versions": ["1.0"]}]}))
    assert ids(open_advisories(data, cache_dir=cache).query("a", "1.0")) == ["A-1", "A-2"]
    assert len(indexes(cache)) == 2


def test_unwritable_cache_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    found = open_advisories(ALIASES, cache_dir=blocker)
    assert isinstance(found, MemoryIndex) and len(found) == 5


def test_bad_sources_are_one_line_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        open_advisories(tmp_path / "missing", cache_dir=tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="neither a directory nor an OSV export"):
        open_advisories(tmp_path / "notes.txt", cache_dir=tmp_path)
    (tmp_path / "bad.zip").write_bytes(b"PK not really")
    with pytest.raises(ConfigError, match="bad.zip: not a readable zip"):
        open_advisories(tmp_path / "bad.zip", cache_dir=tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="no OSV records"):
        open_advisories(empty, cache_dir=tmp_path)


def test_a_malformed_member_of_the_zip_is_named(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("GOOD-1.json", json.dumps({"id": "GOOD-1"}))
        out.writestr("BAD-1.json", '{"id": "BAD-1",\n "affected": }')
    with pytest.raises(ReportFormatError, match=r"all\.zip:BAD-1\.json:2:14: invalid JSON"):
        open_advisories(archive, cache_dir=tmp_path / "cache")


def test_oversized_members_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gate.advisories import sources

    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("BIG-1.json", json.dumps({"id": "BIG-1", "details": "x" * 5000}))
    monkeypatch.setattr(sources, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(ConfigError, match="BIG-1.json is .* bytes, over the limit"):
        open_advisories(archive, cache_dir=tmp_path / "cache")


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
def test_an_index_in_a_folder_others_can_write_is_not_trusted(tmp_path: Path) -> None:
    """An index with the advisory taken out, in a cache another user may write, would hide
    the vulnerability: such a folder is not read, and the data is parsed afresh."""
    data, cache = _one_advisory(tmp_path), tmp_path / "cache"
    assert ids(open_advisories(data, cache_dir=cache).query("a", "1.0")) == ["A-1"]
    (built,) = indexes(cache)
    assert (built.parent.stat().st_mode & 0o777) == 0o700
    built.unlink()
    index._write_index(built, [])  # the planted index: no advisory at all
    index._open.cache_clear()
    assert ids(open_advisories(data, cache_dir=cache).query("a", "1.0")) == []  # ours: trusted
    built.parent.chmod(0o777)
    index._open.cache_clear()
    found = open_advisories(data, cache_dir=cache)
    assert isinstance(found, MemoryIndex) and ids(found.query("a", "1.0")) == ["A-1"]
