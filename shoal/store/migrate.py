"""Bring a store database to the newest schema with Alembic (`shoal migrate`, and on every start)."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine

from shoal.store.db import is_postgres, write_transaction

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
    # One write transaction: two processes starting at once cannot both run the same migration
    # (SQLite serializes them on the write lock, PostgreSQL on an advisory lock).
    with write_transaction(engine) as conn:
        if is_postgres(conn):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
