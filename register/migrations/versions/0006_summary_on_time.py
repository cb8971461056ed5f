"""SLA compliance from the summary: `risk_summary.on_time` counts entries fixed by their deadline.

The overview showed "fixed within SLA" by scanning every fixed entry on each request (most of
its SQL time at a million entries). The summary's key already holds status and due date; this
adds, per key, how many fixed entries were fixed on or before their due date, kept exact by the
same triggers (redefined here with the new column) in the same transaction as every write.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEY = ("project_id", "status", "probability", "impact", "band", "due_date")
_KEY = ", ".join(KEY)
TRIGGERS = ("risk_summary_insert", "risk_summary_update", "risk_summary_delete")
# The SQL of "fixed by its deadline" in each dialect (fixed_at is a timestamp, due_date a date).
_FIXED_ON_TIME = {
    "postgresql": "({row}status = 'fixed' AND CAST({row}fixed_at AS DATE) <= {row}due_date)",
    "sqlite": "({row}status = 'fixed' AND date({row}fixed_at) <= {row}due_date)",
}


def fixed_on_time(dialect: str, row: str = "") -> str:
    """The condition for `row` (a table alias with its dot, or nothing) in `dialect`."""
    return _FIXED_ON_TIME[dialect].format(row=row)


def _aggregates(dialect: str, sign: str) -> str:
    on_time = fixed_on_time(dialect)
    return (
        f"{sign}count(*) AS entries, {sign}count(annual_loss_low) AS priced,"
        f" {sign}coalesce(sum(annual_loss_low), 0) AS loss_low,"
        f" {sign}coalesce(sum(annual_loss_high), 0) AS loss_high,"
        f" {sign}count(*) FILTER (WHERE {on_time}) AS on_time"
    )


def _pg_function() -> str:
    # Only the fixed column names above and fixed SQL text are interpolated.
    plus = f"SELECT {_KEY}, {_aggregates('postgresql', '')} FROM new_rows GROUP BY {_KEY}"  # noqa: S608
    minus = f"SELECT {_KEY}, {_aggregates('postgresql', '-')} FROM old_rows GROUP BY {_KEY}"  # noqa: S608
    upsert = f"""
INSERT INTO risk_summary AS s ({_KEY}, entries, priced, loss_low, loss_high, on_time)
SELECT {_KEY}, sum(entries), sum(priced), sum(loss_low), sum(loss_high), sum(on_time)
FROM ({{rows}}) AS delta GROUP BY {_KEY}
HAVING sum(entries) <> 0 OR sum(loss_low) <> 0 OR sum(loss_high) <> 0 OR sum(on_time) <> 0
ORDER BY {_KEY}
ON CONFLICT ({_KEY}) DO UPDATE SET
  entries = s.entries + excluded.entries, priced = s.priced + excluded.priced,
  loss_low = s.loss_low + excluded.loss_low, loss_high = s.loss_high + excluded.loss_high,
  on_time = s.on_time + excluded.on_time;
"""  # noqa: S608 - fixed SQL text
    prune = (
        "DELETE FROM risk_summary WHERE entries = 0"
        " AND project_id IN (SELECT project_id FROM old_rows);"
    )
    return f"""
CREATE OR REPLACE FUNCTION risk_summary_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {upsert.format(rows=plus)}
  ELSIF TG_OP = 'DELETE' THEN
    {upsert.format(rows=minus)}
    {prune}
  ELSE
    {upsert.format(rows=plus + " UNION ALL " + minus)}
    {prune}
  END IF;
  RETURN NULL;
END $$
"""


def _sqlite_add(row: str, sign: str) -> str:
    values = ", ".join(f"{row}.{column}" for column in KEY)
    on_time = fixed_on_time("sqlite", f"{row}.")
    return f"""
  INSERT INTO risk_summary ({_KEY}, entries, priced, loss_low, loss_high, on_time)
  VALUES ({values}, {sign}1, {sign}({row}.annual_loss_low IS NOT NULL),
          {sign}coalesce({row}.annual_loss_low, 0), {sign}coalesce({row}.annual_loss_high, 0),
          {sign}coalesce({on_time}, 0))
  ON CONFLICT ({_KEY}) DO UPDATE SET
    entries = entries + excluded.entries, priced = priced + excluded.priced,
    loss_low = loss_low + excluded.loss_low, loss_high = loss_high + excluded.loss_high,
    on_time = on_time + excluded.on_time;"""  # noqa: S608


def _sqlite_triggers() -> tuple[str, ...]:
    match = " AND ".join(f"{column} = OLD.{column}" for column in KEY)
    prune = f"\n  DELETE FROM risk_summary WHERE entries = 0 AND {match};"  # noqa: S608
    tracked = (*KEY, "annual_loss_low", "annual_loss_high", "fixed_at")
    changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in tracked)
    return (
        f"CREATE TRIGGER risk_summary_insert AFTER INSERT ON risk_entry BEGIN"
        f"{_sqlite_add('NEW', '+')}\nEND",
        f"CREATE TRIGGER risk_summary_update AFTER UPDATE OF {', '.join(tracked)} ON risk_entry"
        f" WHEN {changed} BEGIN{_sqlite_add('OLD', '-')}{prune}{_sqlite_add('NEW', '+')}\nEND",
        f"CREATE TRIGGER risk_summary_delete AFTER DELETE ON risk_entry BEGIN"
        f"{_sqlite_add('OLD', '-')}{prune}\nEND",
    )


def _drop_sqlite_triggers() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")


def upgrade() -> None:
    """Apply this change: the column, its backfill and the triggers that keep it."""
    dialect = op.get_bind().dialect.name
    op.add_column(
        "risk_summary", sa.Column("on_time", sa.Integer(), nullable=False, server_default="0")
    )
    if dialect == "postgresql":
        op.execute("LOCK TABLE risk_entry IN SHARE MODE")
        op.execute(_pg_function())
    else:
        _drop_sqlite_triggers()
        for trigger in _sqlite_triggers():
            op.execute(trigger)
    # Every row of the summary is a key of risk_entry; count its on-time fixes.
    match = " AND ".join(f"e.{column} = risk_summary.{column}" for column in KEY)
    on_time = fixed_on_time(dialect, "e.")
    op.execute(
        f"UPDATE risk_summary SET on_time = (SELECT count(*) FROM risk_entry AS e"  # noqa: S608
        f" WHERE {match} AND {on_time}) WHERE status = 'fixed'"
    )


def downgrade() -> None:
    """Revert this change: 0002's triggers and function, without the column."""
    dialect = op.get_bind().dialect.name
    previous = importlib.import_module("register.migrations.versions.0002_read_path_summary")
    if dialect == "postgresql":
        op.execute(previous.PG_FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    else:
        _drop_sqlite_triggers()
        for trigger in previous.SQLITE_TRIGGERS:
            op.execute(trigger)
    op.execute("ALTER TABLE risk_summary DROP COLUMN on_time")
