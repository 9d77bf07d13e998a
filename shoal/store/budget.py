"""What the quota advisor (shoal/quota_advisor.py) reads from the store for a set of projects and a
month: the items accepted per category (outcome counters), the monthly quotas that apply with
what they have used (table `quota`), the issues by their events in the month
(`issue_count_hour`) with their error types, what became of transactions, and what the projects'
inbound filters already drop.

A project's own monthly quota is measured against the project; where it has none, the
organization's is, against all of the organization's projects — that is what ingest's limits
count (shoal/ingest/limits.py), so the advisor and the 429s agree on when the quota runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import orjson
from sqlalchemy import Connection, func, select

from shoal import outcomes
from shoal.outcomes import Category, Outcome
from shoal.store import outcome_stats
from shoal.store.discards import DISCARDED
from shoal.store.inbound_filters import FilterSettings
from shoal.store.outcome_stats import OutcomeFilter
from shoal.store.schema import issue, issue_count_hour, outcome_counter, project, quota

# The reason health checks are filtered under: Shoal's filter's, and Sentry's stat key (outcome
# rows imported or written by another tool).
HEALTH_CHECK_REASONS = (outcomes.FILTER_HEALTH_CHECK, "filtered-transaction")


@dataclass(frozen=True)
class IssueVolume:
    id: int
    project_id: int
    short_id: str  # "SHOP-12"
    title: str
    error_type: str  # the exception type ("" for a message)
    events: int  # in the month read


@dataclass(frozen=True)
class TransactionVolume:
    received: int  # every transaction that reached Shoal this month, whatever became of it
    accepted: int
    health_checks_filtered: int


@dataclass(frozen=True)
class MonthlyQuota:
    limit: int
    used: int  # accepted this month by what the quota covers
    organization_wide: bool  # the organization's quota, over all its projects


@dataclass(frozen=True)
class BudgetReadings:
    accepted: dict[str, int]  # API category ("error", "transaction", …) → accepted this month
    quotas: dict[str, MonthlyQuota]  # API category → the monthly quota that applies, if any
    issues: list[IssueVolume]  # issues with events this month, the most first
    transactions: TransactionVolume
    # The error-type patterns of the projects whose error-type filter is on, and the projects
    # that received transactions this month with their health-check filter off.
    error_type_patterns: frozenset[str]
    health_check_off: tuple[int, ...]


def read_budget(
    conn: Connection,
    organization_id: int,
    project_ids: Sequence[int],
    month_hours: tuple[int, int],
    quota_project_id: int | None,
) -> BudgetReadings:
    """The readings for `project_ids` over the hours `month_hours` (first inclusive, last
    exclusive); the quotas of the project `quota_project_id` (then the organization's where it
    has none), or the organization's when None."""
    where = OutcomeFilter(tuple(project_ids), *month_hours)
    filters = project_filters(conn, project_ids)
    accepted = accepted_per_category(conn, where)
    return BudgetReadings(
        accepted=accepted,
        quotas=applying_quotas(conn, organization_id, quota_project_id, accepted, month_hours),
        issues=issue_volumes(conn, project_ids, *month_hours),
        transactions=transaction_volume(conn, where),
        error_type_patterns=frozenset(
            pattern
            for settings in filters.values()
            if settings.is_on(outcomes.FILTER_ERROR_TYPE)
            for pattern in settings.patterns_of(outcomes.FILTER_ERROR_TYPE)
        ),
        health_check_off=tuple(
            project_id
            for project_id in transaction_projects(conn, where)
            if not filters[project_id].is_on(outcomes.FILTER_HEALTH_CHECK)
        ),
    )


def applying_quotas(
    conn: Connection,
    organization_id: int,
    project_id: int | None,
    accepted: dict[str, int],
    month_hours: tuple[int, int],
) -> dict[str, MonthlyQuota]:
    """Per API category, the project's own monthly quota (used: `accepted`, the project's), else
    the organization's (used: what all of its projects accepted)."""
    found: dict[str, MonthlyQuota] = {}
    if project_id is not None:
        for category, limit in monthly_quotas(conn, organization_id, project_id).items():
            found[category] = MonthlyQuota(limit, accepted.get(category, 0), organization_wide=False)
    organization_limits = monthly_quotas(conn, organization_id, None)
    if organization_limits.keys() - found.keys():
        everything = OutcomeFilter(
            tuple(outcome_stats.organization_project_ids(conn, organization_id)), *month_hours
        )
        used = accepted_per_category(conn, everything)
        for category, limit in organization_limits.items():
            found.setdefault(category, MonthlyQuota(limit, used.get(category, 0), organization_wide=True))
    return found


def transaction_projects(conn: Connection, where: OutcomeFilter) -> list[int]:
    """The projects that received transactions and had none filtered as health checks."""
    rows = outcome_stats.totals(
        conn, replace(where, categories=(Category.TRANSACTION.value,)), ["project", "outcome", "reason"]
    )
    received = {int(project_id) for project_id, _, _ in rows}
    checked = {
        int(project_id)
        for project_id, outcome, reason in rows
        if outcome == Outcome.FILTERED and reason in HEALTH_CHECK_REASONS
    }
    return sorted(received - checked)


def accepted_per_category(conn: Connection, where: OutcomeFilter) -> dict[str, int]:
    rows = outcome_stats.totals(conn, replace(where, outcomes=(Outcome.ACCEPTED.value,)), ["category"])
    accepted: dict[str, int] = {}
    for (category,), quantity in rows.items():
        name = outcome_stats.api_category(str(category))
        accepted[name] = accepted.get(name, 0) + quantity
    return accepted


def transaction_volume(conn: Connection, where: OutcomeFilter) -> TransactionVolume:
    rows = outcome_stats.totals(
        conn, replace(where, categories=(Category.TRANSACTION.value,)), ["outcome", "reason"]
    )
    health = sum(
        n
        for (outcome, reason), n in rows.items()
        if outcome == Outcome.FILTERED and reason in HEALTH_CHECK_REASONS
    )
    return TransactionVolume(
        received=sum(rows.values()),
        accepted=sum(n for (outcome, _), n in rows.items() if outcome == Outcome.ACCEPTED),
        health_checks_filtered=health,
    )


def monthly_quotas(conn: Connection, organization_id: int, project_id: int | None) -> dict[str, int]:
    """The monthly limits per API category of the project, or of the organization (project None)."""
    owner = quota.c.project_id.is_(None) if project_id is None else quota.c.project_id == project_id
    rows = conn.execute(
        select(quota.c.category, quota.c.limit).where(
            quota.c.organization_id == organization_id, owner, quota.c.window == "month"
        )
    )
    return {outcome_stats.api_category(row.category): int(row.limit) for row in rows}


def issue_volumes(
    conn: Connection, project_ids: Sequence[int], from_hour: int, to_hour: int
) -> list[IssueVolume]:
    """Every issue of the projects with events in the hours, the most first (then the oldest),
    but those deleted and discarded."""
    events = func.sum(issue_count_hour.c.events).label("events")
    rows = conn.execute(
        select(
            issue.c.id,
            issue.c.project_id,
            issue.c.short_id,
            issue.c.title,
            issue.c.metadata,
            project.c.slug,
            events,
        )
        .join(issue, issue.c.id == issue_count_hour.c.issue_id)
        .join(project, project.c.id == issue.c.project_id)
        .where(
            issue.c.project_id.in_(sorted(project_ids)),
            # Already dropped before it is stored: nothing more to save on it.
            issue.c.status != DISCARDED,
            issue_count_hour.c.hour >= from_hour,
            issue_count_hour.c.hour < to_hour,
        )
        .group_by(
            issue.c.id, issue.c.project_id, issue.c.short_id, issue.c.title, issue.c.metadata, project.c.slug
        )
        .order_by(events.desc(), issue.c.id)
    )
    return [
        IssueVolume(
            row.id,
            row.project_id,
            f"{row.slug.upper()}-{row.short_id}",
            row.title,
            _error_type(row.metadata),
            int(row.events),
        )
        for row in rows
    ]


def _error_type(metadata: str) -> str:
    try:
        found = orjson.loads(metadata)
    except orjson.JSONDecodeError:
        return ""
    kind = found.get("type") if isinstance(found, dict) else None
    return kind if isinstance(kind, str) else ""


def project_filters(conn: Connection, project_ids: Sequence[int]) -> dict[int, FilterSettings]:
    """The projects' inbound filter settings (shoal.store.inbound_filters)."""
    rows = conn.execute(select(project.c.id, project.c.filters).where(project.c.id.in_(sorted(project_ids))))
    return {int(row.id): FilterSettings.from_json(row.filters) for row in rows}


def items_received(conn: Connection, project_ids: Sequence[int], from_hour: int, to_hour: int) -> int:
    """How many items of any kind reached Shoal for the projects in the hours, whatever became of
    them: whether there is anything to report."""
    found = conn.execute(
        select(func.sum(outcome_counter.c.quantity)).where(
            outcome_counter.c.project_id.in_(sorted(project_ids)),
            outcome_counter.c.hour >= from_hour,
            outcome_counter.c.hour < to_hour,
        )
    ).scalar()
    return int(found or 0)
