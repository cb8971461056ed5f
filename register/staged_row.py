"""The row recording stages for each finding, and where each value sits in it.

A row is a list: the values of `COLUMNS` (risk_entry's columns, in this order), then the
row's staging sequence, its change (opened, reopened, seen, replaced) and its entry's id.
Lists, because building and encoding 100k dicts cost a second.
"""

from __future__ import annotations

from typing import Any

COLUMNS = (
    "project_id", "fingerprint", "kind", "scanner", "rule_id", "aliases", "title", "severity",
    "cvss_score", "path", "start_line", "package", "version", "manifest", "fix_versions",
    "known_exploited", "kev_due_date", "epss", "epss_percentile", "confidence", "action",
    "status", "probability", "impact", "score", "band", "probability_reason", "impact_reason",
    "owner", "sla_days", "due_date", "accepted_until", "first_seen", "last_seen", "fixed_at",
    "reopened_count", "branch", "last_run_id", "annual_loss_low", "annual_loss_high", "message",
    "snippet", "end_line", "cwe", "owasp", "help_url", "cvss_vector", "remediation_target",
    "scope",
)
AT = {name: index for index, name in enumerate(COLUMNS)}
SEQ_AT, CHANGE_AT, ENTRY_AT = len(COLUMNS), len(COLUMNS) + 1, len(COLUMNS) + 2
FINGERPRINT, OWNER, STATUS, DUE = AT["fingerprint"], AT["owner"], AT["status"], AT["due_date"]
ACCEPTED, FIRST, LAST = AT["accepted_until"], AT["first_seen"], AT["last_seen"]
FIXED, REOPENED = AT["fixed_at"], AT["reopened_count"]
BRANCH, LAST_RUN = AT["branch"], AT["last_run_id"]
Row = list[Any]
