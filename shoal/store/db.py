"""Engines and transactions for the store, on SQLite (the default) or PostgreSQL.

The rest of Shoal writes portable SQLAlchemy Core; the differences between the two backends live
here: connection URLs, SQLite's pragmas, how a write transaction starts, and which dialect's
INSERT … ON CONFLICT to use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

# SQLite waits this long for another process's write lock before failing with "database is locked".
# The digest holds the lock for one batch (tens of milliseconds), so this is generous.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """Accept the URLs people write (postgresql://, postgres://) and pick the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_store_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return _create_sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _create_sqlite_engine(url: str) -> Engine:
    # Pooled connections (SQLAlchemy hands each to one thread at a time): closing the last
    # connection to a WAL database checkpoints it, which cost the digest ~5 ms a batch (measured
    # with cProfile on the corpus) when every batch opened and closed its own.
    engine = create_engine(url, pool_size=5, max_overflow=10, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how a transaction starts, instead of the
        # sqlite3 module's implicit BEGIN (which cannot do BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # First, so that every pragma below waits for another connection's write lock instead of
        # failing with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Only a database without tables takes this (and only before journal_mode: measured), so
        # it applies to new stores; an older one switches at its next VACUUM (`shoal cleanup
        # --vacuum`). Then retention can give freed pages back to the file system (store/disk.py).
        # Asked only of an empty file: the pragma takes the write lock even when it changes
        # nothing, and a connection opened while another writes would wait on it.
        if cursor.execute("PRAGMA page_count").fetchone()[0] == 0:
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit survives a power cut. The digest acks spool entries only after the store
        # commit, so the store must be at least as durable as the spool was.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the write lock up front (IMMEDIATE). A deferred transaction that reads and
        # then writes can fail with SQLITE_BUSY without waiting when another process committed in
        # between, which busy_timeout cannot help with.
        mode = "IMMEDIATE" if conn.get_execution_options().get("shoal_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that will write: committed on success, rolled back on error."""
    with engine.connect() as conn:
        conn.execution_options(shoal_write=True)
        with conn.begin():
            yield conn


def upsert(table: Table, conn: Connection) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that supports .on_conflict_do_update() on the connection's backend."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"
