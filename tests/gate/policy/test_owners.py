"""Owner resolution: policy owner rules, then CODEOWNERS (last match wins), then the default."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gate.policy.evaluate import evaluate
from gate.policy.owners import OwnerResolver, load_codeowners, parse_codeowners
from tests.gate.policy.helpers import code, dependency, policy

OWNED = policy(
    """
owners:
  default: "@security-team"
  rules:
    - {path: "src/payments/**", owner: "@payments"}
    - {package: "django*", owner: "@platform"}
"""
)

CODEOWNERS = """\
# comments and blank lines are skipped

*                 @everyone
/src/             @backend @reviewers
*.txt             @deps-team
/src/generated/
[Section header]
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text(CODEOWNERS, encoding="utf-8")
    return tmp_path


def test_policy_rule_beats_codeowners(project: Path) -> None:
    resolver = OwnerResolver.for_project(OWNED, project)
    assert resolver.owner_for(code(path="src/payments/charge.py")) == "@payments"
    assert resolver.owner_for(dependency(package="Django_Filter")) == "@platform"


def test_codeowners_last_match_wins(project: Path) -> None:
    resolver = OwnerResolver.for_project(OWNED, project)
    assert resolver.owner_for(code(path="src/api/views.py")) == "@backend @reviewers"
    assert resolver.owner_for(code(path="README.md")) == "@everyone"


def test_dependency_findings_are_owned_through_their_manifest(project: Path) -> None:
    resolver = OwnerResolver.for_project(OWNED, project)
    assert resolver.owner_for(dependency(package="requests", manifest="requirements.txt")) == (
        "@deps-team"
    )


def test_unowned_codeowners_line_falls_back_to_the_default(project: Path) -> None:
    resolver = OwnerResolver.for_project(OWNED, project)
    assert resolver.owner_for(code(path="src/generated/models.py")) == "@security-team"


def test_default_owner_without_codeowners(tmp_path: Path) -> None:
    resolver = OwnerResolver.for_project(OWNED, tmp_path)
    assert resolver.owner_for(code(path="lib/x.py")) == "@security-team"


def test_no_owner_at_all_is_none(tmp_path: Path) -> None:
    assert OwnerResolver.for_project(policy(), tmp_path).owner_for(code()) is None


def test_use_codeowners_false_skips_the_file(project: Path) -> None:
    rules = policy("owners: {default: '@sec', use_codeowners: false}\n")
    assert OwnerResolver.for_project(rules, project).owner_for(code(path="src/a.py")) == "@sec"


@pytest.mark.parametrize("location", ["CODEOWNERS", "docs/CODEOWNERS", ".github/CODEOWNERS"])
def test_codeowners_is_found_where_github_looks(tmp_path: Path, location: str) -> None:
    (tmp_path / location).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / location).write_text("*.py @python\n", encoding="utf-8")
    rules = load_codeowners(tmp_path)
    assert [(r.pattern, r.owners, r.line) for r in rules] == [("*.py", ("@python",), 1)]


def test_github_folder_is_preferred_over_root(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text("* @from-github\n", encoding="utf-8")
    (tmp_path / "CODEOWNERS").write_text("* @from-root\n", encoding="utf-8")
    assert load_codeowners(tmp_path)[0].owners == ("@from-github",)


def test_parse_skips_comments_blank_lines_and_sections() -> None:
    rules = parse_codeowners(CODEOWNERS)
    assert [r.pattern for r in rules] == ["*", "/src/", "*.txt", "/src/generated/"]
    assert rules[-1].owners == ()


def test_evaluate_fills_owners_from_the_resolver(project: Path) -> None:
    resolver = OwnerResolver.for_project(OWNED, project)
    findings = [code(path="src/payments/a.py"), code("other", path="src/b.py"), code("x", path="x")]
    verdict = evaluate(findings, OWNED, owners=resolver, today=date(2026, 1, 1))
    owners = {item.finding.location.path: item.owner for item in verdict.findings}
    assert owners == {
        "src/payments/a.py": "@payments",
        "src/b.py": "@backend @reviewers",
        "x": "@everyone",
    }
