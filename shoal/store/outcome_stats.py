"""Reads of the outcome counters: how many items of each category ended accepted, filtered, rate
limited, invalid or client-discarded, per reason, DSN key and project, over a range of hours,
summed into buckets of whole hours (an hour, a day) or into one total. The Stats page, `stats_v2`
and the quota advisor read them.

`outcome_counter` has one row per project, UTC hour, category, outcome, reason and key (written by
ingest and the digest through `aggregates.add_outcomes`), so every answer is exact to the hour and
buckets are aligned on UTC hours: a bucket of 24 hours is a UTC day (`hour // 24`).

Callers always name the projects they read: who may see which project is decided above the store
(shoal.web.auth, shoal.api.auth), and a read of "the organization" is a read of the projects the
reader may see in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select

from shoal.store.schema import outcome_counter, project

HOUR = 3600
DAY_HOURS = 24

# Sentry counts these three stored categories as one, "error" (its stats_v2 rolls default and
# security events into errors), and so do its error quotas.
ERROR_CATEGORIES = ("error", "default", "security")

# What a read can be grouped by, and the column each reads.
DIMENSIONS: dict[str, ColumnElement[object]] = {
    "outcome": outcome_counter.c.outcome,
    "category": outcome_counter.c.category,
    "reason": outcome_counter.c.reason,
    "project": outcome_counter.c.project_id,
    "key": outcome_counter.c.key_id,
}

_Query = Select[*tuple[Any, ...]]
GroupKey = tuple[str | int, ...]  # one value per dimension grouped by, in the order asked


@dataclass(frozen=True)
class OutcomeFilter:
    """Which counters a read sums: those of `project_ids` (none: nothing) in the hours from
    `from_hour` (inclusive) to `to_hour` (exclusive), both unix seconds // 3600; and, when given,
    only these stored categories, outcomes, reasons and key ids."""

    project_ids: tuple[int, ...]
    from_hour: int
    to_hour: int
    categories: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    key_ids: tuple[int, ...] = ()


def api_category(stored: str) -> str:
    """The category as Sentry's API and the Stats page name it."""
    return "error" if stored in ERROR_CATEGORIES else stored


def stored_categories(api_name: str) -> tuple[str, ...]:
    """The stored categories behind one of Sentry's API category names."""
    return ERROR_CATEGORIES if api_name == "error" else (api_name,)


def bucketed(
    conn: Connection, where: OutcomeFilter, group_by: Sequence[str], bucket_hours: int
) -> dict[GroupKey, dict[int, int]]:
    """The quantities per group and bucket: {group key: {first hour of the bucket: quantity}}.
    Buckets of `bucket_hours` hours start at hours divisible by it (24: UTC days); a bucket with
    nothing is absent. Stored categories are grouped as stored (see `api_category`)."""
    columns = [DIMENSIONS[name] for name in group_by]
    bucket = (outcome_counter.c.hour // bucket_hours) * bucket_hours
    query: _Query = select(*columns, bucket, func.sum(outcome_counter.c.quantity))
    query = _filtered(query, where)
    found: dict[GroupKey, dict[int, int]] = defaultdict(dict)
    for row in conn.execute(query.group_by(*columns, bucket)):
        key, start, quantity = tuple(row[:-2]), row[-2], row[-1]
        found[key][int(start)] = int(quantity)
    return dict(found)


def totals(conn: Connection, where: OutcomeFilter, group_by: Sequence[str]) -> dict[GroupKey, int]:
    """The quantity per group over the whole range; groups with nothing are absent."""
    columns = [DIMENSIONS[name] for name in group_by]
    query: _Query = select(*columns, func.sum(outcome_counter.c.quantity))
    query = _filtered(query, where)
    if columns:
        query = query.group_by(*columns)
    found: dict[GroupKey, int] = {}
    for row in conn.execute(query):
        quantity = row[-1]
        if quantity is not None:  # an ungrouped sum over no rows is one row of NULL
            found[tuple(row[:-1])] = int(quantity)
    return found


def _filtered(query: _Query, where: OutcomeFilter) -> _Query:
    c = outcome_counter.c
    query = query.where(
        c.project_id.in_(sorted(where.project_ids)), c.hour >= where.from_hour, c.hour < where.to_hour
    )
    for column, values in (
        (c.category, where.categories),
        (c.outcome, where.outcomes),
        (c.reason, where.reasons),
        (c.key_id, where.key_ids),
    ):
        if values:
            query = query.where(column.in_(sorted(set(values))))
    return query


def organization_project_ids(conn: Connection, organization_id: int) -> list[int]:
    rows = conn.execute(
        select(project.c.id).where(project.c.organization_id == organization_id).order_by(project.c.id)
    )
    return [int(project_id) for project_id in rows.scalars()]
