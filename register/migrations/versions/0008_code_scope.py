"""Stable identity of code findings: the function or class around each code entry.

An in-place edit changes a code finding's exact fingerprint; the register then keeps the
entry whose rule, file and scope match and whose code is similar (`register.identity`).
Nullable: entries recorded before this revision get it on their next sighting.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this change."""
    # Plain ALTER TABLE (no batch copy of the table, which would drop 0002's triggers).
    op.add_column("risk_entry", sa.Column("scope", sa.String(500), nullable=True))


def downgrade() -> None:
    """Revert this change."""
    op.drop_column("risk_entry", "scope")  # SQLite 3.35+ drops a column in place
