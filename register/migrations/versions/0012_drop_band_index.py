"""Drop the index on the entries' band: no query reads entries by band alone.

The pages and the API filter and sort entries by status, score, owner, severity and more
(`register.filters`, `register.queries`), never by band; the band's counts come from
`risk_summary`. The index was still written for every recorded finding: about a quarter of a
second of a 100k-finding recording on PostgreSQL (EXPLAIN of every list and count on both
databases used it in no plan).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this change."""
    op.drop_index("ix_risk_entry_band", table_name="risk_entry")


def downgrade() -> None:
    """Revert this change."""
    op.create_index("ix_risk_entry_band", "risk_entry", ["band"])
