"""The spool in its own SQLite file (WAL), next to the store: the default, one-host backend.

Each Spool object owns one sqlite3 connection and must be used from one thread at a time.
Ingest appends with synchronous=FULL, so a commit is on disk before the SDK hears 200. Claims and
acks of a digest worker run with synchronous=NORMAL: losing one of those to a power cut only means
the entry is digested again, which is idempotent, and it spares the digest an fsync per batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shoal.clock import SYSTEM_CLOCK, Clock
from shoal.spool.base import ClaimedEntry, SpoolEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    -- AUTOINCREMENT: an id is never reused, so a worker acking a lease that expired long ago can
    -- never delete a newer entry that happened to get the same id.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    received_at REAL NOT NULL,
    event_id TEXT,
    client_ip TEXT,
    content_encoding TEXT NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    key_id INTEGER NOT NULL DEFAULT 0
);
-- Bodies live apart from the queue rows: leasing a row rewrites that row, and SQLite rewrites a
-- row whole, so with the body inline every claim copied ~1.3 MB under the write lock.
CREATE TABLE IF NOT EXISTS spool_body (
    id INTEGER PRIMARY KEY,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS spool_dead (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    received_at REAL NOT NULL,
    event_id TEXT,
    client_ip TEXT,
    content_encoding TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    buried_at REAL NOT NULL,
    key_id INTEGER NOT NULL DEFAULT 0
);
"""
# Columns added after the first release: a spool.db made before has its tables without them, and
# CREATE TABLE IF NOT EXISTS leaves those as they are, so they are added when missing. Entries
# queued before the upgrade keep the default.
_ADDED_COLUMNS = (
    ("spool", "key_id INTEGER NOT NULL DEFAULT 0"),
    ("spool_dead", "key_id INTEGER NOT NULL DEFAULT 0"),
)

_META_COLUMNS = "project_id, kind, received_at, event_id, client_ip, content_encoding, key_id"
# A WAL checkpoint copies pages into the database file and fsyncs it. Ingest's writer checkpoints
# only past this many pages (~40 MB), as a backstop; digest workers checkpoint at SQLite's default
# (1,000 pages) as they ack, so requests waiting on a group commit do not wait for a checkpoint too.
_INGEST_CHECKPOINT_PAGES = 10_000


class SqliteSpool:
    def __init__(self, path: Path, *, durable_writes: bool, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a claim never has to
        # upgrade a read lock (which fails at once under contention instead of waiting).
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A request's body is the event as the SDK sent it, secrets and all (the digest scrubs only
        # what it stores): zero it when it is deleted rather than leave it in free pages. Ingest's
        # appends cost the same; a digest ack costs ~12 µs more per gzipped body, ~58 µs per
        # uncompressed one (bench/scrub_cost.py --spool). Until SQLite reuses that part of it, the
        # WAL file still holds recent requests (docs/scrubbing.md).
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable_writes else 'NORMAL'}")
        if durable_writes:
            self._db.execute(f"PRAGMA wal_autocheckpoint={_INGEST_CHECKPOINT_PAGES}")
        self._db.executescript(_SCHEMA)
        self._add_missing_columns()

    def append(self, entries: Sequence[SpoolEntry]) -> None:
        with self._transaction():
            for e in entries:
                entry_id = self._db.execute(
                    f"INSERT INTO spool ({_META_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        e.project_id,
                        e.kind,
                        e.received_at,
                        e.event_id,
                        e.client_ip,
                        e.content_encoding,
                        e.key_id,
                    ),
                ).fetchone()[0]
                self._db.execute("INSERT INTO spool_body (id, body) VALUES (?, ?)", (entry_id, e.body))

    def claim(self, limit: int, lease_seconds: float) -> list[ClaimedEntry]:
        now = self._clock.now()
        with self._transaction():
            rows = self._db.execute(
                f"UPDATE spool SET lease_until = ?, attempts = attempts + 1 WHERE id IN "
                f"(SELECT id FROM spool WHERE lease_until <= ? ORDER BY id LIMIT ?) "
                f"RETURNING id, attempts, {_META_COLUMNS}",
                (now + lease_seconds, now, limit),
            ).fetchall()
        if not rows:
            return []
        # The rows are ours now; their bodies are read outside the write lock (WAL readers never
        # block the ingest writer).
        bodies = dict(
            self._db.execute(
                f"SELECT id, body FROM spool_body WHERE id IN ({','.join('?' * len(rows))})",
                [r[0] for r in rows],
            )
        )
        # RETURNING gives rows in no promised order; digest them oldest first.
        rows.sort(key=lambda row: row[0])
        return [
            ClaimedEntry(id=row[0], attempts=row[1], entry=_entry(row[2:], bodies[row[0]])) for row in rows
        ]

    def ack(self, ids: Sequence[int]) -> None:
        keys = [(i,) for i in ids]
        with self._transaction():
            self._db.executemany("DELETE FROM spool WHERE id = ?", keys)
            self._db.executemany("DELETE FROM spool_body WHERE id = ?", keys)

    def release(self, ids: Sequence[int]) -> None:
        with self._transaction():
            self._db.executemany(
                "UPDATE spool SET lease_until = 0, attempts = attempts - 1 WHERE id = ?", [(i,) for i in ids]
            )

    def bury(self, claimed: ClaimedEntry, reason: str) -> None:
        e = claimed.entry
        with self._transaction():
            self._db.execute(
                f"INSERT INTO spool_dead ({_META_COLUMNS}, body, attempts, reason, buried_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    e.project_id,
                    e.kind,
                    e.received_at,
                    e.event_id,
                    e.client_ip,
                    e.content_encoding,
                    e.key_id,
                    e.body,
                    claimed.attempts,
                    reason,
                    self._clock.now(),
                ),
            )
            self._db.execute("DELETE FROM spool WHERE id = ?", (claimed.id,))
            self._db.execute("DELETE FROM spool_body WHERE id = ?", (claimed.id,))

    def _add_missing_columns(self) -> None:
        """Under the write lock, so two processes opening an old spool.db at once add each column
        once (SQLite's ALTER TABLE is transactional)."""
        with self._transaction():
            for table, column in _ADDED_COLUMNS:
                present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                if column.split(" ", 1)[0] not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")

    def backlog(self) -> int:
        row = self._db.execute("SELECT count(*) FROM spool").fetchone()
        return int(row[0])

    def dead_letters(self) -> int:
        row = self._db.execute("SELECT count(*) FROM spool_dead").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back if the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _entry(meta: tuple[Any, ...], body: bytes) -> SpoolEntry:
    project_id, kind, received_at, event_id, client_ip, content_encoding, key_id = meta
    return SpoolEntry(project_id, kind, received_at, event_id, client_ip, content_encoding, body, key_id)
