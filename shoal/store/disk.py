"""How much disk the store takes, and giving freed space back to the file system.

SQLite never shrinks its file by itself: pages freed by a DELETE go to a free list inside the file
and are reused by later inserts. With `auto_vacuum=INCREMENTAL` (set for every new database by
shoal/store/db.py, before any table exists) `PRAGMA incremental_vacuum` moves pages and truncates
the file; a database created before that needs one full VACUUM, which also switches it to
incremental. PostgreSQL's plain VACUUM makes dead rows reusable inside the table files; only VACUUM
FULL (or pg_repack) returns the space, under an exclusive lock, so Shoal leaves that to the operator.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Event

from sqlalchemy import Connection, Engine, text

from shoal.store.db import is_postgres

# Pages moved per incremental-vacuum step, each its own short write transaction, so the digest
# waits at most one step for the write lock: 1,000 pages of 4 KiB = 4 MiB, which is also the WAL's
# auto-checkpoint size (bench/retention.py measures a step).
VACUUM_STEP_PAGES = 1000
# Free pages are reused by new events, so giving back a little is churn: the file would grow again
# within the hour. Only a cleanup that left this share of the file free is worth shrinking.
RECLAIM_FREE_SHARE = 0.2
_AUTO_VACUUM_INCREMENTAL = 2  # PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental


@dataclass(frozen=True)
class DiskUsage:
    """The store's size in bytes; on SQLite `free_bytes` of it are free pages inside the file."""

    total_bytes: int
    free_bytes: int
    incremental: bool  # SQLite only: whether incremental vacuum can shrink the file


def usage(engine: Engine) -> DiskUsage:
    with engine.connect() as conn:
        if is_postgres(conn):
            return DiskUsage(_postgres_bytes(conn), 0, False)
        page_size = _pragma(conn, "page_size")
        return DiskUsage(
            _pragma(conn, "page_count") * page_size,
            _pragma(conn, "freelist_count") * page_size,
            _pragma(conn, "auto_vacuum") == _AUTO_VACUUM_INCREMENTAL,
        )


def _pragma(conn: Connection, name: str) -> int:
    return int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one())


def _postgres_bytes(conn: Connection) -> int:
    """Tables and indexes of the schema the connection uses (its search_path's first)."""
    return int(
        conn.execute(
            text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        ).scalar_one()
    )


def worth_reclaiming(disk: DiskUsage) -> bool:
    return (
        disk.incremental and disk.total_bytes > 0 and disk.free_bytes >= RECLAIM_FREE_SHARE * disk.total_bytes
    )


def incremental_vacuum(engine: Engine, stop: Event | None = None, pause: float = 0.0) -> int:
    """Give the free pages of an incremental-vacuum SQLite file back to the file system, a step at a
    time; return how many bytes the file shrank by."""
    before = usage(engine)
    with _sqlite_connection(engine) as raw:
        while _raw_pragma(raw, "freelist_count") > 0 and not (stop is not None and stop.is_set()):
            # Each executescript is its own transaction, and it steps the pragma to the end: the
            # pragma frees a page per step, and the sqlite3 module's execute() takes only the first.
            raw.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES})")
            time.sleep(pause)
        _checkpoint(raw, "PASSIVE")
    return before.total_bytes - usage(engine).total_bytes


def vacuum(engine: Engine) -> None:
    """Rewrite the store compactly. On SQLite this is VACUUM, which needs free disk as large as the
    database and holds the write lock throughout (the digest waits, ingest does not: the spool is
    its own file); it also turns an old database's auto_vacuum to incremental. On PostgreSQL,
    VACUUM ANALYZE: the space becomes reusable, it is not returned."""
    if is_postgres(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
        return
    with _sqlite_connection(engine) as raw:
        raw.executescript("PRAGMA auto_vacuum=INCREMENTAL; VACUUM;")
        _checkpoint(raw, "TRUNCATE")


@contextmanager
def _sqlite_connection(engine: Engine) -> Iterator[sqlite3.Connection]:
    """The pooled connection's sqlite3 object, used directly: VACUUM cannot run in a transaction,
    and SQLAlchemy would begin one (shoal/store/db.py issues BEGIN) on its first statement."""
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        yield raw


def _raw_pragma(raw: sqlite3.Connection, name: str) -> int:
    return int(raw.execute(f"PRAGMA {name}").fetchone()[0])


def _checkpoint(raw: sqlite3.Connection, mode: str) -> None:
    """Copy the WAL into the database file, so the file's size shows the vacuum. PASSIVE never
    waits for readers; TRUNCATE (after a VACUUM, whose whole copy went to the WAL) also empties the
    WAL file."""
    raw.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
