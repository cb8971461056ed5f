"""`gate scan --upload`: the client against a real uvicorn on loopback, retries, spool, replay."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from gate.spool import pending
from gate.upload import UploadAuthError, runs_endpoint, upload_verdict
from register import queries
from register.db import session_scope
from register.models import Role
from register.spool_replay import replay_uploads
from register.web.tokens import create_token
from tests.register.factories import example_findings, verdict
from tests.register.web.live import free_port, live_server

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture()
def uploader(engine: Engine) -> str:
    """An uploader token in the test database."""
    with session_scope(engine) as session:
        return create_token(session, name="ci", role=Role.UPLOADER)[1]


def recorded_runs(base_url: str, engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        admin = create_token(session, name="check", role=Role.ADMIN)[1]
    response = httpx.get(f"{base_url}/api/v1/runs", headers={"Authorization": f"Bearer {admin}"})
    return [run["run_id"] for run in response.json()]


def test_runs_endpoint_accepts_a_base_url_or_the_endpoint() -> None:
    assert runs_endpoint("http://h:1/") == "http://h:1/api/v1/runs"
    assert runs_endpoint("http://h:1/api/v1/runs") == "http://h:1/api/v1/runs"


@SQLITE_ONLY
def test_upload_to_a_running_service(
    database_url: str, engine: Engine, uploader: str, tmp_path: Path
) -> None:
    run = verdict(example_findings(), run_id="upload-1")
    with live_server(database_url) as base_url:
        outcome = upload_verdict(run, url=base_url, token=uploader, spool_dir=tmp_path / "spool")
        runs = recorded_runs(base_url, engine)

    assert outcome.uploaded and outcome.status_code == 201 and outcome.attempts == 1
    assert runs == ["upload-1"]
    assert not (tmp_path / "spool").exists()


@SQLITE_ONLY
def test_wrong_token_is_a_configuration_error_not_a_spool(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with live_server(database_url) as base_url, pytest.raises(UploadAuthError) as error:
        upload_verdict(verdict([], run_id="x"), url=base_url, token="rg_wrong",
                       spool_dir=tmp_path / "spool", backoff_seconds=0.01)

    assert "HTTP 401" in str(error.value) and "rg_wrong" not in str(error.value)
    assert not (tmp_path / "spool").exists()


@SQLITE_ONLY
def test_service_down_spools_without_the_token_then_replay_sends_it(
    database_url: str, engine: Engine, uploader: str, tmp_path: Path
) -> None:
    port, spool = free_port(), tmp_path / "spool"
    run = verdict(example_findings(), run_id="offline-1")

    outcome = upload_verdict(run, url=f"http://127.0.0.1:{port}", token=uploader, spool_dir=spool,
                             attempts=3, backoff_seconds=0.01)

    assert not outcome.uploaded and outcome.attempts == 3
    assert outcome.spooled_to is not None and outcome.spooled_to.parent == spool
    text = outcome.spooled_to.read_text()
    assert uploader not in text
    assert json.loads(text)["destination"] == f"http://127.0.0.1:{port}/api/v1/runs"
    assert "gate register replay" in outcome.message

    still_down = replay_uploads(pending(spool), token=uploader, attempts=1,
                                backoff_seconds=0.01, damaged=[])
    assert [r.uploaded for r in still_down] == [False] and outcome.spooled_to.exists()

    with live_server(database_url, port=port) as base_url:
        replayed = replay_uploads(pending(spool), token=uploader, backoff_seconds=0.01,
                                  damaged=[])
        runs = recorded_runs(base_url, engine)

    assert [(r.run_id, r.uploaded) for r in replayed] == [("offline-1", True)]
    assert runs == ["offline-1"] and list(spool.glob("*.json")) == []


@SQLITE_ONLY
def test_gate_scan_with_a_refused_token_spools_and_replay_sends_with_the_right_one(
    database_url: str, engine: Engine, uploader: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from gate.cli import cli
    from tests.conftest import FIXTURES, REPO_ROOT

    spool = tmp_path / "spool"
    monkeypatch.setenv("GATE_SPOOL_DIR", str(spool))
    report = FIXTURES / "pip-audit" / "clean-app.json"
    out = tmp_path / "verdict.json"
    with live_server(database_url) as base_url:
        scanned = CliRunner().invoke(cli, [
            "scan", str(REPO_ROOT / "examples" / "clean-app"), "--import", str(report),
            "--json", str(out), "--upload", base_url, "--token", "rg_wrong",
        ])
        assert scanned.exit_code == 3, "a passing gate with a refused token does not stay green"
        assert "HTTP 401" in scanned.output and "spooled to" in scanned.output
        assert len(list(spool.glob("*.json"))) == 1

        replayed = CliRunner().invoke(
            cli, ["register", "replay", "--spool-dir", str(spool)], env={"GATE_TOKEN": uploader}
        )
        assert replayed.exit_code == 0, replayed.output
        runs = recorded_runs(base_url, engine)

    assert runs == [json.loads(out.read_text())["run_id"]]
    assert not list(spool.glob("*.json"))


@SQLITE_ONLY
def test_replay_sends_a_large_spooled_upload_and_sets_damaged_ones_aside(
    database_url: str, engine: Engine, uploader: str, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from gate.cli import cli
    from gate.models import Severity
    from register.verdict_stream import BATCH
    from tests.register.factories import dependency

    port, spool = free_port(), tmp_path / "spool"
    many = [dependency(f"package-{n}", f"CVE-2026-{n:05d}", severity=Severity.HIGH)
            for n in range(BATCH * 2 + 1)]
    outcome = upload_verdict(verdict(many, run_id="large-1"), url=f"http://127.0.0.1:{port}",
                             token=uploader, spool_dir=spool, attempts=1, backoff_seconds=0.01)
    assert outcome.spooled_to is not None
    document = json.loads(outcome.spooled_to.read_text())
    bad = json.loads(json.dumps(document))
    bad["verdict"]["run_id"] = "bad-1"
    bad["verdict"]["findings"][BATCH + 1]["finding"]["kind"] = "rumour"
    (spool / "upload-bad-1.json").write_text(json.dumps(bad))
    nowhere = {key: value for key, value in document.items() if key != "destination"}
    nowhere["verdict"] = verdict(example_findings(), run_id="nowhere-1").model_dump(mode="json")
    (spool / "upload-nowhere-1.json").write_text(json.dumps(nowhere))
    for number, destination in enumerate(("http://host:port:80/", "file:///etc/passwd")):
        elsewhere = {**nowhere, "destination": destination}
        (spool / f"upload-elsewhere-{number}.json").write_text(json.dumps(elsewhere))

    with live_server(database_url, port=port) as base_url:
        replayed = CliRunner().invoke(
            cli, ["register", "replay", "--spool-dir", str(spool)], env={"GATE_TOKEN": uploader})
        runs = recorded_runs(base_url, engine)
    with session_scope(engine) as session:
        opened = queries.list_entries(session, status="open")[1]

    assert replayed.exit_code == 2, replayed.output
    assert runs == ["large-1"]
    assert opened == BATCH * 2 + 1
    assert f"upload-bad-1.json: unreadable spool file: not a verdict: findings.{BATCH + 1}" \
        in replayed.output
    assert "upload-nowhere-1.json: unreadable spool file: names no destination" in replayed.output
    assert "upload-elsewhere-0.json: unreadable spool file: its destination is no URL" in (
        replayed.output)
    assert "upload-elsewhere-1.json: unreadable spool file: its destination is no http(s) URL" in (
        replayed.output)
    assert sorted(path.name for path in (spool / "damaged").iterdir()) == [
        "upload-bad-1.json", "upload-elsewhere-0.json", "upload-elsewhere-1.json",
        "upload-nowhere-1.json"]
    assert pending(spool) == []


@SQLITE_ONLY
def test_replay_sends_spooled_uploads_only_where_told_when_an_upload_url_is_set(
    database_url: str, engine: Engine, uploader: str, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from gate.cli import cli

    spool = tmp_path / "spool"
    elsewhere = f"http://127.0.0.1:{free_port()}"  # a spool file may name any address
    upload_verdict(verdict(example_findings(), run_id="told-1"), url=elsewhere, token=uploader,
                   spool_dir=spool, attempts=1, backoff_seconds=0.01)
    with live_server(database_url) as base_url:
        replayed = CliRunner().invoke(
            cli, ["register", "replay", "--spool-dir", str(spool), "--upload", base_url],
            env={"GATE_TOKEN": uploader})
        runs = recorded_runs(base_url, engine)

    assert replayed.exit_code == 0, replayed.output
    assert f"uploaded to {base_url}/api/v1/runs" in replayed.output
    assert runs == ["told-1"] and pending(spool) == []
