"""Reads of the outcome counters and of the advisor's other inputs, on SQLite and PostgreSQL:
quantities per hour and per UTC day, grouped by outcome, category, reason, project and key, over
one project or several; filters; totals; hours outside the range left out; and the budget
readings (accepted per category with errors rolled up, monthly quotas, issues by events this
month with their error types, transactions, filter words)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest
from sqlalchemy import Engine, update

from shoal.digest.grouping import DEFAULT_CONFIG_ID
from shoal.outcomes import Outcome, OutcomeKey
from shoal.store import aggregates, budget, issues, outcome_stats, projects
from shoal.store.db import write_transaction
from shoal.store.issues import NewIssue
from shoal.store.outcome_stats import OutcomeFilter
from shoal.store.schema import issue as issues_table
from shoal.store.schema import project, quota

DAY_START = 490_000 * 24  # an hour bucket that starts a UTC day
ACCEPTED, FILTERED, RATE_LIMITED = Outcome.ACCEPTED, Outcome.FILTERED, Outcome.RATE_LIMITED


@dataclass(frozen=True)
class Org:
    id: int
    shop: int
    blog: int


@pytest.fixture
def org(engine: Engine) -> Org:
    with write_transaction(engine) as conn:
        organization_id = projects.create_organization(conn, "acme", "Acme")
        shop = projects.create_project(conn, organization_id, "shop", "python", DEFAULT_CONFIG_ID).id
        blog = projects.create_project(conn, organization_id, "blog", "python", DEFAULT_CONFIG_ID).id
    return Org(organization_id, shop, blog)


def add(engine: Engine, hour: int, *rows: tuple[int, str, Outcome, str, int, int]) -> None:
    """Outcome rows as the digest and ingest write them: (project, category, outcome, reason, key, n)."""
    counts = {OutcomeKey(p, c, o, r, k): n for p, c, o, r, k, n in rows}
    with write_transaction(engine) as conn:
        aggregates.add_outcomes(conn, hour, counts)


def everything(org: Org, first: int = DAY_START, last: int = DAY_START + 72) -> OutcomeFilter:
    return OutcomeFilter((org.shop, org.blog), first, last)


def test_quantities_per_hour_are_summed_per_outcome(engine: Engine, org: Org) -> None:
    add(
        engine,
        DAY_START,
        (org.shop, "error", ACCEPTED, "", 1, 5),
        (org.shop, "error", FILTERED, "error-type", 1, 2),
    )
    add(engine, DAY_START, (org.shop, "error", ACCEPTED, "", 1, 3))  # the upsert adds
    add(engine, DAY_START + 1, (org.shop, "error", ACCEPTED, "", 2, 4))
    with engine.connect() as conn:
        found = outcome_stats.bucketed(conn, everything(org), ["outcome"], 1)
    assert found == {("accepted",): {DAY_START: 8, DAY_START + 1: 4}, ("filtered",): {DAY_START: 2}}


def test_day_buckets_are_utc_days(engine: Engine, org: Org) -> None:
    add(engine, DAY_START + 23, (org.shop, "error", ACCEPTED, "", 0, 1))
    add(engine, DAY_START + 24, (org.shop, "error", ACCEPTED, "", 0, 10))
    add(engine, DAY_START + 47, (org.shop, "error", ACCEPTED, "", 0, 100))
    with engine.connect() as conn:
        found = outcome_stats.bucketed(conn, everything(org), [], 24)
    assert found == {(): {DAY_START: 1, DAY_START + 24: 110}}


def test_grouping_by_several_dimensions_keeps_their_order(engine: Engine, org: Org) -> None:
    add(
        engine,
        DAY_START,
        (org.shop, "error", RATE_LIMITED, "key_quota", 7, 3),
        (org.blog, "transaction", FILTERED, "filtered-transaction", 0, 4),
    )
    with engine.connect() as conn:
        found = outcome_stats.totals(conn, everything(org), ["project", "category", "reason", "key"])
    assert found == {
        (org.shop, "error", "key_quota", 7): 3,
        (org.blog, "transaction", "filtered-transaction", 0): 4,
    }


def test_only_the_projects_named_are_read(engine: Engine, org: Org) -> None:
    add(engine, DAY_START, (org.shop, "error", ACCEPTED, "", 0, 5), (org.blog, "error", ACCEPTED, "", 0, 7))
    with engine.connect() as conn:
        shop_only = outcome_stats.totals(conn, OutcomeFilter((org.shop,), DAY_START, DAY_START + 1), [])
        nothing = outcome_stats.totals(conn, OutcomeFilter((), DAY_START, DAY_START + 1), [])
    assert shop_only == {(): 5}
    assert nothing == {}


def test_the_range_includes_its_first_hour_and_excludes_its_last(engine: Engine, org: Org) -> None:
    for hour in (DAY_START - 1, DAY_START, DAY_START + 5, DAY_START + 6):
        add(engine, hour, (org.shop, "error", ACCEPTED, "", 0, 1))
    with engine.connect() as conn:
        found = outcome_stats.totals(conn, everything(org, DAY_START, DAY_START + 6), [])
    assert found == {(): 2}


def test_filters_narrow_by_category_outcome_reason_and_key(engine: Engine, org: Org) -> None:
    add(
        engine,
        DAY_START,
        (org.shop, "error", ACCEPTED, "", 1, 1),
        (org.shop, "default", ACCEPTED, "", 1, 2),
        (org.shop, "error", RATE_LIMITED, "key_quota", 1, 4),
        (org.shop, "error", RATE_LIMITED, "key_quota", 2, 8),
        (org.shop, "transaction", ACCEPTED, "", 1, 16),
    )
    base = everything(org)
    with engine.connect() as conn:

        def total(**narrow: tuple[str, ...] | tuple[int, ...]) -> int:
            where = OutcomeFilter(base.project_ids, base.from_hour, base.to_hour, **narrow)  # type: ignore[arg-type]
            return sum(outcome_stats.totals(conn, where, []).values())

        assert total(categories=outcome_stats.stored_categories("error")) == 15
        assert total(outcomes=("accepted",)) == 19
        assert total(reasons=("key_quota",)) == 12
        assert total(key_ids=(2,)) == 8
        assert total(categories=("transaction",), outcomes=("rate_limited",)) == 0


def test_sentry_rolls_default_and_security_into_error() -> None:
    assert [outcome_stats.api_category(c) for c in ("error", "default", "security", "session")] == [
        "error",
        "error",
        "error",
        "session",
    ]


def test_an_organization_s_projects_are_listed(engine: Engine, org: Org) -> None:
    with engine.connect() as conn:
        assert outcome_stats.organization_project_ids(conn, org.id) == [org.shop, org.blog]


# ------------------------------------------------------------------------- budget readings


def issue_with_events(engine: Engine, project_id: int, kind: str, events_per_hour: dict[int, int]) -> int:
    new = NewIssue(
        project_id, "error", f"{kind}: boom", "shop.cart", "error", "python", {"type": kind}, 0.0, None
    )
    with write_transaction(engine) as conn:
        issue_id = issues.create_issue(conn, new)
        aggregates.add_issue_counts(conn, {}, {(issue_id, h, ""): n for h, n in events_per_hour.items()})
    return issue_id


def test_the_budget_readings_of_a_month(engine: Engine, org: Org) -> None:
    month = (DAY_START, DAY_START + 30 * 24)
    add(
        engine,
        DAY_START + 2,
        (org.shop, "error", ACCEPTED, "", 0, 40),
        (org.shop, "default", ACCEPTED, "", 0, 2),
        (org.shop, "transaction", FILTERED, "unsupported_item", 0, 9),
        (org.shop, "transaction", FILTERED, "filtered-transaction", 0, 3),
    )
    add(engine, DAY_START - 1, (org.shop, "error", ACCEPTED, "", 0, 1000))  # last month
    add(engine, DAY_START + 5, (org.blog, "error", ACCEPTED, "", 0, 8))
    reset = issue_with_events(
        engine, org.shop, "ConnectionResetError", {DAY_START + 2: 30, DAY_START - 5: 99}
    )
    key = issue_with_events(engine, org.shop, "KeyError", {DAY_START + 2: 10})
    issue_with_events(engine, org.blog, "ValueError", {DAY_START + 2: 500})  # another project
    with write_transaction(engine) as conn:
        conn.execute(
            quota.insert().values(
                organization_id=org.id, project_id=None, category="error", window="month", limit=5000
            )
        )
        conn.execute(
            quota.insert().values(
                organization_id=org.id, project_id=None, category="error", window="day", limit=300
            )
        )
        conn.execute(
            quota.insert().values(
                organization_id=org.id, project_id=org.shop, category="transaction", window="month", limit=900
            )
        )
        conn.execute(
            update(project)
            .where(project.c.id == org.shop)
            .values(
                filters=orjson.dumps(
                    {"error-type": {"on": True, "patterns": ["Broken*"]}, "health-check": {"on": False}}
                ).decode()
            )
        )
    with engine.connect() as conn:
        shop = budget.read_budget(conn, org.id, [org.shop], month, None)
        as_project = budget.read_budget(conn, org.id, [org.shop], month, org.shop)
        assert budget.items_received(conn, [org.shop], *month) == 54
        assert budget.items_received(conn, [org.blog], *month) == 8
    assert shop.accepted == {"error": 42}
    # The organization's quota counts its other projects too (blog's 8 errors).
    assert shop.quotas == {"error": budget.MonthlyQuota(5000, 50, organization_wide=True)}
    assert as_project.quotas == {
        "transaction": budget.MonthlyQuota(900, 0, organization_wide=False),
        "error": budget.MonthlyQuota(5000, 50, organization_wide=True),
    }
    assert [(i.id, i.project_id, i.error_type, i.events) for i in shop.issues] == [
        (reset, org.shop, "ConnectionResetError", 30),
        (key, org.shop, "KeyError", 10),
    ]
    assert shop.issues[0].short_id == "SHOP-1"
    assert shop.transactions == budget.TransactionVolume(received=12, accepted=0, health_checks_filtered=3)
    assert shop.error_type_patterns == frozenset({"Broken*"})
    # shop's transactions had some filtered as health checks (Sentry's stat key): none to suggest.
    assert shop.health_check_off == ()


def test_projects_with_transactions_and_the_health_check_filter_off_are_named(
    engine: Engine, org: Org
) -> None:
    month = (DAY_START, DAY_START + 30 * 24)
    add(
        engine,
        DAY_START + 1,
        (org.shop, "transaction", FILTERED, "unsupported_item", 0, 9),
        (org.blog, "transaction", FILTERED, "unsupported_item", 0, 4),
    )
    with write_transaction(engine) as conn:
        off = orjson.dumps({"health-check": {"on": False}}).decode()
        conn.execute(update(project).where(project.c.id == org.blog).values(filters=off))
    with engine.connect() as conn:
        readings = budget.read_budget(conn, org.id, [org.shop, org.blog], month, None)
    assert readings.health_check_off == (org.blog,)  # shop's filter is on (the default)
    assert readings.transactions.received == 13


def test_a_deleted_and_discarded_issue_is_not_among_the_month_s_issues(engine: Engine, org: Org) -> None:
    gone = issue_with_events(engine, org.shop, "KeyError", {DAY_START + 2: 10})
    with write_transaction(engine) as conn:
        conn.execute(update(issues_table).where(issues_table.c.id == gone).values(status="discarded"))
    with engine.connect() as conn:
        assert budget.issue_volumes(conn, [org.shop], DAY_START, DAY_START + 24) == []
