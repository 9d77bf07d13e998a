"""The migrations build exactly the schema that shoal/store/schema.py declares, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from shoal.store.db import create_store_engine, write_transaction
from shoal.store.migrate import alembic_config, migrate
from shoal.store.schema import metadata


def test_the_migrated_database_matches_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_issue_counts_of_an_older_store_survive_the_upgrade_with_no_environment(database_url: str) -> None:
    store = create_store_engine(database_url)
    config = alembic_config()
    with write_transaction(store) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(text("INSERT INTO organization (id, slug, name, created_at) VALUES (1, 'o', 'O', 0)"))
        conn.execute(
            text(
                "INSERT INTO project (id, organization_id, slug, name, platform, grouping_config, "
                "next_short_id, events_stored, created_at) VALUES (1, 1, 'p', 'P', 'python', 'c', 2, 7, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO issue (id, project_id, short_id, type, title, culprit, level, platform, "
                "metadata, status, substatus, first_seen, last_seen, times_seen, users_seen) "
                "VALUES (1, 1, 1, 'error', 't', 'c', 'error', 'python', '{}', 'unresolved', 'new', "
                "0, 0, 7, 0)"
            )
        )
        conn.execute(
            text("INSERT INTO issue_count_minute (issue_id, minute, events) VALUES (1, 100, 3), (1, 101, 4)")
        )
        conn.execute(text("INSERT INTO issue_count_hour (issue_id, hour, events) VALUES (1, 1, 7)"))
    migrate(store)
    with store.connect() as conn:
        minutes = conn.execute(
            text("SELECT minute, environment, events FROM issue_count_minute ORDER BY minute")
        )
        hours = conn.execute(text("SELECT hour, environment, events FROM issue_count_hour"))
        assert [tuple(row) for row in minutes] == [(100, "", 3), (101, "", 4)]
        assert [tuple(row) for row in hours] == [(1, "", 7)]
    store.dispose()
