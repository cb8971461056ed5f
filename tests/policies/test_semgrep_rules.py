"""riskgate's own semgrep rule pack: every rule is well-formed, documented and tested.

`semgrep --test` runs each `<theme>.yml` against its `<theme>.py`, whose `# ruleid:` lines
must be reported and `# ok:` lines must not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.config import bundled_semgrep_rules
from gate.scanners.semgrep import semgrep_env

RULES_DIR = bundled_semgrep_rules()
MIN_RULES = 25
SEVERITIES = {"ERROR", "WARNING", "INFO"}
RISKGATE_SEVERITIES = {"critical", "high", "medium", "low"}
CONFIDENCES = {"HIGH", "MEDIUM", "LOW"}
RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
CWE = re.compile(r"^CWE-\d+: \S")
OWASP = re.compile(r"^A\d\d:20\d\d - \S")


def _rules() -> list[tuple[Path, dict[str, Any]]]:
    found: list[tuple[Path, dict[str, Any]]] = []
    for file in sorted(RULES_DIR.glob("*.yml")):
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
        found.extend((file, rule) for rule in document["rules"])
    return found


RULES = _rules()


def test_the_pack_has_enough_rules_with_unique_ids() -> None:
    ids = [rule["id"] for _, rule in RULES]
    assert len(ids) >= MIN_RULES
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("file", "rule"), RULES, ids=[rule["id"] for _, rule in RULES])
def test_rule_is_documented(file: Path, rule: dict[str, Any]) -> None:
    assert RULE_ID.match(rule["id"]), "rule ids are short kebab-case"
    if rule["languages"] != ["python"]:
        assert rule["languages"] == ["regex"], "template rules read text"
        assert rule["paths"]["include"], "text rules say which files they read"
    assert rule["severity"] in SEVERITIES
    assert len(rule["message"].strip()) > 20
    metadata = rule["metadata"]
    assert metadata["cwe"] and all(CWE.match(c) for c in metadata["cwe"])
    assert metadata["owasp"] and all(OWASP.match(o) for o in metadata["owasp"])
    assert metadata["riskgate-severity"] in RISKGATE_SEVERITIES
    assert metadata["confidence"] in CONFIDENCES
    assert metadata["category"] == "security"
    assert metadata["references"] and all(r.startswith("https://") for r in metadata["references"])


@pytest.mark.parametrize(("file", "rule"), RULES, ids=[rule["id"] for _, rule in RULES])
def test_rule_has_positive_and_negative_test_cases(file: Path, rule: dict[str, Any]) -> None:
    target = next(p for p in sorted(file.parent.glob(f"{file.stem}.*")) if p.suffix != ".yml")
    cases = target.read_text(encoding="utf-8")
    annotations = re.findall(
        r"(?:#|<!--)\s*(ruleid|ok):\s*([\w.,\s-]+?)\s*(?:-->)?\s*$", cases, re.MULTILINE
    )
    kinds = {kind for kind, ids in annotations if rule["id"] in re.split(r"[,\s]+", ids)}
    assert kinds == {"ruleid", "ok"}


@pytest.mark.semgrep
def test_semgrep_test_passes_for_every_rule(semgrep_bin: str, tmp_path: Path) -> None:
    argv = [semgrep_bin, "--test", "--json", "--metrics=off", "--disable-version-check", "-j1",
            str(RULES_DIR)]
    env = {**os.environ, **semgrep_env(tmp_path)}
    done = subprocess.run(argv, env=env, capture_output=True, timeout=600, check=False)
    report = json.loads(done.stdout)
    checks = {rule_id: check for file in report["results"].values()
              for rule_id, check in file["checks"].items()}
    failed = {rule_id: check["matches"] for rule_id, check in checks.items() if not check["passed"]}
    assert failed == {}
    assert set(checks) == {rule["id"] for _, rule in RULES}
    assert report["config_with_errors"] == [] and report["config_missing_tests"] == []
    assert done.returncode == 0


# A command-line module with the calls the taint rules' sinks name (open, re.*, execute,
# subprocess), a class that keeps its **kwargs as self.kwargs (as Django views do), and none of
# the words their sources name (request, route, a web framework).
PLAIN_MODULE = '''"""Count matches of a pattern in a file and store the count."""
import re
import sqlite3
import subprocess


def count(path: str, pattern: str, name: str) -> int:
    with open(path) as handle:
        found = re.findall(pattern, handle.read())
    sqlite3.connect("counts.db").execute("INSERT INTO c VALUES ('%s', ?)" % name, [len(found)])
    subprocess.run(["sync"], check=True)
    return len(found)


class Options:
    def __init__(self, **kwargs: str) -> None:
        self.kwargs = kwargs

    def matcher(self) -> re.Pattern[str]:
        return re.compile(self.kwargs["pattern"])
'''


def taint_rules_run_on(source: str, semgrep_bin: str, tmp_path: Path) -> tuple[set[str], set[str]]:
    """(rules semgrep ran, rules that reported) for taint.yml on one module of `source`."""
    target = tmp_path / "tool"
    target.mkdir(parents=True)
    (target / "module.py").write_text(source, encoding="utf-8")
    argv = [semgrep_bin, "scan", "--json", "--time", "--metrics=off", "--disable-version-check",
            "-j1", "--config", str(RULES_DIR / "taint.yml"), "-o", str(tmp_path / "out.json"),
            str(target)]
    done = subprocess.run(argv, env={**os.environ, **semgrep_env(tmp_path)},
                          capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-500:]
    report = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    timing = report["time"]
    rule_ids = [rule if isinstance(rule, str) else rule["id"] for rule in timing["rules"]]
    (only_target,) = timing["targets"]
    ran = {rule_ids[i].rsplit(".", 1)[-1] for i, spent in enumerate(only_target["match_times"])
           if spent > 0}
    reported = {result["check_id"].rsplit(".", 1)[-1] for result in report["results"]}
    return ran, reported


@pytest.mark.semgrep
def test_taint_rules_skip_a_module_without_web_code(semgrep_bin: str, tmp_path: Path) -> None:
    """Every taint source names a word semgrep's file filter can use: a module without web code
    runs none of the request-input rules (a source any file could match ran them on every file
    and made the pack twice as slow). SQL formatted into a query still counts there: the part of
    python-sql-injection that needs no request source runs."""
    ran, _ = taint_rules_run_on(PLAIN_MODULE, semgrep_bin, tmp_path)
    assert ran == {"python-sql-injection-formatted"}


# An HTTP client's helper: its "request" is an outgoing request object, not a client's input.
CLIENT_MODULE = '''"""Replay recorded requests."""
import requests


def replay(request):
    return requests.get(request.args["url"], timeout=5)
'''


@pytest.mark.semgrep
def test_a_request_object_is_input_only_in_a_module_of_a_web_framework(
    semgrep_bin: str, tmp_path: Path
) -> None:
    """`request.args` is a client's input where a web framework is imported; elsewhere the word
    request (HTTP clients, libraries) ran every taint rule, and reported their own requests."""
    ran, reported = taint_rules_run_on(CLIENT_MODULE, semgrep_bin, tmp_path / "client")
    assert reported == set() and "python-ssrf-requests" not in ran
    flask_app = CLIENT_MODULE.replace("import requests", "import requests\nimport flask")
    _, reported = taint_rules_run_on(flask_app, semgrep_bin, tmp_path / "app")
    assert reported == {"python-ssrf-requests"}


# Not Django: a function whose first parameter is named request, and a dict named response.
REQUEST_NAMED_HELPER = '''"""Cache replies of an RPC client."""
import json


def remember(request, cache):
    response = make_response(request.body)
    response["key"] = request.args["key"]
    cache.put(json.dumps(response))


def make_response(body):
    return {"body": body}
'''


@pytest.mark.semgrep
def test_response_item_assignment_is_a_header_sink_only_in_django_code(
    semgrep_bin: str, tmp_path: Path
) -> None:
    """`response[name] = value` sets a header only on Django's responses: outside a module that
    imports Django or DRF it is no header injection, and the rule does not even run there."""
    ran, reported = taint_rules_run_on(REQUEST_NAMED_HELPER, semgrep_bin, tmp_path)
    assert "python-header-injection" not in reported
    assert "python-header-injection" not in ran


# Python 2 code (django.nV, older labs): semgrep parses it with its Python 2 grammar, where
# True and False are names, not literals; rules written with the literals matched nothing.
PYTHON2_MODULE = '''import subprocess

import jinja2
import jwt
import requests
from flask import Flask
from lxml import etree

app = Flask(__name__)
DEBUG = True
SESSION_COOKIE_SECURE = False


def lookup(domain, token):
    print "looking up", domain
    claims = jwt.decode(token, verify=False)
    requests.get("https://%s/" % domain, verify=False)
    jinja2.Environment(autoescape=False)
    return subprocess.check_output("nslookup " + domain, shell=True), claims


app.run(debug=True)


def safe_parts():
    print "safe"
    return etree.XMLParser(resolve_entities=False), jinja2.Environment(autoescape=True)
'''


@pytest.mark.semgrep
def test_flag_rules_see_python2_code(semgrep_bin: str, tmp_path: Path) -> None:
    (tmp_path / "legacy.py").write_text(PYTHON2_MODULE, encoding="utf-8")
    argv = [semgrep_bin, "scan", "--json", "--metrics=off", "--disable-version-check", "-j1",
            "--config", str(RULES_DIR), "-o", str(tmp_path / "out.json"),
            str(tmp_path / "legacy.py")]
    done = subprocess.run(argv, env={**os.environ, **semgrep_env(tmp_path)},
                          capture_output=True, timeout=600, check=False)
    assert done.returncode in (0, 1), done.stderr.decode(errors="replace")[-500:]
    results = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["results"]
    found = {(r["check_id"].rsplit(".", 1)[-1], r["start"]["line"]) for r in results}
    assert {
        ("python-django-debug-true", 10),
        ("python-insecure-cookie-setting", 11),
        ("python-jwt-signature-not-verified", 16),
        ("python-tls-verify-disabled", 17),
        ("python-jinja2-autoescape-false", 18),
        ("python-subprocess-shell-injection", 19),
        ("python-flask-debug-enabled", 22),
    } <= found
    # Line 27: XMLParser(resolve_entities=False) and Environment(autoescape=True) are safe.
    assert not {rule for rule, line in found if line == 27}
