"""Spool entries carry the DSN key they came with, also in a spool.db made before they did."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool

# The spool's tables as the first release made them: no key_id column.
_OLD_SCHEMA = """
CREATE TABLE spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL, kind TEXT NOT NULL,
    received_at REAL NOT NULL, event_id TEXT, client_ip TEXT, content_encoding TEXT NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE spool_body (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE spool_dead (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, kind TEXT NOT NULL, received_at REAL NOT NULL,
    event_id TEXT, client_ip TEXT, content_encoding TEXT NOT NULL, body BLOB NOT NULL,
    attempts INTEGER NOT NULL, reason TEXT NOT NULL, buried_at REAL NOT NULL
);
INSERT INTO spool (project_id, kind, received_at, event_id, client_ip, content_encoding)
    VALUES (1, 'envelope', 1000.0, NULL, NULL, '');
INSERT INTO spool_body (id, body) VALUES (1, x'7b7d0a');
"""


def entry(key_id: int) -> SpoolEntry:
    return SpoolEntry(1, "store", 2000.0, "a" * 32, "127.0.0.1", "", b"{}", key_id=key_id)


def test_an_entry_keeps_its_key_id_through_claim_and_burial(tmp_path: Path) -> None:
    spool = SqliteSpool(tmp_path / "spool.db", durable_writes=True)
    spool.append([entry(7)])
    (claimed,) = spool.claim(10, lease_seconds=60)
    assert claimed.entry.key_id == 7
    spool.bury(claimed, "test")
    with sqlite3.connect(tmp_path / "spool.db") as db:
        assert db.execute("SELECT key_id FROM spool_dead").fetchall() == [(7,)]


def test_a_spool_made_before_key_ids_gets_the_column_and_keeps_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_SCHEMA)

    spool = SqliteSpool(path, durable_writes=True)
    SqliteSpool(path, durable_writes=False).close()  # a second process opening it adds nothing twice
    spool.append([entry(7)])
    claimed = spool.claim(10, lease_seconds=60)

    assert [(c.entry.body, c.entry.key_id) for c in claimed] == [(b"{}\n", 0), (b"{}", 7)]
    spool.bury(claimed[0], "test")
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(spool)")]
        assert columns.count("key_id") == 1
        assert db.execute("SELECT key_id FROM spool_dead").fetchall() == [(0,)]
