"""Read paths at scale: a per-project summary kept by triggers, and indexes for the pages.

`risk_summary` counts entries by (project, status, probability, impact, band, due date) with
their expected-loss sums. Triggers on `risk_entry` keep it exact in the same transaction as
every write, whichever code path writes (recording, triage, expiry, raw SQL): PostgreSQL with
statement-level triggers over transition tables (one aggregated upsert per statement),
SQLite with row-level triggers. Increments commute, so concurrent writers stay exact.

Indexes: open entries by rank (top risks, triage's first page), fixed entries (SLA and MTTP
counts) and, on PostgreSQL, fixed entries ordered by time to patch per severity and per month
(medians read from the index instead of sorting every fixed entry).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEY = ("project_id", "status", "probability", "impact", "band", "due_date")
_KEY = ", ".join(KEY)
_VALUES = (
    "count(*) AS entries, count(annual_loss_low) AS priced,"
    " coalesce(sum(annual_loss_low), 0) AS loss_low,"
    " coalesce(sum(annual_loss_high), 0) AS loss_high"
)
_UPSERT = f"""
INSERT INTO risk_summary AS s ({_KEY}, entries, priced, loss_low, loss_high)
SELECT {_KEY}, sum(entries), sum(priced), sum(loss_low), sum(loss_high)
FROM ({{rows}}) AS delta
GROUP BY {_KEY}
HAVING sum(entries) <> 0 OR sum(loss_low) <> 0 OR sum(loss_high) <> 0
ORDER BY {_KEY}
ON CONFLICT ({_KEY}) DO UPDATE SET
  entries = s.entries + excluded.entries, priced = s.priced + excluded.priced,
  loss_low = s.loss_low + excluded.loss_low, loss_high = s.loss_high + excluded.loss_high;
"""  # noqa: S608 - fixed SQL text
_PLUS = f"SELECT {_KEY}, {_VALUES} FROM new_rows GROUP BY {_KEY}"  # noqa: S608
_MINUS = (
    f"SELECT {_KEY}, -count(*) AS entries, -count(annual_loss_low) AS priced,"  # noqa: S608
    " -coalesce(sum(annual_loss_low), 0) AS loss_low,"
    f" -coalesce(sum(annual_loss_high), 0) AS loss_high FROM old_rows GROUP BY {_KEY}"
)
_PRUNE = "DELETE FROM risk_summary WHERE entries = 0 AND project_id IN (SELECT project_id FROM {})"
PG_FUNCTION = f"""
CREATE FUNCTION risk_summary_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_UPSERT.format(rows=_PLUS)}
  ELSIF TG_OP = 'DELETE' THEN
    {_UPSERT.format(rows=_MINUS)}
    {_PRUNE.format("old_rows")};
  ELSE
    {_UPSERT.format(rows=_PLUS + " UNION ALL " + _MINUS)}
    {_PRUNE.format("old_rows")};
  END IF;
  RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER risk_summary_insert AFTER INSERT ON risk_entry"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION risk_summary_apply()",
    "CREATE TRIGGER risk_summary_update AFTER UPDATE ON risk_entry"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION risk_summary_apply()",
    "CREATE TRIGGER risk_summary_delete AFTER DELETE ON risk_entry"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION risk_summary_apply()",
)


def _sqlite_add(row: str, sign: str) -> str:
    values = ", ".join(f"{row}.{column}" for column in KEY)
    return f"""
  INSERT INTO risk_summary ({_KEY}, entries, priced, loss_low, loss_high)
  VALUES ({values}, {sign}1, {sign}({row}.annual_loss_low IS NOT NULL),
          {sign}coalesce({row}.annual_loss_low, 0), {sign}coalesce({row}.annual_loss_high, 0))
  ON CONFLICT ({_KEY}) DO UPDATE SET
    entries = entries + excluded.entries, priced = priced + excluded.priced,
    loss_low = loss_low + excluded.loss_low, loss_high = loss_high + excluded.loss_high;"""  # noqa: S608


def _sqlite_prune(row: str) -> str:
    match = " AND ".join(f"{column} = {row}.{column}" for column in KEY)
    return f"\n  DELETE FROM risk_summary WHERE entries = 0 AND {match};"  # noqa: S608


_TRACKED = (*KEY, "annual_loss_low", "annual_loss_high")
_CHANGED = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in _TRACKED)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER risk_summary_insert AFTER INSERT ON risk_entry BEGIN"
    f"{_sqlite_add('NEW', '+')}\nEND",
    f"CREATE TRIGGER risk_summary_update AFTER UPDATE OF {', '.join(_TRACKED)} ON risk_entry"
    f" WHEN {_CHANGED} BEGIN"
    f"{_sqlite_add('OLD', '-')}{_sqlite_prune('OLD')}{_sqlite_add('NEW', '+')}\nEND",
    "CREATE TRIGGER risk_summary_delete AFTER DELETE ON risk_entry BEGIN"
    f"{_sqlite_add('OLD', '-')}{_sqlite_prune('OLD')}\nEND",
)
_BACKFILL = (
    f"INSERT INTO risk_summary ({_KEY}, entries, priced, loss_low, loss_high)"  # noqa: S608
    f" SELECT {_KEY}, {_VALUES} FROM risk_entry GROUP BY {_KEY}"
)
FIXED = sa.text("status = 'fixed'")
TIME_TO_PATCH = "(fixed_at - first_seen)"


def _create_summary() -> None:
    op.create_table(
        "risk_summary",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("project.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("priced", sa.Integer(), nullable=False),
        sa.Column("loss_low", sa.Float(), nullable=False),
        sa.Column("loss_high", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_risk_summary"),
    )
    op.create_index("ix_risk_summary_status", "risk_summary", ["status", "due_date"])


def _create_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for trigger in PG_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def _create_indexes(dialect: str) -> None:
    op.create_index(
        "ix_risk_entry_status_rank",
        "risk_entry",
        ["status", sa.text("score DESC"), "due_date", "id"],
    )
    op.create_index(
        "ix_risk_entry_fixed",
        "risk_entry",
        ["project_id", "severity", "fixed_at", "first_seen", "due_date"],
        postgresql_where=FIXED,
        sqlite_where=FIXED,
    )
    if dialect != "postgresql":
        return
    for name, group in (("severity", "severity"), ("month", "date_trunc('month', fixed_at)")):
        op.create_index(
            f"ix_risk_entry_fixed_{name}_ttp",
            "risk_entry",
            [sa.text(group), sa.text(TIME_TO_PATCH)],
            postgresql_include=["project_id", "fixed_at", "first_seen"],
            postgresql_where=FIXED,
        )


def upgrade() -> None:
    """Apply this change."""
    dialect = op.get_bind().dialect.name
    _create_summary()
    op.execute(_BACKFILL)
    _create_triggers(dialect)
    _create_indexes(dialect)


def downgrade() -> None:
    """Revert this change."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.drop_index("ix_risk_entry_fixed_month_ttp", table_name="risk_entry")
        op.drop_index("ix_risk_entry_fixed_severity_ttp", table_name="risk_entry")
    op.drop_index("ix_risk_entry_fixed", table_name="risk_entry")
    op.drop_index("ix_risk_entry_status_rank", table_name="risk_entry")
    for trigger in ("risk_summary_insert", "risk_summary_update", "risk_summary_delete"):
        suffix = " ON risk_entry" if dialect == "postgresql" else ""
        op.execute(f"DROP TRIGGER {trigger}{suffix}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION risk_summary_apply()")
    op.drop_index("ix_risk_summary_status", table_name="risk_summary")
    op.drop_table("risk_summary")
