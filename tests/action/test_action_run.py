"""Run action.yml's steps as the runner would (see local_runner) on the example apps.

The `uses:` steps (setup-python, cache) are skipped; the install step reuses the tools of this
machine through `RISKGATE_VENV` (the venv running the tests) and `GATE_SEMGREP_BIN`, so what
runs is the action's real key, install and gate scripts around a real `gate scan`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.action.fake_github import FakeGitHub, fake_github
from tests.action.local_runner import REPO_ROOT, ActionRun, run_action
from tests.conftest import require

EXAMPLES = REPO_ROOT / "examples"
SUMMARY_LIMIT = 1024 * 1024
pytestmark = [pytest.mark.semgrep, pytest.mark.slow]


def _workspace(root: Path, app: str) -> Path:
    """A workspace like a checkout: the app, the offline advisories and the KEV catalog."""
    workspace = root / "workspace"
    shutil.copytree(EXAMPLES / app, workspace / "app")
    shutil.copytree(EXAMPLES / "advisories", workspace / "advisories")
    shutil.copy2(EXAMPLES / "kev" / "known_exploited_vulnerabilities.json", workspace / "kev.json")
    (root / "runner-temp").mkdir()
    return workspace


def _job_env(semgrep: str) -> dict[str, str]:
    venv = Path(sys.prefix)
    require((venv / "bin" / "gate").is_file(), f"riskgate is not installed in {venv}")
    return {"RISKGATE_VENV": str(venv), "GATE_SEMGREP_BIN": semgrep}


def _run(
    root: Path,
    app: str,
    semgrep: str,
    *,
    inputs: dict[str, str] | None = None,
    files: dict[str, str] | None = None,
    event_name: str = "push",
    base_ref: str = "",
) -> ActionRun:
    """Run the action on a fresh workspace holding `app` (and `files`, name -> text)."""
    workspace = _workspace(root, app)
    for name, text in (files or {}).items():
        (workspace / name).write_text(text, encoding="utf-8")
    return run_action(
        workspace=workspace,
        runner_temp=root / "runner-temp",
        inputs={"path": "app", "advisories": "advisories"} | (inputs or {}),
        job_env=_job_env(semgrep),
        event_name=event_name,
        base_ref=base_ref,
    )


def _verdict(run: ActionRun) -> dict[str, object]:
    data = json.loads((run.runner_temp / "riskgate" / "verdict.json").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def blocked_run(tmp_path_factory: pytest.TempPathFactory, semgrep_bin: str) -> ActionRun:
    root = tmp_path_factory.mktemp("vulnerable")
    return _run(root, "vulnerable-app", semgrep_bin, inputs={"extra-args": "--kev kev.json"})


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory, semgrep_bin: str) -> ActionRun:
    """The clean app, with shell payloads in the project name (extra-args)."""
    root = tmp_path_factory.mktemp("clean")
    payload = f"$(touch {root}/pwned1) `touch {root}/pwned2`; touch {root}/pwned3"
    return _run(root, "clean-app", semgrep_bin, inputs={"extra-args": f"--project '{payload}'"})


def test_vulnerable_app_fails_the_step_with_blocking_outputs(blocked_run: ActionRun) -> None:
    assert blocked_run.returncode == 1, blocked_run.log
    assert blocked_run.outputs["verdict"] == "block"
    assert int(blocked_run.outputs["blocking"]) > 0
    assert int(blocked_run.outputs["findings"]) >= int(blocked_run.outputs["blocking"])


def test_vulnerable_app_summary_names_the_decision_and_salt(blocked_run: ActionRun) -> None:
    summary = blocked_run.step("gate").summary
    assert "riskgate: block" in summary.splitlines()[0].lower()
    assert "salt" in summary
    assert "PYSEC-2020-102 (CVE-2020-11651)" in summary


def test_vulnerable_app_writes_sarif_where_the_output_says(blocked_run: ActionRun) -> None:
    sarif_path = blocked_run.outputs["sarif-file"]
    assert sarif_path == "riskgate.sarif"
    workspace = blocked_run.runner_temp.parent / "workspace"
    sarif = json.loads((workspace / sarif_path).read_text())
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"]


def test_annotations_are_printed_after_commands_resume(blocked_run: ActionRun) -> None:
    stdout = blocked_run.step("gate").stdout
    start = next(line for line in stdout.splitlines() if line.startswith("::stop-commands::"))
    resume = f"::{start.removeprefix('::stop-commands::')}::"
    after = stdout.split(resume, 1)[1]
    errors = [line for line in after.splitlines() if line.startswith("::error ")]
    assert errors, stdout
    assert len(errors) <= 10, "GitHub shows at most 10 error annotations per step"


def test_clean_app_passes(clean_run: ActionRun) -> None:
    assert clean_run.returncode == 0, clean_run.log
    assert clean_run.outputs["verdict"] in {"pass", "warn"}
    assert clean_run.outputs["blocking"] == "0"
    first_line = clean_run.step("gate").summary.splitlines()[0].lower()
    assert "riskgate: pass" in first_line or "riskgate: warn" in first_line


def test_shell_payloads_in_inputs_are_data(clean_run: ActionRun) -> None:
    root = clean_run.runner_temp.parent
    assert not list(root.glob("pwned*"))
    assert str(_verdict(clean_run)["project"]).startswith("$(touch ")


def test_payloads_in_every_text_input_never_run(tmp_path: Path, semgrep_bin: str) -> None:
    marker = tmp_path / "pwned"
    payload = f"$(touch {marker})`touch {marker}`"
    names = ("path", "policy", "baseline", "sarif-file", "upload-url", "token")
    inputs = dict.fromkeys(names, payload)
    run = _run(tmp_path, "clean-app", semgrep_bin, inputs=inputs)
    assert run.returncode == 3, "no such path: the input check fails the step"
    assert "::error::riskgate: input path: '$(touch" in run.stdout
    assert not marker.exists()


BROKEN_POLICY = {"broken.yml": "version: 1\nrules:\n  - name: typo\n    action: blok\n"}


def test_broken_policy_fails_closed_by_default(tmp_path: Path, semgrep_bin: str) -> None:
    run = _run(
        tmp_path, "clean-app", semgrep_bin, inputs={"policy": "broken.yml"}, files=BROKEN_POLICY
    )
    assert run.returncode == 3, run.log
    assert run.outputs["verdict"] == "error"
    summary = run.step("gate").summary
    assert "riskgate: error" in summary.lower()
    assert "broken.yml" in summary


def test_broken_policy_fails_even_when_fail_on_error_is_false(
    tmp_path: Path, semgrep_bin: str
) -> None:
    inputs = {"policy": "broken.yml", "fail-on-error": "false"}
    run = _run(tmp_path, "clean-app", semgrep_bin, inputs=inputs, files=BROKEN_POLICY)
    assert run.returncode == 3, run.log
    assert run.outputs["verdict"] == "error"
    assert "::error::riskgate: bad policy, option or input (exit 3)" in run.stdout


def test_mistyped_extra_args_fail_the_step_even_when_fail_on_error_is_false(
    tmp_path: Path, semgrep_bin: str
) -> None:
    inputs = {"extra-args": "--fail-onn high", "fail-on-error": "false"}
    run = _run(tmp_path, "clean-app", semgrep_bin, inputs=inputs)
    assert run.returncode == 3, run.log
    assert "::error::riskgate: input extra-args: No such option '--fail-onn'" in run.stdout
    assert not (run.runner_temp / "riskgate" / "verdict.json").exists(), "nothing was scanned"


def test_upload_url_without_token_is_an_input_error(tmp_path: Path, semgrep_bin: str) -> None:
    inputs = {"upload-url": "http://127.0.0.1:9", "fail-on-error": "false"}
    run = _run(tmp_path, "clean-app", semgrep_bin, inputs=inputs)
    assert run.returncode == 3, run.log
    assert "::error::riskgate: input token: upload-url is set but token is empty" in run.stdout
    assert [step.id for step in run.steps if not step.skipped] == [None], "stops at the check"


def test_pull_request_comment_is_written_once_then_edited(
    tmp_path: Path, semgrep_bin: str
) -> None:
    state = FakeGitHub()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12}}))
    with fake_github(state) as api:
        for attempt in ("first", "second"):
            root = tmp_path / attempt
            root.mkdir()
            workspace = _workspace(root, "clean-app")
            run = run_action(
                workspace=workspace, runner_temp=root / "runner-temp",
                inputs={"path": "app", "advisories": "advisories", "comment": "true"},
                event_name="pull_request", token="ghs_good",
                job_env=_job_env(semgrep_bin) | {
                    "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "acme/shop",
                    "GITHUB_API_URL": api},
            )
            assert run.returncode == 0, run.log
            outcome = "created" if attempt == "first" else "updated"
            assert f"riskgate: pull-request comment {outcome} on #12" in run.stdout
    (comment,) = state.comments[12]
    assert "riskgate: pass" in comment["body"].lower() or "riskgate: warn" in comment[
        "body"].lower()
    assert "ghs_good" not in (root / "runner-temp" / "riskgate" / "verdict.json").read_text()


def test_pull_request_without_its_base_fails_closed_unless_told_not_to(
    tmp_path: Path, semgrep_bin: str
) -> None:
    """Without the base, the change's own policy, ignore and VEX files would judge it."""
    run = _run(tmp_path / "closed", "clean-app", semgrep_bin, event_name="pull_request",
               base_ref="main")
    assert run.returncode == 2, run.log
    assert "::error::riskgate: origin/main is not available; a pull request is judged by its " \
        "base branch's policy" in run.stdout
    assert not (run.runner_temp / "riskgate" / "verdict.json").exists()

    run = _run(tmp_path / "open", "clean-app", semgrep_bin, event_name="pull_request",
               base_ref="main", inputs={"fail-on-error": "false"})
    assert run.returncode == 0, run.log
    assert "::warning::riskgate: origin/main is not available" in run.stdout
    assert _verdict(run)["baseline_ref"] is None


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd, check=True, capture_output=True,
    )


def test_pull_request_uses_the_base_branch_as_baseline(tmp_path: Path, semgrep_bin: str) -> None:
    """Findings already on the base branch are `existing`: the pull request is not blocked."""
    require(shutil.which("git") is not None, "git is not installed")
    workspace = _workspace(tmp_path, "vulnerable-app")
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(origin))
    _git(workspace, "init", "--quiet", "-b", "main")
    _git(workspace, "add", ".")
    _git(workspace, "commit", "--quiet", "-m", "base")
    _git(workspace, "remote", "add", "origin", str(origin))
    _git(workspace, "push", "--quiet", "origin", "main")
    _git(workspace, "checkout", "--quiet", "-b", "feature")
    (workspace / "README.md").write_text("a change that adds no finding\n")
    _git(workspace, "add", "README.md")
    _git(workspace, "commit", "--quiet", "-m", "feature")
    run = run_action(
        workspace=workspace,
        runner_temp=tmp_path / "runner-temp",
        inputs={"path": "app", "advisories": "advisories"},
        event_name="pull_request",
        base_ref="main",
        job_env=_job_env(semgrep_bin),
    )
    assert run.returncode == 0, run.log
    assert _verdict(run)["baseline_ref"] == "origin/main"
    assert run.outputs["blocking"] == "0"
    assert int(run.outputs["findings"]) > 0


def _huge_sarif(path: Path, count: int) -> None:
    results = [
        {
            "ruleId": f"synthetic-rule-{index}",
            "level": "error",
            "message": {"text": f"synthetic finding {index} " + "x" * 150},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f"src/module_{index}.py"},
                "region": {"startLine": 1 + index % 500},
            }}],
        }
        for index in range(count)
    ]
    sarif = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "synthetic"}}, "results": results}],
    }
    path.write_text(json.dumps(sarif), encoding="utf-8")


def test_a_huge_report_keeps_the_step_summary_under_one_mib(
    tmp_path: Path, semgrep_bin: str
) -> None:
    workspace = _workspace(tmp_path, "clean-app")
    _huge_sarif(workspace / "huge.sarif", 20_000)
    run = run_action(
        workspace=workspace,
        runner_temp=tmp_path / "runner-temp",
        inputs={"path": "app", "extra-args": "--import huge.sarif"},
        job_env=_job_env(semgrep_bin),
    )
    summary = run.step("gate").summary
    assert run.outputs["findings"] == "20000", run.log
    assert len(summary.encode("utf-8")) < SUMMARY_LIMIT
    assert "not shown" in summary or "cut this summary" in summary
    annotations = [line for line in run.stdout.splitlines() if line.startswith(("::error ",
                                                                               "::warning "))]
    assert 0 < len(annotations) <= 20
