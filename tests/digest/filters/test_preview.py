"""The filters' preview on SQLite and PostgreSQL: the health-check row replays the period's stored
transactions by their name and URL path, as the digest's check reads them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from shoal import outcomes
from shoal.digest.filters.preview import preview_filters
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.store import projects
from shoal.store.db import write_transaction
from shoal.store.inbound_filters import FilterSettings
from shoal.store.transactions import NewTransaction, store_transactions

NOW = 1_795_000_000.0
DAY = 86_400


@pytest.fixture
def project_id(engine: Engine) -> int:
    with write_transaction(engine) as conn:
        org = projects.create_organization(conn, "acme", "Acme")
        return projects.create_project(conn, org, "shop", "python", DEFAULT_CONFIG_ID).id


def stored(project_id: int, name: str, url_path: str | None, start: float = NOW - 3600) -> NewTransaction:
    return NewTransaction(
        project_id=project_id,
        event_id=uuid.uuid4().hex,
        trace_id=uuid.uuid4().hex,
        span_id="b" * 16,
        name=name,
        op="http.server",
        status="ok",
        start_timestamp=start,
        duration_ms=2.0,
        received=start + 1,
        release=None,
        environment=None,
        span_count=0,
        span_ops="{}",
        spans=None,
        url_path=url_path,
    )


def test_the_health_check_row_counts_stored_transactions_named_after_the_endpoint(
    engine: Engine, project_id: int
) -> None:
    batch = [
        stored(project_id, "app.main.health", "/health"),  # endpoint style: only the path says so
        stored(project_id, "app.main.health", "/health"),
        stored(project_id, "app.main.ready", "//k8s/ready/"),  # a path that looks like a host
        stored(project_id, "GET /healthz", None),  # the name alone is enough
        stored(project_id, "app.main.checkout", "/checkout"),
        stored(project_id, "app.main.recipes", "/api/healthy-recipes"),
        stored(project_id, "app.main.orders", None),
        stored(project_id, "app.main.health", "/health", start=NOW - 8 * DAY),  # before the period
    ]
    with write_transaction(engine) as conn:
        store_transactions(conn, batch)
    with engine.connect() as conn:
        # Off, as saved: the preview still says what it would drop, were it on.
        preview = preview_filters(conn, project_id, FilterSettings(frozenset()), NOW)
    assert preview.would_drop[outcomes.FILTER_HEALTH_CHECK] == 4
    assert (preview.transactions_replayed, preview.transactions_truncated) == (7, False)
    assert (preview.events_replayed, preview.together) == (0, 0)


def test_the_newest_transactions_are_replayed_when_there_are_more(
    engine: Engine, project_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shoal.digest.filters.preview.MAX_EVENTS", 2)
    batch = [
        stored(project_id, "app.main.health", "/health", start=NOW - 300),
        stored(project_id, "app.main.checkout", "/checkout", start=NOW - 200),
        stored(project_id, "app.main.health", "/health", start=NOW - 100),
    ]
    with write_transaction(engine) as conn:
        store_transactions(conn, batch)
    with engine.connect() as conn:
        preview = preview_filters(conn, project_id, FilterSettings(), NOW)
    assert preview.would_drop[outcomes.FILTER_HEALTH_CHECK] == 1
    assert (preview.transactions_replayed, preview.transactions_truncated) == (2, True)
