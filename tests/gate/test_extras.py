"""`riskgate[server]`: the gate installs without the web stack, and the commands that need it
say in one line how to add it (exit 3).

The environment without the extra is this venv with the web stack made unimportable in a
child process (`sys.modules[name] = None` is how Python itself marks a module as absent);
.ci/run proves the same with a real wheel installed without the extra.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gate.extras import SERVER_HINT, SERVER_MODULES, missing_server_modules
from tests.conftest import REPO_ROOT

WITHOUT_WEB_STACK = f"""
import sys
for name in {SERVER_MODULES!r} + ("starlette",):
    sys.modules[name] = None
from gate.cli import main
sys.argv = ["gate", *sys.argv[1:]]
main()
"""


def _gate_without_web_stack(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "GATE_DATABASE_URL": f"sqlite:///{tmp_path / 'register.db'}"}
    return subprocess.run([sys.executable, "-c", WITHOUT_WEB_STACK, *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize(("args", "feature"), [
    (("serve",), "gate serve"),
    (("register", "report", "--html", "board.html"), "gate register report"),
])
def test_web_commands_without_the_extra_say_how_to_install_it(
    tmp_path: Path, args: tuple[str, ...], feature: str
) -> None:
    result = _gate_without_web_stack(tmp_path, *args)
    assert result.returncode == 3, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"gate: error: {feature} needs riskgate's web stack")
    assert line.endswith(SERVER_HINT)
    assert not (tmp_path / "board.html").exists()


def test_the_gate_and_the_register_database_work_without_the_extra(tmp_path: Path) -> None:
    assert _gate_without_web_stack(tmp_path, "--help").returncode == 0
    assert _gate_without_web_stack(tmp_path, "db", "upgrade").returncode == 0
    result = _gate_without_web_stack(tmp_path, "register", "list")
    assert result.returncode == 0, result.stderr
    policy = REPO_ROOT / "policies" / "default.yml"
    assert _gate_without_web_stack(tmp_path, "policy", "validate", str(policy)).returncode == 0


def test_the_extra_holds_the_web_stack_and_dev_installs_it() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    server = " ".join(project["optional-dependencies"]["server"]).lower()
    for name in ("fastapi", "uvicorn", "jinja2", "itsdangerous", "python-multipart"):
        assert name in server and name not in core
    assert "riskgate[server]" in project["optional-dependencies"]["dev"]
    assert missing_server_modules() == [], "the dev venv has the extra"
