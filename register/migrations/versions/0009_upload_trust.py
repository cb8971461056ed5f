"""Uploads are not trusted for settings or for other projects.

`project.context` holds the register's own risk context of a project (SLA days, criticality,
acceptance limit, KEV SLA, money), set by an admin or by recording straight into the database;
an upload through the service is scored with it and never changes it. NULL on older rows: the
context is then read from the project's columns. `api_token.projects` lists the projects an
uploader token may post runs for (NULL: any project, as before).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this change."""
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("context", sa.JSON(), nullable=True))
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("projects", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this change."""
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("projects")
    with op.batch_alter_table("project") as batch:
        batch.drop_column("context")
