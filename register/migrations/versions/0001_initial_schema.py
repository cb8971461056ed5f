"""Initial schema: projects, scan runs, risk entries, acceptances, events, API tokens.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this change."""
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("repository", sa.String(), nullable=True),
        sa.Column("business_criticality", sa.String(20), nullable=False),
        sa.Column("data_classification", sa.String(20), nullable=False),
        sa.Column("default_owner", sa.String(), nullable=True),
        sa.Column("acceptance_max_days", sa.Integer(), nullable=False),
        sa.Column("sla_days", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(10), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "risk_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("scanner", sa.String(100), nullable=False),
        sa.Column("rule_id", sa.String(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column("path", sa.String(), nullable=True),
        sa.Column("start_line", sa.Integer(), nullable=True),
        sa.Column("package", sa.String(), nullable=True),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("manifest", sa.String(), nullable=True),
        sa.Column("fix_versions", sa.JSON(), nullable=False),
        sa.Column("known_exploited", sa.Boolean(), nullable=False),
        sa.Column("kev_due_date", sa.Date(), nullable=True),
        sa.Column("epss", sa.Float(), nullable=True),
        sa.Column("epss_percentile", sa.Float(), nullable=True),
        sa.Column("confidence", sa.String(20), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("probability_reason", sa.String(), nullable=False),
        sa.Column("impact_reason", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("sla_days", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("accepted_until", sa.Date(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("fixed_at", sa.DateTime(), nullable=True),
        sa.Column("reopened_count", sa.Integer(), nullable=False),
        sa.Column("branch", sa.String(), nullable=True),
        sa.Column("last_run_id", sa.String(100), nullable=False),
        sa.Column("annual_loss_low", sa.Float(), nullable=True),
        sa.Column("annual_loss_high", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "fingerprint", name="uq_risk_entry_project_fingerprint"),
    )
    with op.batch_alter_table("risk_entry", schema=None) as batch_op:
        batch_op.create_index("ix_risk_entry_band", ["band"], unique=False)
        batch_op.create_index("ix_risk_entry_owner", ["owner"], unique=False)
        batch_op.create_index(
            "ix_risk_entry_project_status", ["project_id", "status"], unique=False
        )
        batch_op.create_index("ix_risk_entry_score", ["score"], unique=False)
        batch_op.create_index("ix_risk_entry_severity", ["severity"], unique=False)
        batch_op.create_index("ix_risk_entry_status_due", ["status", "due_date"], unique=False)

    op.create_table(
        "scan_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(100), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("commit", sa.String(100), nullable=True),
        sa.Column("branch", sa.String(), nullable=True),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("policy_name", sa.String(), nullable=True),
        sa.Column("policy_digest", sa.String(200), nullable=True),
        sa.Column("scanner_versions", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("finding_count", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id"),
    )
    with op.batch_alter_table("scan_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scan_run_project_started", ["project_id", "started_at"], unique=False
        )

    op.create_table(
        "risk_acceptance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("justification", sa.String(), nullable=False),
        sa.Column("approver", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["risk_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("risk_acceptance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_acceptance_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "risk_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(100), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["risk_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("risk_event", schema=None) as batch_op:
        batch_op.create_index("ix_risk_event_entry_at", ["entry_id", "at"], unique=False)


def downgrade() -> None:
    """Revert this change."""
    with op.batch_alter_table("risk_event", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_event_entry_at")

    op.drop_table("risk_event")
    with op.batch_alter_table("risk_acceptance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_acceptance_entry_id"))

    op.drop_table("risk_acceptance")
    with op.batch_alter_table("scan_run", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_run_project_started")

    op.drop_table("scan_run")
    with op.batch_alter_table("risk_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_entry_status_due")
        batch_op.drop_index("ix_risk_entry_severity")
        batch_op.drop_index("ix_risk_entry_score")
        batch_op.drop_index("ix_risk_entry_project_status")
        batch_op.drop_index("ix_risk_entry_owner")
        batch_op.drop_index("ix_risk_entry_band")

    op.drop_table("risk_entry")
    op.drop_table("project")
    op.drop_table("api_token")
