"""Reading manifests without running them: each kind of requirement line, include and project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gate.errors import ConfigError
from gate.scanners.project_deps import read_project
from gate.scanners.requirements import AuditInput, Unaudited, classify, read_requirements


def read(root: Path, text: str) -> AuditInput:
    path = root / "requirements.txt"
    path.write_text(text)
    return read_requirements(path, display="requirements.txt", allowed=(root,))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("./pkg", "local path requirement"),
        (".", "local path requirement"),
        ("/abs/pkg", "local path requirement"),
        ("sub/pkg", "local path requirement"),
        ("file:pkg", "URL requirement"),
        ("file:///abs/pkg", "URL requirement"),
        ("https://example.invalid/pkg-1.0.tar.gz", "URL requirement"),
        ("git+https://example.invalid/pkg.git#egg=pkg", "VCS requirement"),
        ("hg+https://example.invalid/pkg", "VCS requirement"),
        ("pkg-1.0-py3-none-any.whl", "archive requirement"),
        ("pkg.zip", "archive requirement"),
        ("pkg @ file:///abs/pkg", "direct reference"),
        ("pkg@https://example.invalid/pkg.whl", "archive requirement"),
        ("pkg==${VERSION}", "not a named requirement"),
    ],
)
def test_lines_pip_would_build_are_not_audited(line: str, reason: str) -> None:
    result = classify(line, where="r.txt:1")
    assert isinstance(result, Unaudited), result
    assert reason in result.reason
    assert result.where == "r.txt:1"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Flask>=2", "Flask>=2"),
        ("pkg[extra] == 1.0 ; python_version >= '3.8'", 'pkg[extra]==1.0; python_version >= "3.8"'),
        ("pkg==1.0 --hash=sha256:ab12 --hash sha256:cd34",
         "pkg==1.0 --hash=sha256:ab12 --hash=sha256:cd34"),
        ("pkg==1.0 --global-option=--evil", "pkg==1.0"),
    ],
)
def test_named_requirements_are_kept_normalised(line: str, kept: str) -> None:
    assert classify(line, where="r.txt:1") == kept


def test_includes_are_followed_inside_the_tree_only(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.txt").write_text("click==8.1.7\n-r ../requirements.txt\n")
    (tmp_path / "constraints.txt").write_text("click==8.1.7\n./pkg\n")
    (tmp_path.parent / f"{tmp_path.name}-outside.txt").write_text("flask==0.12\n")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    audit = read(tmp_path, "\n".join([
        "# comment", "jinja2==2.10 \\", "  --hash=sha256:ab12", "-r sub/more.txt",
        "--constraint constraints.txt", f"-r ../{tmp_path.name}-outside.txt", "-r missing.txt",
        "-r loop", "-r /dev/zero", "-r https://example.invalid/r.txt", "-e .",
        "--index-url https://pypi.example/simple", "--no-binary :all:", "",
    ]))
    assert audit.requirements == ("jinja2==2.10 --hash=sha256:ab12", "click==8.1.7")
    assert audit.constraints == ("click==8.1.7",)
    assert audit.options == ("--index-url https://pypi.example/simple",)
    assert audit.pinned
    found = {(u.name, u.where): u.reason for u in audit.unaudited}
    assert set(found) == {
        ("../requirements.txt", "sub/more.txt:2"), ("./pkg", "constraints.txt:2"),
        (f"../{tmp_path.name}-outside.txt", "requirements.txt:6"),
        ("missing.txt", "requirements.txt:7"), ("loop", "requirements.txt:8"),
        ("/dev/zero", "requirements.txt:9"),
        ("https://example.invalid/r.txt", "requirements.txt:10"),
        (".", "requirements.txt:11"),
    }
    assert "include loop" in found[("../requirements.txt", "sub/more.txt:2")]
    assert "outside the scanned tree" in found[(f"../{tmp_path.name}-outside.txt",
                                                "requirements.txt:6")]
    assert "symlink loop" in found[("loop", "requirements.txt:8")]
    assert "outside the scanned tree" in found[("/dev/zero", "requirements.txt:9")]
    assert "editable" in found[(".", "requirements.txt:11")]


def test_an_unreadable_top_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match=r"^requirements.txt: cannot read requirements file"):
        read_requirements(path, display="requirements.txt", allowed=(tmp_path,))
    with pytest.raises(ConfigError, match="cannot read"):
        read_requirements(Path(os.devnull), display="/dev/null", allowed=(tmp_path,))


@pytest.mark.parametrize(
    ("files", "requirements", "unaudited"),
    [
        ({"pyproject.toml": '[project]\ndependencies = ["a==1", "b @ git+https://x/b"]\n'},
         ("a==1",), {"b"}),
        ({"pyproject.toml": '[project]\ndynamic = ["dependencies"]\n',
          "setup.cfg": "[options]\ninstall_requires =\n  a==1\n"}, ("a==1",), set()),
        ({"pyproject.toml": '[project]\ndynamic = ["dependencies"]\n'}, (), {"pyproject.toml"}),
        ({"pyproject.toml": "[tool.ruff]\n"}, (), {"pyproject.toml"}),
        ({"pyproject.toml": "[project\n"}, (), {"pyproject.toml"}),
        ({"setup.cfg": "[options]\ninstall_requires = file: reqs.txt\n"}, (), {"setup.cfg"}),
        ({"setup.py": "from setuptools import setup\nsetup(install_requires=['a>=1', './x'])\n"},
         ("a>=1",), {"./x"}),
        ({"setup.py": "import setuptools\nsetuptools.setup(install_requires=read())\n"},
         (), {"setup.py"}),
        ({"setup.py": "((((" * 100}, (), {"setup.py"}),
    ],
)
def test_projects_are_read_statically(
    tmp_path: Path, files: dict[str, str], requirements: tuple[str, ...], unaudited: set[str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    audit = read_project(tmp_path)
    assert audit.requirements == requirements
    assert {u.name for u in audit.unaudited} == unaudited
