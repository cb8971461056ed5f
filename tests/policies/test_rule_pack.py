"""The README's rule table is generated from the rule pack and matches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.rule_pack import BEGIN, END, load_rules, main, render, row, with_table
from tests.conftest import REPO_ROOT


def test_the_readme_lists_every_rule_of_the_pack_as_generated() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = render([row(rule) for rule in load_rules()])
    assert with_table(readme, table) == readme, "run: python -m gate.rule_pack README.md"
    assert all(f"`{rule['id']}`" in readme for rule in load_rules())


def test_rows_name_class_frameworks_cwe_and_severity() -> None:
    rows = {r.rule_id: r for r in map(row, load_rules())}
    sql = rows["python-sql-injection"]
    assert (sql.rule_class, sql.cwe, sql.severity) == ("SQL injection", "CWE-89", "high")
    assert sql.frameworks.startswith("Flask, Django, FastAPI/Starlette, aiohttp, Tornado")
    assert rows["python-csrf-exempt"].frameworks == "Django, Flask"
    assert rows["template-safe-filter"].frameworks == "Jinja2/Django templates"
    assert rows["python-eval-injection"].frameworks == "any"


def test_main_rewrites_only_the_table(tmp_path: Path) -> None:
    doc = tmp_path / "README.md"
    doc.write_text(f"# intro\n\n{BEGIN}\nstale\n{END}\n\n## after\n", encoding="utf-8")
    assert main([str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(f"# intro\n\n{BEGIN}\n| rule | class |")
    assert text.endswith(f"{END}\n\n## after\n") and "stale" not in text


def test_a_file_without_markers_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "README.md"
    doc.write_text("# no table here\n", encoding="utf-8")
    assert main([str(doc)]) == 3
    assert capsys.readouterr().err == (
        f"gate.rule_pack: {doc}: the markers {BEGIN} and {END} are missing\n"
    )
    assert doc.read_text(encoding="utf-8") == "# no table here\n"
