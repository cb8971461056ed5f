"""Evidence: recorded from the verdict on both databases, shown in order by the CLI and pages."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gate.cli import cli
from gate.models import Location
from register import evidence, queries
from register.recording import record_verdict_in
from tests.register.factories import T0, code, dependency, verdict

SNIPPET = "cursor.execute(\n    'SELECT * FROM t WHERE id=' + user_id)"


def findings() -> list:  # type: ignore[type-arg]
    sqli = code("rule.sqli", "app/db.py", SNIPPET, message="Build SQL with parameters.",
                cwe=("CWE-89: SQL Injection",), owasp=("A03:2021 - Injection",),
                help_url="https://example.org/rules/sqli", title="SQL built from input")
    sqli = sqli.model_copy(update={"location": Location(path="app/db.py", start_line=41,
                                                         end_line=42)})
    salt = dependency("salt", "PYSEC-2020-1", aliases=("CVE-2020-11651", "GHSA-abcd-efgh-ijkl"),
                      fix_versions=("2019.2.4", "3000.2"), remediation_target="3000.2",
                      cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    return [sqli, salt]


def test_recording_keeps_the_evidence_and_a_later_run_refreshes_it(engine: Engine) -> None:
    record_verdict_in(engine, verdict(findings(), run_id="e1"))
    changed = [f.model_copy(update={"message": "new advice"}) for f in findings()]
    record_verdict_in(engine, verdict(changed, run_id="e2", at=T0 + timedelta(days=1)))

    with Session(engine) as session:
        entries = {e.rule_id: e for e in queries.list_entries(session, status="all")[0]}
    sqli, salt = entries["rule.sqli"], entries["PYSEC-2020-1"]
    assert (sqli.snippet, sqli.start_line, sqli.end_line) == (SNIPPET, 41, 42)
    assert sqli.cwe == ["CWE-89: SQL Injection"] and sqli.owasp == ["A03:2021 - Injection"]
    assert sqli.help_url == "https://example.org/rules/sqli" and sqli.message == "new advice"
    assert salt.remediation_target == "3000.2" and salt.cvss_vector.startswith("CVSS:3.1/")
    assert evidence.snippet_lines(sqli) == [(41, "cursor.execute("),
                                            (42, "    'SELECT * FROM t WHERE id=' + user_id)")]
    assert [link.url for link in evidence.identifiers(salt)] == [
        "https://osv.dev/vulnerability/PYSEC-2020-1",
        "https://nvd.nist.gov/vuln/detail/CVE-2020-11651",
        "https://github.com/advisories/GHSA-abcd-efgh-ijkl"]
    assert evidence.cwe_link(sqli.cwe[0]).url == "https://cwe.mitre.org/data/definitions/89.html"
    assert evidence.owasp_link("A03:2021 - Injection").url == (
        "https://owasp.org/Top10/A03_2021-Injection/")
    assert evidence.fix_advice(salt) == (
        "Upgrade salt from 1.0 to 3000.2 or later in requirements.txt.")


def test_show_orders_the_evidence_and_list_json_has_the_advisory(
    engine: Engine, database_url: str
) -> None:
    record_verdict_in(engine, verdict(findings(), run_id="e1"))
    runner = CliRunner()

    listed = runner.invoke(cli, ["register", "list", "--json", "--kind", "dependency",
                                 "--database", database_url])
    table = runner.invoke(cli, ["register", "list", "--advisory", "CVE-2020-11651",
                                "--database", database_url])
    payload = json.loads(listed.output)
    salt_id = payload["items"][0]["id"]
    shown = runner.invoke(cli, ["register", "show", str(salt_id), "--database", database_url])

    assert listed.exit_code == 0 and payload["total"] == 1
    assert payload["items"][0]["aliases"] == ["CVE-2020-11651", "GHSA-abcd-efgh-ijkl"]
    assert payload["items"][0]["remediation_target"] == "3000.2"
    assert "1 of 1 entries" in table.output and "advisory" in table.output
    order = ["title", "status", "deadline", "score", "advisory", "fixed in", "manifest",
             "fix advice", "first seen", "last seen"]
    positions = [shown.output.index(f"│ {name}") for name in order]
    assert positions == sorted(positions), shown.output
    assert "run e1" in shown.output and "Upgrade salt from 1.0 to 3000.2" in shown.output
