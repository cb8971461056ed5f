"""What riskgate's own semgrep rule pack holds, as the README's rule table.

The table is generated from the rules themselves, so it cannot drift: each rule's id, its
class (from its first CWE), the frameworks its patterns name (or its `frameworks` metadata,
for rules written against generic method names), its CWEs and its severity.

    python -m gate.rule_pack README.md     # rewrite the table between its markers
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gate.config import bundled_semgrep_rules
from gate.scanners.semgrep import PART_OF

BEGIN, END = "<!-- rule-table:begin -->", "<!-- rule-table:end -->"
FRAMEWORKS = {
    "Flask": r"\b(flask|flask_wtf|werkzeug)\.",
    "Django": r"\bdjango\.",
    "FastAPI/Starlette": r"\b(fastapi|starlette)\.",
    "aiohttp": r"\baiohttp(_jinja2|_debugtoolbar|_session|_cors)?\.",
    "Tornado": r"\btornado\.",
    "Jinja2": r"\b(jinja2|markupsafe)\.",
}
# Every taint rule reads the shared sources: these web frameworks, http.server handlers and
# GraphQL resolvers (graphene, strawberry, ariadne).
WEB_SOURCES = (
    "Flask", "Django", "FastAPI/Starlette", "aiohttp", "Tornado", "http.server", "GraphQL",
)
CLASSES = {
    "CWE-20": "host header", "CWE-22": "path traversal", "CWE-78": "command injection",
    "CWE-79": "XSS", "CWE-89": "SQL injection", "CWE-94": "code injection",
    "CWE-95": "code injection", "CWE-259": "secrets", "CWE-295": "TLS", "CWE-297": "TLS",
    "CWE-321": "secrets", "CWE-326": "weak crypto", "CWE-327": "weak crypto",
    "CWE-328": "weak crypto", "CWE-338": "weak randomness", "CWE-347": "JWT",
    "CWE-352": "CSRF", "CWE-377": "temporary files", "CWE-489": "debug mode",
    "CWE-502": "deserialisation", "CWE-601": "open redirect", "CWE-611": "XXE",
    "CWE-614": "cookies", "CWE-617": "access control", "CWE-732": "permissions",
    "CWE-798": "secrets", "CWE-918": "SSRF", "CWE-1327": "exposure",
    "CWE-1336": "template injection", "CWE-1333": "ReDoS", "CWE-942": "CORS",
    "CWE-916": "weak password hash", "CWE-322": "SSH host keys", "CWE-319": "cleartext",
    "CWE-565": "cookies", "CWE-532": "secrets in logs", "CWE-113": "header injection",
    "CWE-643": "XPath injection",
}


@dataclass(frozen=True)
class RuleRow:
    """One rule as the README lists it."""

    rule_id: str
    rule_class: str
    frameworks: str
    cwe: str
    severity: str


def load_rules(rules_dir: Path | None = None) -> list[dict[str, Any]]:
    """Every rule of the pack that findings are reported under, file by file in name order.

    A semgrep rule that is a part of another (`riskgate-part-of`) is listed as that rule.
    """
    rules: list[dict[str, Any]] = []
    for file in sorted((rules_dir or bundled_semgrep_rules()).glob("*.yml")):
        rules.extend(rule for rule in yaml.safe_load(file.read_text(encoding="utf-8"))["rules"]
                     if PART_OF not in rule.get("metadata", {}))
    return rules


def row(rule: dict[str, Any]) -> RuleRow:
    """The README row of one rule."""
    metadata = rule["metadata"]
    cwes = [cwe.split(":", 1)[0] for cwe in metadata["cwe"]]
    named = metadata.get("frameworks")
    if named is None:
        patterns = json.dumps({k: v for k, v in rule.items() if k not in ("message", "metadata")})
        named = [name for name, regex in FRAMEWORKS.items() if re.search(regex, patterns)]
        if rule.get("mode") == "taint":  # every taint rule reads the shared web sources
            named = [*WEB_SOURCES, *(n for n in named if n not in WEB_SOURCES)]
        if rule["languages"] == ["regex"]:
            named = ["Jinja2/Django templates"]
    return RuleRow(
        rule_id=rule["id"],
        rule_class=CLASSES.get(cwes[0], metadata["cwe"][0].split(": ", 1)[1]),
        frameworks=", ".join(named) or "any",
        cwe=", ".join(cwes),
        severity=metadata["riskgate-severity"],
    )


def render(rows: list[RuleRow]) -> str:
    """The markdown table, sorted by class then rule id."""
    lines = ["| rule | class | frameworks | CWE | severity |", "|---|---|---|---|---|"]
    lines += [f"| `{r.rule_id}` | {r.rule_class} | {r.frameworks} | {r.cwe} | {r.severity} |"
              for r in sorted(rows, key=lambda r: (r.rule_class.lower(), r.rule_id))]
    return "\n".join(lines)


def with_table(text: str, table: str) -> str:
    """`text` with the part between the table markers replaced by `table`."""
    head, begin, rest = text.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the markers {BEGIN} and {END} are missing")
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite the rule table of the markdown file named in `argv`."""
    if len(argv) != 1:
        print("usage: python -m gate.rule_pack README.md", file=sys.stderr)
        return 3
    path = Path(argv[0])
    try:
        text = with_table(path.read_text(encoding="utf-8"), render([row(r) for r in load_rules()]))
    except (OSError, ValueError) as exc:
        print(f"gate.rule_pack: {path}: {exc}", file=sys.stderr)
        return 3
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
