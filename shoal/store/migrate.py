"""Bring a store database to the newest schema with Alembic (`shoal migrate`, and on every start)."""

from __future__ import annotations

import logging
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine

from shoal.store.db import is_postgres

# Any constant; the advisory lock that keeps two PostgreSQL processes from migrating at once.
_PG_MIGRATION_LOCK = 0x5_40A1


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", "shoal.store:migrations")
    return config


def migrate(engine: Engine) -> None:
    # Alembic reports every plugin it loads at INFO; a start-up should print only what matters.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = alembic_config()
    with engine.connect() as conn:
        sqlite = not is_postgres(conn)
        if sqlite:
            # SQLite changes a table by rebuilding it (copy, drop, rename), and dropping the old
            # table would cascade to every row that references it (an issue's events, counts,
            # hashes) with foreign keys on. They can only be switched off outside a transaction
            # (sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes").
            _sqlite_pragma(conn, "foreign_keys=OFF")
        try:
            _upgrade(conn, config, sqlite)
        finally:
            if sqlite:
                _sqlite_pragma(conn, "foreign_keys=ON")


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    """Run a pragma on the sqlite3 connection itself: through SQLAlchemy it would start a
    transaction first, inside which this pragma does nothing."""
    driver_connection: Any = conn.connection.driver_connection
    driver_connection.execute(f"PRAGMA {pragma}")


def _upgrade(conn: Connection, config: AlembicConfig, sqlite: bool) -> None:
    # One write transaction: two processes starting at once cannot both run the same migration
    # (SQLite serializes them on the write lock, PostgreSQL on an advisory lock).
    conn.execution_options(shoal_write=True)
    with conn.begin():
        if not sqlite:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
            raise RuntimeError("the migration left rows whose foreign keys point nowhere; rolled back")
