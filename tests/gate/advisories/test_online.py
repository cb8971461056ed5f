"""Online OSV lookup against real loopback HTTP servers: aliases, cache, retries, failures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gate.advisories.index import open_advisories
from gate.advisories.online import LookupSettings, OsvLookup, osv_base_url
from gate.advisories.record_cache import RecordCache
from gate.advisories.server import serve_advisories
from gate.errors import ConfigError
from tests.conftest import FIXTURES
from tests.gate.advisories.osv_service import (
    Reply,
    Script,
    closed_port_url,
    hanging_up,
    record,
    scripted_osv,
)

ALIASES = FIXTURES / "advisories" / "aliases"
V3 = {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}


def settings(base_url: str, cache: Path | None = None, **changes: float) -> LookupSettings:
    values = {"timeout_seconds": 2.0, "retries": 2, "backoff_seconds": 0.01, **changes}
    return LookupSettings(base_url=base_url, cache_dir=cache, **values)  # type: ignore[arg-type]


def test_fetches_a_record_and_its_alias_group_from_the_loopback_server() -> None:
    with serve_advisories(open_advisories(ALIASES)) as query_url:
        base = query_url.removesuffix("/v1/query")
        result = OsvLookup(settings(base)).lookup(["PYSEC-2099-1"])
    ids = {r.id for r in result.records}
    # the PYSEC record names only the CVE; the server's alias group reaches the GHSA record
    assert ids == {"PYSEC-2099-1", "GHSA-fx01-aaaa-bbbb"}
    assert result.not_found == ("CVE-2099-0201",)
    assert result.unresolved == ()
    ghsa = next(r for r in result.records if r.id.startswith("GHSA"))
    assert ghsa.severity[0].type == "CVSS_V3"


def test_retries_server_errors_then_succeeds() -> None:
    script = Script(replies={"GHSA-1": [Reply(status=503), Reply(status=500), Reply(
        body=record("GHSA-1", severity=[V3]))]})
    with scripted_osv(script) as base:
        result = OsvLookup(settings(base)).lookup(["GHSA-1"])
    assert [r.id for r in result.records] == ["GHSA-1"]
    assert script.hits["GHSA-1"] == 3
    assert result.unresolved == ()


def test_persistent_server_errors_leave_the_id_unresolved_with_the_cause() -> None:
    script = Script(replies={"GHSA-1": [Reply(status=502)]})
    with scripted_osv(script) as base:
        result = OsvLookup(settings(base, retries=1)).lookup(["GHSA-1"])
    assert result.records == ()
    assert result.unresolved == ("GHSA-1",)
    assert result.error is not None and "HTTP 502" in result.error
    assert script.hits["GHSA-1"] == 2


def test_a_slow_answer_times_out_and_is_unresolved() -> None:
    script = Script(replies={"GHSA-1": [Reply(body=record("GHSA-1"), delay=1.5)]})
    with scripted_osv(script) as base:
        result = OsvLookup(settings(base, timeout_seconds=0.3, retries=0)).lookup(["GHSA-1"])
    assert result.unresolved == ("GHSA-1",)
    assert result.error is not None and "Timeout" in result.error


def test_refused_connections_leave_every_id_unresolved() -> None:
    ids = [f"GHSA-{n}" for n in range(5)]
    result = OsvLookup(settings(closed_port_url())).lookup(ids)
    assert result.unresolved == tuple(sorted(ids))
    assert result.records == ()
    assert result.error is not None and result.error.startswith("OSV unreachable")
    assert "ConnectError" in result.error


def test_unreachable_service_is_not_retried_for_every_id() -> None:
    ids = [f"GHSA-{n}" for n in range(40)]
    with hanging_up() as (base, accepted):
        result = OsvLookup(settings(base, concurrency=1, retries=2)).lookup(ids)
    assert result.unresolved == tuple(sorted(ids))
    assert accepted[0] == 3  # the first id's three tries; the other 39 are not attempted


def test_unknown_ids_are_not_found_not_failures() -> None:
    with scripted_osv(Script()) as base:
        result = OsvLookup(settings(base)).lookup(["PYSEC-0000-0"])
    assert result.not_found == ("PYSEC-0000-0",)
    assert result.unresolved == ()


def test_a_non_json_answer_is_unresolved_not_a_crash() -> None:
    script = Script(replies={"GHSA-1": [Reply(body="<html>")]})
    with scripted_osv(script) as base:
        result = OsvLookup(settings(base)).lookup(["GHSA-1"])
    assert result.unresolved == ("GHSA-1",)
    assert result.error is not None and "not an OSV record" in result.error


def test_cache_serves_fresh_records_without_asking(tmp_path: Path) -> None:
    script = Script(replies={"GHSA-1": [Reply(body=record("GHSA-1", severity=[V3]))]})
    with scripted_osv(script) as base:
        first = OsvLookup(settings(base, tmp_path)).lookup(["GHSA-1"])
        second = OsvLookup(settings(base, tmp_path)).lookup(["GHSA-1"])
    assert script.hits["GHSA-1"] == 1
    assert first.from_cache == 0 and second.from_cache == 1
    assert second.records == first.records
    files = list((tmp_path / "osv-records" / "GHSA-1").iterdir())
    assert [f.name for f in files] == ["2099-01-02T00_00_00Z.json"]


def test_a_changed_record_replaces_its_cached_version(tmp_path: Path) -> None:
    newer = record("GHSA-1", modified="2099-02-01T00:00:00Z", severity=[V3])
    script = Script(replies={"GHSA-1": [Reply(body=record("GHSA-1")), Reply(body=newer)]})
    with scripted_osv(script) as base:
        OsvLookup(settings(base, tmp_path)).lookup(["GHSA-1"])
        result = OsvLookup(settings(base, tmp_path, fresh_seconds=0)).lookup(["GHSA-1"])
    assert result.records[0].modified == "2099-02-01T00:00:00Z"
    files = [f.name for f in (tmp_path / "osv-records" / "GHSA-1").iterdir()]
    assert files == ["2099-02-01T00_00_00Z.json"]


def test_stale_cache_is_used_when_osv_cannot_answer(tmp_path: Path) -> None:
    script = Script(replies={"GHSA-1": [Reply(body=record("GHSA-1", severity=[V3]))]})
    with scripted_osv(script) as base:
        OsvLookup(settings(base, tmp_path)).lookup(["GHSA-1"])
    result = OsvLookup(settings(closed_port_url(), tmp_path, fresh_seconds=0)).lookup(["GHSA-1"])
    assert [r.id for r in result.records] == ["GHSA-1"]
    assert result.stale == ("GHSA-1",)
    assert result.unresolved == ()


def test_damaged_cache_file_is_refetched(tmp_path: Path) -> None:
    folder = tmp_path / "osv-records" / "GHSA-1"
    folder.mkdir(parents=True)
    (folder / "x.json").write_text("{not json", encoding="utf-8")
    script = Script(replies={"GHSA-1": [Reply(body=record("GHSA-1"))]})
    with scripted_osv(script) as base:
        result = OsvLookup(settings(base, tmp_path)).lookup(["GHSA-1"])
    assert [r.id for r in result.records] == ["GHSA-1"]
    assert script.hits["GHSA-1"] == 1


def test_requests_run_concurrently_within_the_bound() -> None:
    ids = [f"GHSA-{n}" for n in range(12)]
    script = Script(replies={i: [Reply(body=record(i), delay=0.3)] for i in ids})
    with scripted_osv(script) as base:
        result = OsvLookup(settings(base, concurrency=4)).lookup(ids)
    assert len(result.records) == 12
    assert 1 < script.most_in_flight <= 4


def test_base_url_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_OSV_URL", "http://127.0.0.1:9/")
    assert osv_base_url() == "http://127.0.0.1:9"
    monkeypatch.setenv("GATE_OSV_URL", "OFF")
    assert osv_base_url() is None
    monkeypatch.delenv("GATE_OSV_URL")
    assert osv_base_url() == "https://api.osv.dev"
    monkeypatch.setenv("GATE_OSV_URL", "ftp://mirror")
    with pytest.raises(ConfigError, match="GATE_OSV_URL"):
        osv_base_url()


@pytest.mark.skipif(os.name != "posix", reason="POSIX owners and modes")
def test_the_record_cache_is_used_only_while_it_is_the_users_alone(tmp_path: Path) -> None:
    """A record planted in a cache others may write could narrow what an advisory affects."""
    record = {"id": "A-1", "modified": "2026-01-01T00:00:00Z", "affected": [
        {"package": {"name": "a", "ecosystem": "PyPI"}, "versions": ["1.0"]}]}
    cache = RecordCache(tmp_path)
    cache.store("A-1", record, record["modified"])
    cached = cache.newest("A-1")
    assert cached is not None and cached.record.id == "A-1"
    assert (cache.root.stat().st_mode & 0o777) == 0o700
    cache.root.chmod(0o777)
    opened_again = RecordCache(tmp_path)
    assert opened_again.newest("A-1") is None
    opened_again.store("B-1", {**record, "id": "B-1"}, record["modified"])
    assert not (cache.root / "B-1").exists()
