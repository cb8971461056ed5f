"""An index for the remediation plan and loss by exposure: active entries by component.

The overview groups the active dependency entries by (project, package, version). Without an
index that starts with the kind, every page view read all entries (most are code findings):
about 2 s of SQL at a million entries on PostgreSQL.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = ["kind", "status", "project_id", "package", "version"]


def upgrade() -> None:
    """Apply this change."""
    op.create_index("ix_risk_entry_component", "risk_entry", COLUMNS)


def downgrade() -> None:
    """Revert this change."""
    op.drop_index("ix_risk_entry_component", table_name="risk_entry")
