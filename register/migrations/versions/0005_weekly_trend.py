"""Weekly trend snapshots: open and accepted risks, overdue and expected loss, per band.

`risk_trend` holds one row per (project, week, band). Recording a run replaces its project's
rows of the run's week with the state after the run (read from `risk_summary`), so the trend
page reads a few hundred rows whatever the register's size. History starts with the first
run recorded after this revision. `risk_owner_summary` holds each project's active risks per
owner as of its last recorded run or triage change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this change."""
    op.create_table(
        "risk_trend",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("priced", sa.Integer(), nullable=False),
        sa.Column("loss_low", sa.Float(), nullable=False),
        sa.Column("loss_high", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "week", "band", name="pk_risk_trend"),
    )
    op.create_index("ix_risk_trend_week", "risk_trend", ["week"])
    op.create_table(
        "risk_owner_summary",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("severe", sa.Integer(), nullable=False),
        sa.Column("earliest_due", sa.Date(), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "owner", name="pk_risk_owner_summary"),
    )


def downgrade() -> None:
    """Revert this change."""
    op.drop_table("risk_owner_summary")
    op.drop_index("ix_risk_trend_week", table_name="risk_trend")
    op.drop_table("risk_trend")
