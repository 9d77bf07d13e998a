"""The usage counters behind quotas, rate limits and spike protection (`quota_usage`).

A web process counts what it lets through in memory and adds its counts here every few seconds
(shoal/ingest/limits.py). The add is an upsert that returns the new totals, so each process learns
what all of them let through, on PostgreSQL as on SQLite, in one statement per flush.

The digest gives back what an inbound filter then dropped (`refund`, docs/quotas.md "Filtered
events cost no quota"), in the transaction that counts the item as filtered: Sentry filters before
it counts quotas, so a filtered event costs none.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Connection, and_, case, delete, or_, select, tuple_, update

from shoal.store.db import upsert
from shoal.store.schema import project, project_key, quota, quota_usage

# How long a finished window's count is kept, by window: the hourly counts of the last week are
# spike protection's baseline; a day or a month is shown on the settings page a while after.
KEPT_SECONDS = {"minute": 3_600, "hour": 8 * 86_400, "day": 40 * 86_400, "month": 400 * 86_400}
KEPT_SECONDS_OTHER = 2 * 86_400  # a key's own window (at most a day)
# Rows per statement: 6 columns each, well under SQLite's 32,766 bound parameters.
_CHUNK = 500
_FIXED_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}
# Counted for every item ingest lets through, limit or not (shoal/ingest/limits.py): what a quota
# set later starts from, the settings page's usage and spike protection's baseline.
ALWAYS_COUNTED = (("project", "hour"), ("project", "day"), ("project", "month"))
ALWAYS_COUNTED_ORG = (("organization", "hour"), ("organization", "day"), ("organization", "month"))
# A window that ended this long ago holds every web process's counts (each flushes every 2 s and
# reads a total again after 6 s at most): a refund takes it no lower than zero, and skips it when
# its row is gone (pruned). A window still open may not hold the counts of its last 2 seconds yet.
SETTLED_SECONDS = 60


class UsageKey(NamedTuple):
    scope: str  # key | project | organization
    scope_id: int
    category: str
    window: str  # minute | hour | day | month | "<seconds>s"
    window_start: int


def window_bounds(window: str, scope_id: int, now: float) -> tuple[int, int]:
    """The [start, end) of the window `now` is in. Minutes, hours, days and months are UTC's; a
    key's own window of n seconds is shifted by its id modulo n, as Sentry shifts its quota
    windows, so that the keys' windows do not all reset in the same second."""
    if window == "month":
        return _month_of_day(int(now // 86_400))
    seconds = _FIXED_SECONDS.get(window)
    if seconds is not None:
        start = int(now // seconds) * seconds
        return start, start + seconds
    length = int(window.removesuffix("s"))
    shift = scope_id % length
    start = int((now - shift) // length) * length + shift
    return start, start + length


def window_end_bound(key: UsageKey) -> int:
    """When the counter's window ends at the latest (a month: after 31 days)."""
    if key.window == "month":
        return key.window_start + 31 * 86_400
    return key.window_start + (_FIXED_SECONDS.get(key.window) or int(key.window.removesuffix("s")))


@functools.lru_cache(maxsize=8)
def _month_of_day(day_number: int) -> tuple[int, int]:
    """Cached by day: every item let through asks for its month's counters."""
    day = datetime.fromtimestamp(day_number * 86_400, UTC)
    start = day.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return int(start.timestamp()), int(end.timestamp())


def current_key(scope: str, scope_id: int, category: str, window: str, now: float) -> UsageKey:
    """The counter of the window `now` is in."""
    return UsageKey(scope, scope_id, category, window, window_bounds(window, scope_id, now)[0])


def add_usage(conn: Connection, increments: Mapping[UsageKey, int]) -> dict[UsageKey, int]:
    """Add the counts (0 is fine: it only reads the total) and return each counter's new total."""
    totals: dict[UsageKey, int] = {}
    keys = sorted(increments)  # one order for every process: no deadlock between two flushes
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = [{**key._asdict(), "count": increments[key]} for key in chunk]
        insert = upsert(quota_usage, conn).values(rows)
        stmt = insert.on_conflict_do_update(
            index_elements=list(UsageKey._fields),
            set_={"count": quota_usage.c["count"] + insert.excluded["count"]},
        ).returning(*(quota_usage.c[name] for name in UsageKey._fields), quota_usage.c["count"])
        for row in conn.execute(stmt):
            totals[UsageKey(*row[:5])] = int(row[5])
    return totals


def usage(conn: Connection, keys: Iterable[UsageKey]) -> dict[UsageKey, int]:
    """The stored totals of these counters (absent: none counted yet)."""
    wanted = list(keys)
    found: dict[UsageKey, int] = {}
    columns = [quota_usage.c[name] for name in UsageKey._fields]
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = conn.execute(select(*columns, quota_usage.c["count"]).where(tuple_(*columns).in_(chunk)))
        found.update({UsageKey(*row[:5]): int(row[5]) for row in rows})
    return found


def shown_usage(conn: Connection, keys: Iterable[UsageKey]) -> dict[UsageKey, int]:
    """The totals as a page shows them: a counter the digest refunded before a web process wrote
    its last counts is below zero until that flush (`refund`), and shown as 0 meanwhile."""
    return {key: max(0, total) for key, total in usage(conn, keys).items()}


def prune(conn: Connection, now: float) -> int:
    """Delete the counts of windows that started longer ago than their window's KEPT_SECONDS."""
    named = [
        and_(quota_usage.c.window == window, quota_usage.c.window_start < now - kept)
        for window, kept in KEPT_SECONDS.items()
    ]
    other = and_(
        quota_usage.c.window.not_in(list(KEPT_SECONDS)), quota_usage.c.window_start < now - KEPT_SECONDS_OTHER
    )
    return conn.execute(delete(quota_usage).where(or_(*named, other))).rowcount


class Refund(NamedTuple):
    """Items ingest counted and the digest then filtered: of which project and DSN key, in which
    quota category, counted when (SpoolEntry.received_at, whole seconds: windows start on one)."""

    project_id: int
    key_id: int  # 0: not known (no key counter is refunded)
    category: str  # a quota category: error | transaction
    received_at: int


def refund(conn: Connection, refunds: Mapping[Refund, int], now: float) -> dict[UsageKey, int]:
    """Subtract the items from every counter ingest added them to; return what was subtracted
    from which counter. One statement per counter row (a batch's items share most of them).

    A window still open may lack ingest's last 2 seconds of counts (the digest can be faster than
    the flush), so it is refunded as a signed add, creating the row if need be: the flush then
    adds the item and the total is right, and until then the limiter's view, the stored total plus
    its own counts not yet written, is right too. A settled window (SETTLED_SECONDS) is refunded
    down to zero at most, and not at all when its row is gone."""
    decrements = counters_of(conn, refunds)
    open_windows = {key: -n for key, n in decrements.items() if not _settled(key, now)}
    add_usage(conn, open_windows)
    for key in sorted(set(decrements) - set(open_windows)):  # one order: no deadlock between workers
        n = decrements[key]
        conn.execute(
            update(quota_usage)
            .where(*(quota_usage.c[name] == value for name, value in key._asdict().items()))
            .values(count=case((quota_usage.c["count"] > n, quota_usage.c["count"] - n), else_=0))
        )
    return dict(decrements)


def counters_of(conn: Connection, refunds: Mapping[Refund, int]) -> Counter[UsageKey]:
    """The counters ingest added these items to, and how much: the project's and organization's
    always-counted hour, day and month, the windows of their quotas of the category, and for an
    error, the key's own window if it has a rate limit (read as they are now: a limit changed since
    the item was counted is refunded as it is now)."""
    if not refunds:
        return Counter()
    project_ids = {r.project_id for r in refunds}
    organizations = _organizations(conn, project_ids)
    windows = _quota_windows(conn, organizations, {r.category for r in refunds})
    key_windows = _key_windows(conn, {r.key_id for r in refunds if r.category == "error"} - {0})
    found: Counter[UsageKey] = Counter()
    for item, n in refunds.items():
        organization_id = organizations.get(item.project_id)
        if organization_id is None:
            continue  # the project was deleted meanwhile: its counters went with it
        scopes = [("project", item.project_id), ("organization", organization_id)]
        for scope, scope_id in scopes:
            for window in windows.get((scope, scope_id, item.category), ()):
                found[current_key(scope, scope_id, item.category, window, item.received_at)] += n
        if item.category == "error" and item.key_id in key_windows:
            found[current_key("key", item.key_id, "error", key_windows[item.key_id], item.received_at)] += n
    return found


def _settled(key: UsageKey, now: float) -> bool:
    _, end = window_bounds(key.window, key.scope_id, key.window_start)
    return end <= now - SETTLED_SECONDS


def _organizations(conn: Connection, project_ids: set[int]) -> dict[int, int]:
    rows = conn.execute(select(project.c.id, project.c.organization_id).where(project.c.id.in_(project_ids)))
    return {int(row.id): int(row.organization_id) for row in rows}


def _quota_windows(
    conn: Connection, organizations: Mapping[int, int], categories: set[str]
) -> dict[tuple[str, int, str], set[str]]:
    """(scope, scope id, category) → the windows ingest counts in: the always-counted ones and
    those of the quotas of the project (or of its organization, over all its projects)."""
    windows: dict[tuple[str, int, str], set[str]] = {}
    for category in categories:
        for project_id, organization_id in organizations.items():
            windows[("project", project_id, category)] = {w for _, w in ALWAYS_COUNTED}
            windows[("organization", organization_id, category)] = {w for _, w in ALWAYS_COUNTED_ORG}
    if not organizations:
        return windows
    rows = conn.execute(
        select(quota.c.organization_id, quota.c.project_id, quota.c.category, quota.c.window).where(
            quota.c.category.in_(categories),
            or_(
                quota.c.project_id.in_(list(organizations)),
                and_(quota.c.project_id.is_(None), quota.c.organization_id.in_(set(organizations.values()))),
            ),
        )
    )
    for row in rows:
        if row.project_id is None:
            found = ("organization", int(row.organization_id), str(row.category))
        else:
            found = ("project", int(row.project_id), str(row.category))
        windows.setdefault(found, set()).add(str(row.window))
    return windows


def _key_windows(conn: Connection, key_ids: set[int]) -> dict[int, str]:
    """Key id → its rate limit's window ("<seconds>s"), for the keys that have one."""
    if not key_ids:
        return {}
    rows = conn.execute(
        select(project_key.c.id, project_key.c.rate_limit_window).where(
            project_key.c.id.in_(key_ids),
            project_key.c.rate_limit_count.is_not(None),
            project_key.c.rate_limit_window.is_not(None),
        )
    )
    return {int(row.id): f"{int(row.rate_limit_window)}s" for row in rows}
