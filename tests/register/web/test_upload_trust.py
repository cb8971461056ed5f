"""Uploads never change project settings, and uploader tokens are scoped to projects."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from gate.cli import cli
from gate.models import Criticality, RiskContext, Severity
from register.db import session_scope
from register.models import Role
from register.queries import today
from register.scoring import score_finding
from register.web.tokens import create_token
from tests.register.factories import dependency, example_findings, verdict
from tests.register.web.helpers import bearer, post_verdict

GENEROUS = RiskContext(
    acceptance_max_days=36_500,
    sla_days=dict.fromkeys(Severity, 36500),
    business_criticality=Criticality.LOW,
)


def first_entry(client: TestClient, token: str, title_part: str) -> dict[str, object]:
    items = client.get("/api/v1/findings?limit=500", headers=bearer(token)).json()["items"]
    return next(item for item in items if title_part in str(item["title"]))


def test_an_upload_cannot_widen_the_acceptance_limit(
    client: TestClient, tokens: dict[str, str]
) -> None:
    genuine = verdict(example_findings(), run_id="genuine")
    widened = verdict(example_findings(), run_id="widened", context=GENEROUS)
    assert post_verdict(client, genuine, tokens["uploader"]).status_code == 201
    assert post_verdict(client, widened, tokens["uploader"]).status_code == 201
    triager = bearer(tokens["triager"])
    critical = first_entry(client, tokens["viewer"], "pyyaml")
    in_2116 = (today() + timedelta(days=33_000)).isoformat()

    accepted = client.post(f"/api/v1/findings/{critical['id']}/accept", headers=triager,
                           json={"reason": "later", "expires_on": in_2116, "approver": "ciso"})
    settings = client.get("/api/v1/projects/shop/settings", headers=bearer(tokens["viewer"]))

    assert accepted.status_code == 409, accepted.text
    assert "beyond the policy maximum of 90 days" in accepted.json()["detail"]
    assert settings.json()["acceptance_max_days"] == 90
    assert settings.json()["sla_days"]["critical"] == 7


def test_a_project_created_by_an_upload_is_scored_with_the_registers_defaults(
    client: TestClient, tokens: dict[str, str]
) -> None:
    salt = dependency("salt", "CVE-2020-11651", severity=Severity.CRITICAL)
    run = verdict([salt], run_id="new", project="fresh", context=GENEROUS)

    assert post_verdict(client, run, tokens["uploader"]).status_code == 201

    entry = first_entry(client, tokens["viewer"], "salt")
    assert entry["due_date"] == (run.started_at.date() + timedelta(days=7)).isoformat()
    assert entry["impact"] == score_finding(salt, RiskContext()).impact
    settings = client.get("/api/v1/projects/fresh/settings", headers=bearer(tokens["viewer"]))
    assert settings.json() == RiskContext().model_dump(mode="json")


def test_an_admin_sets_the_settings_uploads_are_scored_with(
    client: TestClient, tokens: dict[str, str]
) -> None:
    strict = RiskContext(sla_days={**RiskContext().sla_days, Severity.HIGH: 2},
                         acceptance_max_days=10).model_dump(mode="json")
    refused = client.put("/api/v1/projects/shop/settings", json=strict,
                         headers=bearer(tokens["triager"]))
    stored = client.put("/api/v1/projects/shop/settings", json=strict,
                        headers=bearer(tokens["admin"]))
    bad = client.put("/api/v1/projects/shop/settings", headers=bearer(tokens["admin"]),
                     json={**strict, "acceptance_max_days": 0})
    run = verdict([dependency("jinja2", "CVE-2024-22195")], run_id="after", context=GENEROUS)
    assert post_verdict(client, run, tokens["uploader"]).status_code == 201

    assert refused.status_code == 403
    assert stored.status_code == 200 and stored.json()["acceptance_max_days"] == 10
    assert bad.status_code == 422 and "acceptance_max_days" in bad.json()["detail"]
    entry = first_entry(client, tokens["viewer"], "jinja2")
    assert entry["due_date"] == (run.started_at.date() + timedelta(days=2)).isoformat()
    missing = client.get("/api/v1/projects/nope/settings", headers=bearer(tokens["viewer"]))
    assert missing.status_code == 404


def test_a_scoped_uploader_token_uploads_to_its_projects_only(
    client: TestClient, tokens: dict[str, str], engine: Engine
) -> None:
    with session_scope(engine) as session:
        _, scoped = create_token(session, name="ci-shop", role=Role.UPLOADER, projects=["shop"])
    mine = verdict(example_findings(), run_id="mine")
    theirs = verdict(example_findings(), run_id="theirs", project="payments")
    renamed = verdict(example_findings(), run_id="renamed")

    allowed = post_verdict(client, mine, scoped)
    by_body = post_verdict(client, theirs, scoped)
    by_query = client.post("/api/v1/runs?project=payments", content=renamed.model_dump_json(),
                           headers={**bearer(scoped), "Content-Type": "application/json"})
    runs = client.get("/api/v1/runs", headers=bearer(tokens["viewer"])).json()

    assert allowed.status_code == 201
    assert by_body.status_code == 403
    assert by_body.json()["detail"] == (
        "token 'ci-shop' is scoped to project(s) shop, not 'payments'"
    )
    assert by_query.status_code == 403
    assert [run["run_id"] for run in runs] == ["mine"]
    decisions = client.get("/api/v1/projects/payments/decisions", headers=bearer(scoped))
    assert decisions.status_code == 403
    assert client.get("/api/v1/projects/shop/decisions", headers=bearer(scoped)).status_code == 200


def test_tokens_are_scoped_over_the_api_and_only_uploaders(
    client: TestClient, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["admin"])
    made = client.post("/api/v1/tokens", headers=admin,
                       json={"name": "ci", "role": "uploader", "projects": ["a", "b"]})
    viewer = client.post("/api/v1/tokens", headers=admin,
                         json={"name": "v", "role": "viewer", "projects": ["a"]})
    upload = post_verdict(client, verdict([], run_id="c", project="c"), made.json()["token"])

    assert made.status_code == 201 and made.json()["projects"] == ["a", "b"]
    assert viewer.status_code == 422 and "only uploader tokens" in viewer.json()["detail"]
    assert upload.status_code == 403


def test_cli_sets_project_settings_from_a_policy_and_scopes_tokens(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nname: shop\nacceptance:\n  max_days: 30\n", encoding="utf-8")
    runner = CliRunner()

    configured = runner.invoke(cli, ["register", "project", "set", "shop", "--policy",
                                     str(policy), "--database", database_url])
    shown = runner.invoke(cli, ["register", "project", "show", "shop",
                                "--database", database_url])
    unknown = runner.invoke(cli, ["register", "project", "show", "nope",
                                  "--database", database_url])
    token = runner.invoke(cli, ["register", "token", "create", "--role", "uploader", "--name",
                                "ci", "--project", "shop", "--database", database_url])
    listed = runner.invoke(cli, ["register", "token", "list", "--database", database_url])

    assert configured.exit_code == 0, configured.output
    assert json.loads(shown.output)["acceptance_max_days"] == 30
    assert unknown.exit_code == 3 and "no project named 'nope'" in unknown.output
    assert token.exit_code == 0 and listed.output.rstrip().endswith("\tshop")
