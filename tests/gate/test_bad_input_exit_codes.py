"""Bad input as an attacker or a careless operator gives it: one line, the documented exit code.

Each case runs the real `gate` in a process of its own, as the cases were found: 0 pass,
1 block, 2 scanner or runtime failure, 3 bad policy, configuration or usage; never a
traceback (unless `--debug`).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gate.cli import cli
from tests.conftest import REPO_ROOT, require

CLEAN = REPO_ROOT / "examples" / "clean-app"
DEFAULT_POLICY = REPO_ROOT / "policies" / "default.yml"
UNREACHABLE_DB = "postgresql://riskgate@127.0.0.1:1/nowhere"


def gate(*args: str, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a process of its own."""
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "gate", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, check=False,
    )


def clean_report(directory: Path) -> Path:
    """A pip-audit report with nothing vulnerable: a scan importing it passes."""
    path = directory / "clean-pip-audit.json"
    path.write_text('{"dependencies": [{"name": "click", "version": "8.1.7", "vulns": []}]}')
    return path


def one_line(process: subprocess.CompletedProcess[str]) -> str:
    """The single line a failure prints on stderr (and no traceback)."""
    lines = process.stderr.strip().splitlines()
    assert "Traceback" not in process.stderr, process.stderr
    assert len(lines) == 1, process.stderr
    return lines[0]


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "1e400", "86401"])
def test_timeouts_that_are_not_a_positive_finite_number_are_usage_errors(value: str) -> None:
    process = gate("scan", str(CLEAN), "--timeout", value, "--no-progress")
    assert process.returncode == 3
    assert "--timeout" in one_line(process)


@pytest.mark.parametrize("args", [("scan", "--bogus"), ("nope",), ("scan", "--format", "pdf")])
def test_usage_errors_exit_3_in_one_line(args: tuple[str, ...]) -> None:
    process = gate(*args)
    assert process.returncode == 3
    assert "error:" in one_line(process)


def test_a_missing_requirements_file_is_a_configuration_error(tmp_path: Path) -> None:
    process = gate("scan", str(CLEAN), "-r", str(tmp_path / "missing.txt"), "--scanner",
                   "pip-audit", "--no-progress")
    assert process.returncode == 3
    assert "missing.txt" in one_line(process)


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DEFAULT_POLICY.read_text().replace("timeout: 600          # seconds", "timeout: .inf"),
         "policy.yml:85:14: scanners.pip-audit.timeout: input should be a finite number"),
        (DEFAULT_POLICY.read_text().replace("timeout: 600          # seconds", "timeout: .nan"),
         "finite number"),
        ("a: " + "[" * 50_000 + "]" * 50_000 + "\n", "policy.yml:1:67: nested deeper than 64"),
        ("a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
            for i in range(8)), "expands to more than 100000 values"),
    ],
)
def test_hostile_policies_are_policy_errors(tmp_path: Path, text: str, message: str) -> None:
    path = _policy(tmp_path, text)
    process = gate("policy", "validate", str(path))
    assert process.returncode == 3
    assert message in one_line(process)
    scan = gate("scan", str(CLEAN), "--policy", str(path), "--no-progress")
    assert scan.returncode == 3
    assert message in one_line(scan)


def test_a_policy_that_is_a_device_is_refused_without_reading_it() -> None:
    process = gate("policy", "validate", "/dev/zero")
    assert process.returncode == 3
    assert one_line(process) == "gate: error: /dev/zero: cannot read: not a regular file"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("deep.sarif", "deep.sarif: JSON nested deeper than 64 levels"),
        ("loop", "loop: cannot read: Too many levels of symbolic links"),
        ("/dev/zero", "/dev/zero: cannot read: not a regular file"),
        ("big.json", "big.json: larger than the limit of 1000 bytes"),
    ],
)
def test_hostile_imports_fail_in_one_line(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "deep.sarif").write_text("[" * 50_000 + "]" * 50_000)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "big.json").write_text(json.dumps({"results": [], "errors": [], "x": "y" * 2000}))
    target = name if name.startswith("/") else str(tmp_path / name)
    limit = {"GATE_MAX_IMPORT_BYTES": "1000"} if name == "big.json" else {}
    process = gate("scan", str(CLEAN), "--import", target, "--no-progress", env=limit)
    assert process.returncode == 2
    assert one_line(process).endswith(message)


def test_a_verdict_from_year_9999_is_refused_in_one_line(tmp_path: Path) -> None:
    verdict_file = tmp_path / "v.json"
    assert gate("scan", str(CLEAN), "--import", str(clean_report(tmp_path)), "--json",
                str(verdict_file), "--no-progress").returncode == 0
    verdict = json.loads(verdict_file.read_text())
    verdict["started_at"] = verdict["finished_at"] = "9999-12-30T00:00:00Z"
    verdict_file.write_text(json.dumps(verdict))
    database = f"sqlite:///{tmp_path / 'r.db'}"
    assert gate("db", "upgrade", "--database", database).returncode == 0
    process = gate("register", "record", str(verdict_file), "--database", database)
    assert process.returncode == 3
    assert "started_at: Value error, a run time must lie between the years" in one_line(process)


def test_a_database_at_an_unknown_revision_is_one_line_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    assert gate("db", "upgrade", "--database", f"sqlite:///{path}").returncode == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    process = gate("db", "upgrade", "--database", f"sqlite:///{path}")
    assert process.returncode == 3
    assert "'9999_future'" in one_line(process)
    assert "newer riskgate" in one_line(process)


def test_a_scanner_child_that_escapes_with_setsid_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "escaped.pid"
    scanner = tmp_path / "semgrep"
    scanner.write_text(
        "#!/bin/bash\n"
        'if [ "$1" = "--version" ]; then echo 1.0.0; exit 0; fi\n'
        f"setsid bash -c 'echo $$ > {pid_file}; exec sleep 600' &\n"
        "sleep 600\n"
    )
    scanner.chmod(0o755)
    # without the reaper the scan waits for the escaped child: 600 s, past this timeout
    process = gate("scan", str(CLEAN), "--scanner", "semgrep", "--timeout", "2", "--no-progress",
                   env={"GATE_SEMGREP_BIN": str(scanner)}, timeout=90)
    assert process.returncode == 2, process.stderr
    assert "timed out after 2 s and was stopped" in process.stdout
    escaped = int(pid_file.read_text())
    state = Path(f"/proc/{escaped}/stat")
    assert not state.exists() or state.read_text().split()[2] == "Z"


def test_a_crash_is_one_line_and_the_traceback_needs_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr("gate.policy.discover.read_policy", broken)
    result = CliRunner().invoke(cli, ["policy", "validate", str(DEFAULT_POLICY)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "gate: internal error: KeyError: 'boom' (run with --debug for the traceback)"]
    debug = CliRunner().invoke(cli, ["--debug", "policy", "validate", str(DEFAULT_POLICY)])
    assert debug.exit_code == 2
    assert "Traceback" in debug.output


# --- the spool ------------------------------------------------------------------------------


def _unshare() -> list[str]:
    found = shutil.which("unshare")
    probe = found and subprocess.run(  # noqa: S603 - fixed argv
        [found, "-rm", "true"], capture_output=True, check=False)
    require(bool(probe) and probe.returncode == 0,  # type: ignore[union-attr]
            "needs `unshare -rm` (user and mount namespaces) to mount a full file system")
    return [str(found), "-rm"]


def _scan_on_full_disk(tmp_path: Path, *, fallback: Path) -> subprocess.CompletedProcess[str]:
    """`gate scan --record` with an unreachable database and the spool on a full tmpfs."""
    full = tmp_path / "full"
    full.mkdir()
    script = (
        f"mount -t tmpfs -o size=64k tmpfs {full} && "
        f"(head -c 1000000 /dev/zero > {full}/filler 2>/dev/null; true) && "
        f"exec {sys.executable} -m gate scan {CLEAN} --import "
        f"{clean_report(tmp_path)} --record "
        f"--database {UNREACHABLE_DB} --json {tmp_path / 'kept.json'} --no-progress"
    )
    env = {**os.environ, "GATE_SPOOL_DIR": str(full / "spool"),
           "GATE_SPOOL_FALLBACK_DIR": str(fallback)}
    return subprocess.run([*_unshare(), "bash", "-c", script],  # noqa: S603 - fixed argv
                          capture_output=True, text=True, timeout=120, env=env, check=False)


def test_a_full_spool_disk_keeps_the_run_in_the_fallback(tmp_path: Path) -> None:
    fallback = tmp_path / "fallback"
    process = _scan_on_full_disk(tmp_path, fallback=fallback)
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    spooled = list(fallback.glob("database-*.json"))
    assert len(spooled) == 1
    assert f"spooled to {spooled[0]} (the spool directory" in process.stderr
    assert json.loads(spooled[0].read_text())["verdict"]["run_id"] in spooled[0].name


def test_when_no_spool_can_take_the_run_it_says_where_the_verdict_is(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the fallback directory should be")
    process = _scan_on_full_disk(tmp_path, fallback=blocked)
    assert process.returncode == 2, process.stderr
    line = one_line(process)
    assert "could not be spooled" in line
    assert f"the verdict is kept in {tmp_path / 'kept.json'}" in line
    assert json.loads((tmp_path / "kept.json").read_text())["run_id"] in line


def test_a_truncated_spool_file_does_not_stop_the_replay(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    env = {"GATE_SPOOL_DIR": str(spool)}
    fixture = clean_report(tmp_path)
    for _ in range(3):
        assert gate("scan", str(CLEAN), "--import", str(fixture), "--record", "--database",
                    UNREACHABLE_DB, "--no-progress", env=env).returncode == 0
    files = sorted(spool.glob("database-*.json"), key=lambda p: p.stat().st_mtime)
    assert len(files) == 3
    files[0].write_bytes(files[0].read_bytes()[:100])
    database = f"sqlite:///{tmp_path / 'r.db'}"
    assert gate("db", "upgrade", "--database", database).returncode == 0
    process = gate("register", "replay", "--spool-dir", str(spool), "--database", database)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert [line.split(":")[0] for line in process.stdout.splitlines()] == [
        files[1].name, files[2].name]
    assert (spool / "damaged" / files[0].name).is_file()
    assert f"{files[0]}: unreadable spool file" in process.stderr
    assert not list(spool.glob("database-*.json"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_fifo_a_directory_or_a_dangling_link_as_a_verdict_is_refused_not_waited_on(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "verdict.json"
    os.mkfifo(fifo)
    database = f"sqlite:///{tmp_path / 'r.db'}"
    for target, problem in ((fifo, "not a regular file"), (tmp_path, "Is a directory")):
        process = gate("register", "record", str(target), "--database", database, timeout=60)
        assert process.returncode == 3
        assert one_line(process) == f"gate: error: {target}: cannot read: {problem}"

    spool = tmp_path / "spool"
    spool.mkdir()
    os.mkfifo(spool / "database-pipe.json")
    (spool / "database-gone.json").symlink_to(tmp_path / "nowhere.json")
    assert gate("db", "upgrade", "--database", database).returncode == 0
    replay = gate("register", "replay", "--spool-dir", str(spool), "--database", database,
                  timeout=60)
    assert replay.returncode == 2 and "internal error" not in replay.stderr
    assert "database-pipe.json: not replayed: not a regular file" in replay.stderr
    assert "database-gone.json: not replayed: a symbolic link" in replay.stderr
    assert (spool / "damaged" / "database-pipe.json").exists()
    assert (spool / "damaged" / "database-gone.json").is_symlink()


def test_a_lone_surrogate_in_scanner_text_is_replaced_not_a_crash(tmp_path: Path) -> None:
    """JSON may escape a lone surrogate (`\\ud800`), which no UTF-8 text holds: the gate used to
    stop with an internal error writing its verdict. Now it becomes U+FFFD, as the register
    stores it, and the verdict is written and recorded."""
    document = json.loads((REPO_ROOT / "tests/fixtures/imports/semgrep.json").read_text())
    document["results"][0]["extra"]["message"] = "evil MARK here 🦀"
    document["results"][0]["extra"]["metadata"] = {"MARKkey": ["MARKtail"]}
    report = tmp_path / "semgrep.json"
    report.write_text(json.dumps(document).replace("MARK", "\\udfff").replace(
        "🦀", "\\ud83e\\udd80"))
    out = tmp_path / "verdict.json"
    scan = gate("scan", str(CLEAN), "--import", str(report), "--json", str(out),
                "--no-progress")
    assert scan.returncode in (0, 1), scan.stderr
    verdict = json.loads(out.read_text(encoding="utf-8"))
    messages = [f["finding"]["message"] for f in verdict["findings"]]
    assert "evil \ufffd here 🦀" in messages, "a pair stays whole, a lone half is replaced"
    database = f"sqlite:///{tmp_path / 'r.db'}"
    assert gate("db", "upgrade", "--database", database).returncode == 0
    recorded = gate("register", "record", str(out), "--database", database)
    assert recorded.returncode == 0, recorded.stderr
