"""Filtered events cost no quota (shoal/store/quota_usage.py `refund`, docs/quotas.md): the digest
subtracts what an inbound filter or a tombstone dropped from exactly the counters ingest added it
to, at the time ingest counted it; on SQLite and PostgreSQL, with the real limiter and the real
digest worker on a real spool."""

from __future__ import annotations

import calendar
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from shoal import outcomes
from shoal.clock import ManualClock
from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.digest.pipeline import DigestLimits
from shoal.digest.worker import DigestWorker
from shoal.ingest.limits import Item, Limiter
from shoal.spool.base import SpoolEntry
from shoal.spool.sqlite import SqliteSpool
from shoal.store import discards, projects, quotas
from shoal.store.db import write_transaction
from shoal.store.inbound_filters import FilterSettings
from shoal.store.projects import KeyInfo, RateLimit
from shoal.store.quota_usage import (
    SETTLED_SECONDS,
    Refund,
    UsageKey,
    add_usage,
    current_key,
    refund,
)
from shoal.store.schema import issue, quota_usage
from tests.support.events import python_error
from tests.support.http import event_envelope

# 2026-03-10 12:00:30 UTC: mid-month, mid-day, 30 s into a minute.
START = calendar.timegm((2026, 3, 10, 12, 0, 30))
LIMITS = DigestLimits(max_envelope_bytes=10 * 1024 * 1024, max_event_bytes=1024 * 1024)


class Shop:
    """A project in its own organization, with its first DSN key."""

    def __init__(self, engine: Engine) -> None:
        with write_transaction(engine) as conn:
            self.organization_id = projects.create_organization(conn, "acme", "Acme")
            self.project_id = projects.create_project(
                conn, self.organization_id, "shop", "python", DEFAULT_CONFIG_ID
            ).id
            self.key_id = projects.list_keys(conn, self.project_id)[0].id
        self.engine = engine

    def key(self) -> KeyInfo:
        with self.engine.connect() as conn:
            public_key = projects.list_keys(conn, self.project_id)[0].public_key
            found = projects.find_key(conn, public_key)
        assert found is not None
        return found

    def counters(self, category: str, at: float) -> dict[str, UsageKey]:
        """The always-counted counters of the project and organization, named "project/hour"…"""
        return {
            f"{scope}/{window}": current_key(scope, scope_id, category, window, at)
            for scope, scope_id in (("project", self.project_id), ("organization", self.organization_id))
            for window in ("hour", "day", "month")
        }


@pytest.fixture
def shop(engine: Engine) -> Shop:
    return Shop(engine)


def stored(engine: Engine) -> dict[UsageKey, int]:
    with engine.connect() as conn:
        return {UsageKey(*row[:5]): int(row[5]) for row in conn.execute(select(quota_usage))}


def counted(engine: Engine, increments: dict[UsageKey, int]) -> None:
    """What ingest's flush writes."""
    with write_transaction(engine) as conn:
        add_usage(conn, increments)


def refunded(engine: Engine, refunds: dict[Refund, int], now: float) -> dict[UsageKey, int]:
    with write_transaction(engine) as conn:
        return refund(conn, refunds, now)


def set_quota(shop: Shop, project_id: int | None, category: str, window: str, limit: int) -> None:
    with write_transaction(shop.engine) as conn:
        quotas.set_quota(
            conn, shop.organization_id, project_id, category=category, window=window, limit=limit
        )


def test_a_filtered_error_is_given_back_to_every_always_counted_window_of_the_time_it_was_received(
    engine: Engine, shop: Shop
) -> None:
    received = START - 86_400  # yesterday: its day is not today's, its month is this month
    then, now = shop.counters("error", received), shop.counters("error", START)
    counted(engine, dict.fromkeys(then.values(), 3) | dict.fromkeys(now.values(), 3))

    refunded(engine, {Refund(shop.project_id, shop.key_id, "error", received): 2}, START)

    found = stored(engine)
    assert {name: found[key] for name, key in then.items()} == dict.fromkeys(then, 1)
    # Today's hour and day kept their counts; the month is the same counter as yesterday's.
    assert found[now["project/day"]] == found[now["organization/hour"]] == 3
    assert found[now["project/month"]] == 1
    assert len(found) == 10  # no counter was made for the key: it has no rate limit


def test_the_keys_own_window_is_given_back_only_when_the_key_has_a_rate_limit(
    engine: Engine, shop: Shop
) -> None:
    with write_transaction(engine) as conn:
        projects.set_key_rate_limit(conn, shop.key_id, RateLimit(10, 60))
    key_counter = current_key("key", shop.key_id, "error", "60s", START)
    counted(engine, {key_counter: 4} | dict.fromkeys(shop.counters("error", START).values(), 4))

    refunded(engine, {Refund(shop.project_id, shop.key_id, "error", START): 1}, START)
    assert stored(engine)[key_counter] == 3

    with write_transaction(engine) as conn:
        projects.set_key_rate_limit(conn, shop.key_id, None)
    refunded(engine, {Refund(shop.project_id, shop.key_id, "error", START): 1}, START)
    assert stored(engine)[key_counter] == 3
    # A transaction is never counted against the key, limit or not.
    with write_transaction(engine) as conn:
        projects.set_key_rate_limit(conn, shop.key_id, RateLimit(10, 60))
    refunded(engine, {Refund(shop.project_id, shop.key_id, "transaction", START): 1}, START)
    assert stored(engine)[key_counter] == 3


def test_a_minute_counter_is_given_back_only_where_a_quota_counts_minutes(engine: Engine, shop: Shop) -> None:
    project_minute = current_key("project", shop.project_id, "error", "minute", START)
    org_minute = current_key("organization", shop.organization_id, "error", "minute", START)
    always = shop.counters("error", START)
    counted(engine, {project_minute: 5, org_minute: 5} | dict.fromkeys(always.values(), 5))

    refunded(engine, {Refund(shop.project_id, 0, "error", START): 1}, START)
    assert stored(engine)[project_minute] == stored(engine)[org_minute] == 5

    set_quota(shop, shop.project_id, "error", "minute", 10)
    refunded(engine, {Refund(shop.project_id, 0, "error", START): 1}, START)
    assert (stored(engine)[project_minute], stored(engine)[org_minute]) == (4, 5)

    set_quota(shop, None, "error", "minute", 10)
    set_quota(shop, None, "transaction", "minute", 10)  # another category's quota changes nothing
    refunded(engine, {Refund(shop.project_id, 0, "error", START): 1}, START)
    assert (stored(engine)[project_minute], stored(engine)[org_minute]) == (3, 4)
    assert stored(engine)[always["organization/day"]] == 2


def test_transactions_are_given_back_to_the_transaction_counters(engine: Engine, shop: Shop) -> None:
    errors, transactions = shop.counters("error", START), shop.counters("transaction", START)
    counted(engine, dict.fromkeys(errors.values(), 2) | dict.fromkeys(transactions.values(), 2))

    refunded(engine, {Refund(shop.project_id, shop.key_id, "transaction", START): 2}, START)

    found = stored(engine)
    assert {found[key] for key in transactions.values()} == {0}
    assert {found[key] for key in errors.values()} == {2}


def test_a_settled_window_never_goes_below_zero_and_a_pruned_one_is_not_made_again(
    engine: Engine, shop: Shop
) -> None:
    received = START - 7200  # two hours ago: its hour ended long ago, its day and month are open
    then = shop.counters("error", received)
    counted(engine, {then["project/hour"]: 1})  # the organization's hour was pruned, say

    refunded(engine, {Refund(shop.project_id, shop.key_id, "error", received): 3}, START)

    found = stored(engine)
    assert found[then["project/hour"]] == 0
    assert then["organization/hour"] not in found


def test_an_open_window_refunded_before_ingest_flushed_it_comes_right_at_the_flush(
    engine: Engine, shop: Shop
) -> None:
    """The digest can store a batch before the web process has written the counts of its last 2
    seconds: the refund is kept (signed) and the flush's add makes the total right."""
    counters = shop.counters("error", START)
    counted(engine, {counters["project/day"]: 2})

    refunded(engine, {Refund(shop.project_id, shop.key_id, "error", START): 3}, START + 1)
    assert stored(engine)[counters["project/day"]] == -1
    assert stored(engine)[counters["project/hour"]] == -3

    counted(engine, dict.fromkeys(counters.values(), 3))  # the flush of the 3, and of none before
    found = stored(engine)
    assert found[counters["project/day"]] == 2
    assert {found[key] for name, key in counters.items() if name != "project/day"} == {0}


def test_a_window_is_settled_a_minute_after_it_ends(engine: Engine, shop: Shop) -> None:
    minute = current_key("project", shop.project_id, "error", "minute", START)
    set_quota(shop, shop.project_id, "error", "minute", 10)
    refunded(
        engine, {Refund(shop.project_id, 0, "error", START): 1}, minute.window_start + 60 + SETTLED_SECONDS
    )
    assert minute not in stored(engine)
    refunded(
        engine, {Refund(shop.project_id, 0, "error", START): 1}, minute.window_start + 59 + SETTLED_SECONDS
    )
    assert stored(engine)[minute] == -1


def test_a_deleted_projects_items_give_nothing_back(engine: Engine, shop: Shop) -> None:
    assert refunded(engine, {Refund(shop.project_id + 1, 0, "error", START): 1}, START) == {}
    assert stored(engine) == {}


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_batch_costs_one_statement_per_counter_row_not_per_event(
    engine: Engine, shop: Shop, statements: list[str]
) -> None:
    with write_transaction(engine) as conn:
        projects.set_key_rate_limit(conn, shop.key_id, RateLimit(1000, 3600))
    set_quota(shop, shop.project_id, "error", "minute", 1000)
    # 200 errors over 20 seconds of one minute, and 50 of them two hours ago (settled hours).
    batch = {Refund(shop.project_id, shop.key_id, "error", START + second): 10 for second in range(20)}
    batch[Refund(shop.project_id, shop.key_id, "error", START - 7200)] = 50
    statements.clear()

    decrements = refunded(engine, batch, START + 20)

    # Now: 6 always-counted + project minute + key window (open, one upsert). Two hours ago: its
    # project/org hour, minute and key window are settled (one update each); day, month shared.
    assert len(decrements) == 8 + 4
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1 + 4
    assert len(reads) == 3


def test_the_limiter_lets_as_many_through_again_as_were_filtered(engine: Engine, shop: Shop) -> None:
    """Ingest counts 5 of a quota of 5; the digest filters 3; at its next flush the limiter has
    room for exactly 3 more."""
    set_quota(shop, shop.project_id, "error", "day", 5)
    clock = ManualClock(START)
    limiter = Limiter(engine, clock)
    key = shop.key()
    assert limiter.check(key, [Item("error", 1)] * 6).dropped == [5]
    limiter.flush()

    refunded(engine, {Refund(shop.project_id, shop.key_id, "error", START): 3}, START + 1)
    clock.advance(2)
    limiter.flush()

    assert limiter.check(key, [Item("error", 1)] * 4).dropped == [3]


# ------------------------------------------------------------------- through the digest worker


def spool_errors(engine: Engine, spool: SqliteSpool, shop: Shop, received: float, *types: str) -> None:
    entries = []
    for type_ in types:
        error = python_error(type_, "read")
        body = gzip.compress(event_envelope(error, error["event_id"]))
        entries.append(
            SpoolEntry(
                shop.project_id,
                "envelope",
                received,
                error["event_id"],
                "10.0.0.1",
                "gzip",
                body,
                shop.key_id,
            )
        )
    spool.append(entries)
    worker = DigestWorker(spool, engine, LIMITS, lease_seconds=60)
    while worker.run_once():
        pass


def test_the_digest_gives_back_what_its_filters_and_tombstones_drop_and_nothing_it_stores(
    engine: Engine, shop: Shop, tmp_path: Path
) -> None:
    settings = FilterSettings.from_json("{}")
    with write_transaction(engine) as conn:
        projects.set_project_filters(
            conn,
            shop.project_id,
            FilterSettings(settings.on | {outcomes.FILTER_ERROR_TYPE}, settings.patterns),
        )
    spool = SqliteSpool(tmp_path / "spool.db", durable_writes=False)
    received = START - 86_400
    counters = shop.counters("error", received)
    counted(engine, dict.fromkeys(counters.values(), 10))

    spool_errors(engine, spool, shop, received, "ConnectionResetError", "BrokenPipeError", "KeyError")
    assert {stored(engine)[key] for key in counters.values()} == {8}

    with write_transaction(engine) as conn:
        (issue_id,) = conn.execute(select(issue.c.id)).scalars()
        discards.discard_issues(conn, [issue_id], None, now=START)
    spool_errors(engine, spool, shop, received, "KeyError", "KeyError")
    assert {stored(engine)[key] for key in counters.values()} == {6}
