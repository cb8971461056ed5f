"""SQLite: partial expression indexes for time to patch (what 0002 gave PostgreSQL).

MTTP read every fixed entry several times on SQLite (531 ms at 100k findings). These indexes
cover the fixed entries by (severity, month of the fix) with time to patch and the SLA test,
so the MTTP cells are one index-only scan, and order each severity's and month's fixes by
time to patch, so a median is an OFFSET into the index. The expressions are spelled as
`register.patch_time` spells them; SQLite matches an index expression only when they agree.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MONTH = "strftime('%Y-%m', fixed_at)"
TO_PATCH = "julianday(fixed_at) - julianday(first_seen)"
INDEXES = {
    "ix_risk_entry_fixed_cells": f"severity, {MONTH}, {TO_PATCH}, date(fixed_at) <= due_date,"
    " project_id",
    "ix_risk_entry_fixed_severity_ttp": f"severity, {TO_PATCH}, project_id",
    "ix_risk_entry_fixed_month_ttp": f"{MONTH}, {TO_PATCH}, project_id",
}


def upgrade() -> None:
    """Apply this change (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON risk_entry ({columns}) WHERE status = 'fixed'")


def downgrade() -> None:
    """Revert this change (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
