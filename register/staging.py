"""Staging and merging: rows go into a temporary table a batch at a time, then into the register.

Each batch is loaded through the driver in bulk (SQLite `executemany`, PostgreSQL binary
`COPY`), never through per-row ORM parameter processing. New entries then go in by one
INSERT with the ids given to them here, known ones by one upsert, and opened and reopened
entries get their events. `Merger` runs each batch's statements on the worker of
`Overlapped` while the caller reads and scores the next batch.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from gate.models import Verdict
from register.identity import Continuity
from register.models import RiskEntry, RiskEvent
from register.overlap import Overlapped
from register.staged_row import (
    AT,
    CHANGE_AT,
    COLUMNS,
    ENTRY_AT,
    FINGERPRINT,
    REOPENED,
    SEQ_AT,
    Row,
)

T = TypeVar("T")
ENTRY = RiskEntry.__table__  # type: ignore[attr-defined]
EVENT = RiskEvent.__table__  # type: ignore[attr-defined]
EVENT_FIELDS = ["entry_id", "run_id", "at", "actor", "kind", "detail"]
_LOAD = "risk_entry_load"
_SEQ, _CHANGE, _ENTRY = "load_seq", "load_change", "load_entry"  # staging-only columns
# Columns a later sighting must not overwrite.
_KEEP_ON_UPDATE = frozenset({"id", "project_id", "fingerprint", "first_seen"})
_DATETIME_COLUMNS = frozenset({"first_seen", "last_seen", "fixed_at"})
_SIGHTING = ("last_seen", "last_run_id")  # what a re-run of an unchanged finding changes
Converter = Callable[[Any], Any]
_JSON_STRING: Callable[[str], str] = json.encoder.encode_basestring_ascii  # json.dumps's
# A row whose entry this run already merged from an earlier, less severe duplicate.
_REPLACED = "replaced"
_LOGGED_CHANGES = ("opened", "reopened")  # the changes that log an event


def aware(moment: datetime) -> datetime:
    """`moment` with UTC as its zone when it has none (the register stores UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def dialect_insert(connection: Connection) -> Callable[[Any], Any]:
    """The INSERT construct of the connection's dialect (for ON CONFLICT)."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


@dataclass(kw_only=True)
class Merger:
    """Merges batches of rows into the register through the staging table.

    Each batch is staged, then upserted and its opened and reopened entries logged (on the
    worker of `Overlapped`, while the next batch is read). A worse duplicate replaces its
    earlier row: dropped from its batch before staging when both are in it; otherwise the
    entry is already merged from the earlier row, and the later one updates it as a
    "replaced" change (no second event, no second reopening).
    """

    connection: Connection
    project_id: int
    verdict: Verdict
    actor: str
    # (sequence, fingerprint) of streamed rows a worse duplicate replaced; grows as the
    # stream is read
    superseded: list[tuple[int, str]]
    staged: bool = False  # the staging table exists
    handled: int = 0  # superseded rows already applied
    replaced: set[str] = field(default_factory=set)  # merged from a row since superseded
    opened_ids: dict[str, int] = field(default_factory=dict)  # fingerprint -> its new entry
    next_id: int | None = None  # SQLite: the next entry id (the transaction writes alone)

    def add(self, rows: list[Row], overlap: Overlapped) -> None:
        """Stage `rows` once the batch before is merged, and merge them on the worker."""
        rows = self._without_superseded(rows)
        if not rows:
            return
        opened = []
        for row in rows:
            if row[FINGERPRINT] in self.replaced:
                row[REOPENED] = 0  # the earlier row's merge counted the reopening
                if row[CHANGE_AT] != "seen":
                    row[CHANGE_AT] = _REPLACED
                if row[ENTRY_AT] is None:  # the entry its earlier row opened
                    row[ENTRY_AT] = self.opened_ids[row[FINGERPRINT]]
            elif row[CHANGE_AT] == "opened":
                opened.append(row)
        seen = any(row[CHANGE_AT] == "seen" for row in rows)
        overlap.wait()
        for row, entry_id in zip(opened, self._new_ids(len(opened)), strict=True):
            row[ENTRY_AT] = self.opened_ids[row[FINGERPRINT]] = entry_id
        if self.staged:
            _clear_staging(self.connection)
        else:
            _create_staging(self.connection)
            self.staged = True
        _load_rows(self.connection, rows)
        merge = functools.partial(self._merge, opened=bool(opened),
                                  known=len(opened) < len(rows), seen=seen)
        overlap.submit(merge)

    def _new_ids(self, count: int) -> Sequence[int]:
        """Ids for `count` new entries, in order: the staged rows carry them, so events and
        inserts need no lookup by fingerprint."""
        if not count:
            return []
        if self.connection.dialect.name == "postgresql":
            sequence = sa.func.pg_get_serial_sequence(ENTRY.name, "id")
            query = sa.select(sa.func.nextval(sequence)).select_from(
                sa.func.generate_series(1, count))
            return sorted(self.connection.execute(query).scalars())
        if self.next_id is None:  # SQLite gives max + 1, and no one else writes meanwhile
            top = self.connection.execute(sa.select(sa.func.max(ENTRY.c.id))).scalar()
            self.next_id = (top or 0) + 1
        first, self.next_id = self.next_id, self.next_id + count
        return range(first, first + count)

    def let_held_replace(self, edits: Continuity) -> None:
        """Remove the entries merged this run from a row whose worse duplicate is held.

        The held row may continue another entry, as when both had come in one statement;
        the entry and its event were written by this transaction, so no reader saw them.
        """
        self._without_superseded([])  # those the stream's last findings replaced
        held = sorted(fingerprint for fingerprint in self.replaced if edits.holds(fingerprint))
        if not held:
            return
        self.replaced.difference_update(held)
        for chunk in _chunks(held, 500):
            ids = sa.select(ENTRY.c.id).where(ENTRY.c.project_id == self.project_id,
                                              ENTRY.c.fingerprint.in_(chunk))
            self.connection.execute(sa.delete(EVENT).where(
                EVENT.c.entry_id.in_(ids), EVENT.c.run_id == self.verdict.run_id))
            self.connection.execute(sa.delete(ENTRY).where(ENTRY.c.id.in_(ids)))

    def _without_superseded(self, rows: list[Row]) -> list[Row]:
        """`rows` less those a worse duplicate since replaced; a replaced row of an earlier
        batch (already merged) marks its fingerprint `replaced`."""
        superseded = self.superseded[self.handled:]
        self.handled = len(self.superseded)
        if not superseded:
            return rows
        here = {row[SEQ_AT] for row in rows}
        dropped = {seq for seq, _ in superseded if seq in here}
        self.replaced.update(fingerprint for seq, fingerprint in superseded if seq not in here)
        return [row for row in rows if row[SEQ_AT] not in dropped] if dropped else rows

    def _merge(self, *, opened: bool, known: bool, seen: bool) -> None:
        if opened:
            _insert_opened(self.connection)
        if known:
            _upsert_staged(self.connection, list(COLUMNS), seen=seen)
        _insert_change_events(self.connection, self.verdict, self.actor)


def batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """`rows` in lists of `size` (the last may be shorter)."""
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def may_thread(connection: Connection) -> bool:
    """Whether the connection may be used from the merge worker: sqlite3 refuses a
    connection made in another thread unless asked not to check (SQLAlchemy's default)."""
    check = str(connection.engine.url.query.get("check_same_thread", "false")).lower()
    return connection.dialect.name != "sqlite" or check in ("false", "0", "no")


def _create_staging(connection: Connection) -> None:
    """The temporary staging table: the entry columns, then sequence, change and entry id."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_LOAD} ON COMMIT DROP AS"  # noqa: S608 - fixed names
            f" SELECT {', '.join(COLUMNS)}, 0 AS {_SEQ}, CAST('' AS varchar(20)) AS {_CHANGE},"
            f" id AS {_ENTRY} FROM risk_entry WITH NO DATA"
        )
    else:  # untyped columns: they keep the stand-ins for NULL as bound (`_SQLITE_NULLS`)
        names = ", ".join((*COLUMNS, _SEQ, _CHANGE, _ENTRY))
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {_LOAD} ({names})")


def _clear_staging(connection: Connection) -> None:
    """Empty the staging table for the next batch."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"TRUNCATE {_LOAD}")
    else:
        connection.exec_driver_sql(f"DELETE FROM {_LOAD}")  # noqa: S608 - a fixed name


def _load_rows(connection: Connection, rows: Iterable[Row]) -> None:
    """Append rows to the staging table (each row is encoded in place, then not used again)."""
    if connection.dialect.name == "postgresql":
        _pg_copy(connection, rows)
    else:
        _sqlite_executemany(connection, rows)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load_table(columns: Sequence[str]) -> sa.Table:
    """The staging table: the entry columns staged, then sequence, change and entry id."""
    return sa.Table(
        _LOAD,
        sa.MetaData(),
        *(sa.Column(key, ENTRY.c[key].type) for key in columns),
        sa.Column(_SEQ, sa.Integer),
        sa.Column(_CHANGE, sa.String(20)),
        sa.Column(_ENTRY, sa.Integer),
        prefixes=["TEMPORARY"],
    )


def _encoder(
    convert: Callable[[str], Converter | None], nulls: dict[str, Any] | None = None
) -> Callable[[Row], Row]:
    """A row → its staged values, converting in place only the columns that need it, and
    putting `nulls`' stand-in in place of each None of their columns."""
    conversions = [(i, fn) for i, key in enumerate(COLUMNS) if (fn := convert(key)) is not None]
    stand_ins = [(AT[key], value) for key, value in (nulls or {}).items()]

    def encode(row: Row) -> Row:
        for index, fn in conversions:
            value = row[index]
            if value is not None:
                row[index] = fn(value)
        for index, value in stand_ins:
            if row[index] is None:
                row[index] = value
        return row

    return encode


def _sqlite_null_stand_ins() -> dict[str, Any]:
    """What SQLite staging binds for NULL in each nullable column, by what it stores.

    sqlite3 binds None through its adaptation protocol (a registry lookup and two attribute
    lookups), which was half of staging's time; an int and a str bind directly. A column
    stored as text takes 0, a numeric one '' (a value of the other type it never holds); the
    untyped staging table keeps them as bound, and the merge's `NULLIF` turns them back.
    """
    return {key: 0 if _stored_as_text(ENTRY.c[key].type) else ""
            for key in COLUMNS if ENTRY.c[key].nullable}


def _stored_as_text(kind: sa.types.TypeEngine[Any]) -> bool:
    return not isinstance(kind, sa.Integer | sa.Float | sa.Boolean | sa.Numeric)


_SQLITE_NULLS = _sqlite_null_stand_ins()


def _sqlite_executemany(connection: Connection, rows: Iterable[Row]) -> None:
    """Stage with the driver's `executemany` over an iterator (flat memory).

    Values are converted by the column types' own SQLAlchemy bind processors, so they are
    stored exactly as an ORM insert would store them. A staged INSERT ... SELECT is also what
    keeps SQLite fast with the summary's triggers (migration 0002).
    """
    dialect = connection.dialect

    def convert(key: str) -> Converter | None:
        kind = ENTRY.c[key].type
        if isinstance(kind, sa.JSON):
            return _json_list
        if key in _DATETIME_COLUMNS:
            return _sqlite_datetime
        if isinstance(kind, sa.Date):
            return _sqlite_date
        if isinstance(kind, sa.Boolean):
            return int  # as its processor would; a bool binds through adaptation (slow)
        if isinstance(kind, sa.Float):
            return None  # sqlite3 binds floats as their processor would (REAL)
        processor: Converter | None = kind.dialect_impl(dialect).bind_processor(dialect)
        return processor

    encode = _encoder(convert, _SQLITE_NULLS)
    marks = ", ".join("?" for _ in range(ENTRY_AT + 1))
    driver: Any = connection.connection.driver_connection  # sqlite3's connection
    driver.executemany(
        f"INSERT INTO {_LOAD} VALUES ({marks})",  # noqa: S608 - fixed names, placeholders
        map(encode, rows),
    )


def _pg_copy(connection: Connection, rows: Iterable[Row]) -> None:
    """Stage with a binary COPY into the temporary table (one round trip a batch).

    Binary: numbers, dates and times go as they are instead of as text to parse (a third less
    time than text COPY for 100k rows). JSON columns are sent as their text (`json`'s binary
    form is its text), encoded as SQLAlchemy's JSON type writes it.
    """
    types = connection.exec_driver_sql(
        "SELECT CASE WHEN atttypid = 'json'::regtype THEN 'text'::regtype ELSE atttypid END"  # noqa: S608
        f" FROM pg_attribute WHERE attrelid = '{_LOAD}'::regclass AND attnum > 0"
        " AND NOT attisdropped ORDER BY attnum"
    ).scalars().all()

    def convert(key: str) -> Converter | None:
        if isinstance(ENTRY.c[key].type, sa.JSON):
            return _json_list
        if key in _DATETIME_COLUMNS:
            return _naive_utc
        return None

    encode = _encoder(convert)
    driver: Any = connection.connection.driver_connection  # psycopg's connection
    names = ", ".join((*COLUMNS, _SEQ, _CHANGE, _ENTRY))
    statement = f"COPY {_LOAD} ({names}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(encode(row))


def _json_list(value: Sequence[str]) -> str:
    """A JSON array of texts (aliases, fix versions), as SQLAlchemy's JSON type writes it.

    That is `json.dumps`, whose text for a string is `encode_basestring_ascii`'s, joined here
    directly: `json.dumps` itself cost about 0.2 s for 100k findings' distinct alias lists.
    """
    if not value:  # most CWE and OWASP lists
        return "[]"
    try:
        return "[" + ", ".join(map(_JSON_STRING, value)) + "]"
    except TypeError:  # an item that is no text: the general encoder
        return json.dumps(list(value))


@functools.lru_cache(maxsize=1024)  # most rows share the run's time
def _sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME storage format (naive UTC, microseconds always shown)."""
    return _naive_utc(value).isoformat(" ", "microseconds")


@functools.lru_cache(maxsize=1024)  # deadlines repeat across findings
def _sqlite_date(value: date) -> str:
    """SQLAlchemy's SQLite DATE storage format."""
    return value.isoformat()


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _upsert_staged(connection: Connection, columns: list[str], *, seen: bool) -> None:
    """The staged rows of known entries into the register: one upsert (SQLite: then the
    sightings it skipped); new entries go in by `_insert_opened`.

    On SQLite a known entry whose finding is unchanged (a re-run) differs only in when and by
    which run it was last seen: the upsert leaves such a row alone, and one narrow UPDATE then
    writes those two columns, which no index and no summary trigger reads (rewriting every
    column touched all seven indexes: a 100k re-run's upsert took ~2.6 s, now ~1.3 s). The
    register ends as a full update leaves it. PostgreSQL writes a new row version either way
    and its bulk-loaded pages leave no room for index-free updates: there the split was
    slower, so every sighting is a full update as before.
    """
    load = _load_table(columns)
    statement = dialect_insert(connection)(ENTRY)
    excluded = statement.excluded
    updates = {
        key: (ENTRY.c.reopened_count + excluded.reopened_count)
        if key == "reopened_count"
        else excluded[key]
        for key in columns
        if key not in _KEEP_ON_UPDATE
    }
    split = seen and connection.dialect.name == "sqlite"
    # SQLite stores -0.0 as 0.0 and JSON as its text, so `IS` compares what it stores.
    unchanged = sa.and_(
        excluded.reopened_count == 0,
        *(ENTRY.c[key].is_not_distinct_from(excluded[key])
          for key in updates if key not in (*_SIGHTING, "reopened_count")),
    )
    # The WHERE clause (known rows only) also keeps SQLite from reading ON CONFLICT as a join
    # constraint.
    source = sa.select(*_staged_values(connection, load, columns)).where(
        load.c[_CHANGE] != "opened")
    upsert = statement.from_select(columns, source).on_conflict_do_update(
        index_elements=["project_id", "fingerprint"], set_=updates,
        where=sa.not_(unchanged) if split else None,
    )
    connection.execute(upsert)
    if not split:
        return
    sighted = (
        sa.update(ENTRY)
        .values({key: load.c[key] for key in _SIGHTING})
        .where(ENTRY.c.id == load.c[_ENTRY], load.c[_CHANGE] == "seen")
        .where(sa.or_(*(ENTRY.c[key].is_distinct_from(load.c[key]) for key in _SIGHTING)))
    )
    connection.execute(sighted)


def _staged_values(
    connection: Connection, load: sa.Table, columns: Sequence[str]
) -> list[sa.ColumnElement[Any]]:
    """The staged columns as the register stores them (SQLite: NULL for its stand-ins)."""
    if connection.dialect.name != "sqlite":
        return [load.c[key] for key in columns]
    return [
        sa.func.nullif(load.c[key], sa.literal_column(repr(_SQLITE_NULLS[key]))).label(key)
        if key in _SQLITE_NULLS else load.c[key]
        for key in columns
    ]


def run_words(verdict: Verdict) -> str:
    """How events name the run: its id, its scope and its branch."""
    where = f"run {verdict.run_id} ({verdict.scope.value} scan"
    return where + (f" of {verdict.branch})" if verdict.branch else ")")


def event_columns(verdict: Verdict, actor: str) -> list[Any]:
    """The constant part of a recording's events: run id, time, actor."""
    return [
        sa.literal(verdict.run_id, EVENT.c.run_id.type),
        sa.literal(aware(verdict.started_at), EVENT.c.at.type),
        sa.literal(actor, EVENT.c.actor.type),
    ]


def _insert_opened(connection: Connection) -> None:
    """The staged new entries, with the ids they were given. No conflict is possible: the
    project's entries were read under its lock, a batch stages a fingerprint once, and a
    later batch's duplicate of it is a "replaced" row, merged by the upsert."""
    load = _load_table(COLUMNS)
    source = sa.select(load.c[_ENTRY], *_staged_values(connection, load, COLUMNS)).where(
        load.c[_CHANGE] == "opened")
    connection.execute(sa.insert(ENTRY).from_select(["id", *COLUMNS], source))


def _insert_change_events(connection: Connection, verdict: Verdict, actor: str) -> None:
    """One event per opened or reopened entry, in the order the findings came."""
    load = sa.table(_LOAD, sa.column(_ENTRY), sa.column(_SEQ), sa.column(_CHANGE, sa.String))
    detail = load.c[_CHANGE] + sa.literal(f" by {run_words(verdict)}", sa.String)
    source = (
        sa.select(load.c[_ENTRY], *event_columns(verdict, actor), load.c[_CHANGE], detail)
        .where(load.c[_CHANGE].in_(_LOGGED_CHANGES))
        .order_by(load.c[_SEQ])
    )
    connection.execute(sa.insert(EVENT).from_select(EVENT_FIELDS, source))


def drop_staging(connection: Connection) -> None:
    """Drop the staging table (PostgreSQL would at commit; SQLite keeps it per connection)."""
    connection.exec_driver_sql(f"DROP TABLE {_LOAD}")
