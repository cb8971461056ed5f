"""Server-side login sessions: logging out ends the session, not just the browser's cookie.

The session cookie carries a random secret; `login_session` holds its SHA-256, the token it
signs in as, and when it ended (NULL while signed in).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this change."""
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_index("ix_login_session_token_id", "login_session", ["token_id"])


def downgrade() -> None:
    """Revert this change."""
    op.drop_index("ix_login_session_token_id", table_name="login_session")
    op.drop_table("login_session")
