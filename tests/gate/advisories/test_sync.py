"""`gate advisories sync` against a loopback download server, and `gate scan` on the synced copy."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gate.advisories.sync import (
    EPSS_FILE,
    KEV_FILE,
    OSV_FILE,
    default_feeds,
    local_copy,
    read_meta,
    sync,
)
from gate.cli import cli
from tests.conftest import FIXTURES
from tests.gate.advisories.feed_service import (
    Feeds,
    Served,
    fixture_feeds,
    serve_feeds,
    sync_urls,
)

KEV_BYTES = (FIXTURES / "kev" / "kev-subset.json").read_bytes()
EPSS_BYTES = gzip.compress((FIXTURES / "epss" / "epss_scores-sample.csv").read_bytes(), mtime=0)


def fresh_feeds() -> Feeds:
    return fixture_feeds()


def urls(base: str) -> list[str]:
    settings = sync_urls(base)
    return ["--osv-url", settings["GATE_SYNC_OSV_URL"], "--kev-url", settings["GATE_SYNC_KEV_URL"],
            "--epss-url", settings["GATE_SYNC_EPSS_URL"]]


def run_sync(base: str, directory: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        cli, ["advisories", "sync", "--dir", str(directory), *urls(base), *extra],
        catch_exceptions=False,
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_first_sync_downloads_and_checks_every_feed(tmp_path: Path) -> None:
    feeds = fresh_feeds()
    with serve_feeds(feeds) as base:
        result = run_sync(base, tmp_path)
    assert result.exit_code == 0, result.output
    assert "osv: updated" in result.output and "kev: updated" in result.output
    assert (tmp_path / OSV_FILE).read_bytes() == feeds.files["/PyPI/all.zip"].body
    assert (tmp_path / KEV_FILE).read_bytes() == KEV_BYTES
    assert (tmp_path / EPSS_FILE).read_bytes() == EPSS_BYTES
    meta = read_meta(tmp_path, OSV_FILE)
    assert meta is not None and meta.etag == feeds.files["/PyPI/all.zip"].etag
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_second_sync_asks_conditionally_and_keeps_the_copy(tmp_path: Path) -> None:
    feeds = fresh_feeds()
    with serve_feeds(feeds) as base:
        run_sync(base, tmp_path)
        before = read_meta(tmp_path, KEV_FILE)
        result = run_sync(base, tmp_path)
    assert result.exit_code == 0, result.output
    assert "kev: unchanged" in result.output
    second = [headers for path, headers in feeds.requests[3:] if path == "/kev.json"]
    assert second[0]["If-None-Match"] == feeds.files["/kev.json"].etag
    assert "If-Modified-Since" in second[0]
    after = read_meta(tmp_path, KEV_FILE)
    assert before is not None and after is not None
    assert after.fetched_at == before.fetched_at and after.checked_at >= before.checked_at


def test_changed_data_is_replaced(tmp_path: Path) -> None:
    feeds = fresh_feeds()
    with serve_feeds(feeds) as base:
        run_sync(base, tmp_path)
        changed = json.loads(KEV_BYTES)
        changed["vulnerabilities"] = changed["vulnerabilities"][:1]
        feeds.files["/kev.json"] = Served(json.dumps(changed).encode())
        result = run_sync(base, tmp_path, "--only", "kev")
    assert "kev: updated" in result.output
    assert json.loads((tmp_path / KEV_FILE).read_bytes()) == changed
    assert [path for path, _ in feeds.requests[3:]] == ["/kev.json"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Served(b"", status=500), "HTTP 500"),
        (Served(b"not a zip at all"), "not a readable zip"),
        (Served(b"PK\x03\x04garbage", bad_checksum=True), "md5 checksum mismatch"),
        (Served(b"x" * 4000, truncate_to=100), "RemoteProtocolError"),
    ],
)
def test_a_failed_download_keeps_the_old_copy(
    tmp_path: Path, fault: Served, expected: str
) -> None:
    feeds = fresh_feeds()
    with serve_feeds(feeds) as base:
        run_sync(base, tmp_path)
        before = snapshot(tmp_path)
        feeds.files["/PyPI/all.zip"] = fault
        result = run_sync(base, tmp_path, "--only", "osv")
    assert result.exit_code == 2
    assert "osv: failed" in result.output and expected in result.output
    assert "kept the copy of" in result.output
    assert snapshot(tmp_path) == before  # data, metadata, and no partial file left


def test_invalid_kev_or_epss_is_refused(tmp_path: Path) -> None:
    feeds = fresh_feeds()
    feeds.files["/kev.json"] = Served(b"{\"vulnerabilities\": 3}")
    feeds.files["/epss.csv.gz"] = Served(gzip.compress(b"cve,score\nCVE-1,x\n"))
    with serve_feeds(feeds) as base:
        result = run_sync(base, tmp_path)
    assert result.exit_code == 2
    assert "osv: updated" in result.output
    assert "kev: failed" in result.output and "epss: failed" in result.output
    assert "no copy yet" in result.output
    assert not (tmp_path / KEV_FILE).exists() and not (tmp_path / EPSS_FILE).exists()


def test_size_limit_stops_a_download(tmp_path: Path) -> None:
    feeds = fresh_feeds()
    with serve_feeds(feeds) as base:
        (osv, _, _) = default_feeds(osv_url=f"{base}/PyPI/all.zip")
        small = type(osv)(name=osv.name, url=osv.url, file=osv.file, max_bytes=100,
                          check=osv.check)
        (result,) = sync(tmp_path, [small])
    assert result.status == "failed" and "limit" in result.message
    assert not (tmp_path / OSV_FILE).exists()


def test_unreachable_source_fails_without_touching_anything(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [
        "advisories", "sync", "--dir", str(tmp_path), "--only", "kev",
        "--kev-url", "http://127.0.0.1:9/kev.json", "--timeout", "5"])
    assert result.exit_code == 2
    assert "kev: failed" in result.output and "ConnectError" in result.output
    assert list(tmp_path.iterdir()) == []


def age_copy(directory: Path, days: float) -> None:
    when = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    for meta_file in directory.glob("*.meta.json"):
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta["checked_at"] = when
        meta_file.write_text(json.dumps(meta), encoding="utf-8")


@pytest.fixture()
def synced_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache directory holding a fresh sync (the default place `gate scan` reads)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GATE_CACHE_DIR", str(cache))
    with serve_feeds(fresh_feeds()) as base:
        result = CliRunner().invoke(cli, ["advisories", "sync", *urls(base)])
    assert result.exit_code == 0, result.output
    assert set(local_copy().paths) == {"osv", "kev", "epss"}
    return cache


def scan(project: Path, *extra: str) -> tuple[Result, dict[str, object]]:
    out = project.parent / "verdict.json"
    result = CliRunner().invoke(cli, [
        "scan", str(project), "--scanner", "pip-audit", "--json", str(out), "--no-progress",
        *extra], catch_exceptions=False)
    return result, json.loads(out.read_text(encoding="utf-8"))


def project_with(tmp_path: Path, requirement: str) -> Path:
    project = tmp_path / "app"
    project.mkdir()
    (project / "requirements.txt").write_text(f"{requirement}\n", encoding="utf-8")
    return project


def test_scan_uses_the_synced_copy_and_records_its_age(
    synced_cache: Path, tmp_path: Path
) -> None:
    result, verdict = scan(project_with(tmp_path, "alias-pkg==1.2.0"))
    assert result.exit_code == 1, result.output
    advisories = verdict["advisories"]
    assert isinstance(advisories, dict)
    assert advisories["kind"] == "synced"
    assert advisories["location"] == str(synced_cache / "feeds" / OSV_FILE)
    assert advisories["age_days"] is not None and advisories["age_days"] < 1
    assert advisories["stale"] is False
    findings = verdict["findings"]
    assert isinstance(findings, list)
    severity = {f["finding"]["rule_id"]: f["finding"]["severity"] for f in findings}
    # pip-audit may name the PYSEC or the GHSA record of a flaw: both are in OSV's export
    assert sorted(severity.values()) == ["critical", "high", "unknown"]


@pytest.mark.parametrize(("on_stale", "code", "decision"), [("warn", 0, "warn"),
                                                             ("block", 1, "block")])
def test_stale_synced_data_warns_or_blocks_as_the_policy_says(
    synced_cache: Path, tmp_path: Path, on_stale: str, code: int, decision: str
) -> None:
    age_copy(synced_cache / "feeds", days=5)
    policy = tmp_path / "policy.yml"
    policy.write_text(
        f"version: 1\nname: p\nadvisories: {{max_age_days: 3, on_stale: {on_stale}}}\n",
        encoding="utf-8",
    )
    result, verdict = scan(project_with(tmp_path, "alias-pkg==9.0"), "--policy", str(policy))
    assert result.exit_code == code, result.output
    assert verdict["decision"] == decision
    reasons = verdict["reasons"]
    assert isinstance(reasons, list)
    assert any("advisory data is 5.0 days old" in r and "gate advisories sync" in r
               for r in reasons)
    assert "advisory data is 5.0 days old" in result.output


def test_status_shows_each_feed(synced_cache: Path) -> None:
    result = CliRunner().invoke(cli, ["advisories", "status"])
    assert result.exit_code == 0
    assert result.output.count("days ago") == 3
    empty = CliRunner().invoke(cli, ["advisories", "status", "--dir", str(synced_cache / "x")])
    assert empty.exit_code == 1 and "osv: not synced" in empty.output
