"""Evidence on register entries: what the verdict says about a finding, kept for its page.

The scanner's message, the matched snippet and its last line, CWE and OWASP categories, the
advisory or rule link, the CVSS vector and the remediation target (the smallest safe version).
All nullable: entries recorded before this revision get them on their next sighting.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("message", sa.Text()),
    ("snippet", sa.Text()),
    ("end_line", sa.Integer()),
    ("cwe", sa.JSON()),
    ("owasp", sa.JSON()),
    ("help_url", sa.Text()),
    ("cvss_vector", sa.String(200)),
    ("remediation_target", sa.String(200)),
)


def upgrade() -> None:
    """Apply this change."""
    # Plain ALTER TABLE (no batch copy of the table, which would drop 0002's triggers).
    for name, kind in COLUMNS:
        op.add_column("risk_entry", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    """Revert this change."""
    for name, _ in reversed(COLUMNS):
        op.drop_column("risk_entry", name)  # SQLite 3.35+ drops a column in place
