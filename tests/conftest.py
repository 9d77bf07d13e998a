"""Shared fixtures: a store database on SQLite and on PostgreSQL, and a running `shoal run`.

PostgreSQL is the machine's server on 127.0.0.1:5432, database `test` (override with
SHOAL_TEST_POSTGRES_URL); each test gets its own schema, dropped afterwards. When no server answers,
PostgreSQL tests skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from shoal.store.db import create_store_engine, normalize_url
from shoal.store.migrate import migrate
from tests.support.browser import browser, page
from tests.support.server import RunningShoal, start_shoal

# Playwright's sync API allows one instance per process, so the browser fixtures are defined once,
# here, for tests/web and tests/e2e alike.
__all__ = ["browser", "page"]

POSTGRES_URL = os.environ.get("SHOAL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_unavailable() -> str | None:
    try:
        engine = create_engine(normalize_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"no PostgreSQL at {POSTGRES_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def require_postgres() -> None:
    reason = _postgres_unavailable()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true; {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema of its own."""
    require_postgres()
    schema = f"shoal_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shoal.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated, empty store."""
    store = create_store_engine(database_url)
    migrate(store)
    yield store
    store.dispose()


@pytest.fixture
def shoal(tmp_path: Path) -> Iterator[RunningShoal]:
    """`shoal run` in a subprocess on SQLite, as README command 1 starts it."""
    server = start_shoal(tmp_path / "data")
    yield server
    server.stop()


@pytest.fixture
def shoal_on_each_store(tmp_path: Path, database_url: str) -> Iterator[RunningShoal]:
    """`shoal run` in a subprocess, once on SQLite and once on PostgreSQL."""
    server = start_shoal(tmp_path / "data", database_url=database_url)
    yield server
    server.stop()
