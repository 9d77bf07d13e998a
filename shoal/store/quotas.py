"""Quotas of organizations and projects, and spike protection's settings: what ingest's limits
(shoal/ingest/limits.py) read and the project settings page changes (docs/quotas.md).

A quota is "at most `limit` items of a category per window" for an organization (all its
projects together) or one project. Spike protection is a per-project hourly limit computed from
the project's own recent volume: max(floor, multiplier × the average hourly count of the last 7
days), on by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from shoal.outcomes import SPIKE_PROTECTION, Outcome
from shoal.store.db import upsert
from shoal.store.quota_usage import current_key, shown_usage, window_bounds
from shoal.store.schema import outcome_counter, project, quota, quota_usage, spike_protection_setting

# The categories a quota can limit and the windows it can count in. Attachments are counted in
# bytes, as Sentry does; everything else in items.
CATEGORIES = ("error", "transaction", "attachment", "session", "monitor", "feedback")
WINDOWS = ("minute", "hour", "day", "month")
MAX_LIMIT = 10**15
# The item categories (shoal/outcomes.py) each quota category governs: the error quota covers
# Sentry's "error categories" (default, error, security), as its key quotas do. These are also the
# categories X-Sentry-Rate-Limits names, so an SDK stops sending exactly what would be dropped.
GOVERNED = {
    "error": ("default", "error", "security"),
    "transaction": ("transaction",),
    "attachment": ("attachment",),
    "session": ("session",),
    "monitor": ("monitor",),
    "feedback": ("feedback",),
}
# Item category → the quota category that counts it.
QUOTA_CATEGORY = {item: quota for quota, items in GOVERNED.items() for item in items}
# The chapter's plan (seed-chapter.txt): 5,000 errors and 10,000 transactions a month.
PLAN_PRESET = (("error", "month", 5_000), ("transaction", "month", 10_000))

# Spike protection: the categories it watches, and its defaults. The floor is of the order of
# Sentry's (a tenth of its smallest plan's monthly volume: 500 errors, 1,000 transactions an hour)
# and two orders above the chapter's own volume (100-500 errors a month); the multiplier applies
# to a plain weekly average, which lies well below a daily peak, where Sentry's factor of 3-6
# applies to a seasonality-weighted one (reference: alerts-filters-quotas-releases.md §5.3).
SPIKE_CATEGORIES = ("error", "transaction")
SPIKE_FLOOR = 1_000
SPIKE_MULTIPLIER = 10
SPIKE_BASELINE_HOURS = 7 * 24
# The baseline is averaged over the hours since the project's first counted one, but never fewer
# than a day's: one busy first hour does not become the baseline by itself.
SPIKE_MIN_HOURS = 24
# Items spike protection dropped weigh in the baseline 10 % after a day, 1 % after two (as
# Sentry's), so a lasting rise in volume raises the limit within hours, and a spike is forgotten.
SPIKE_DROP_DECAY_HOURS = 24
MAX_SPIKE_MULTIPLIER = 1_000


@dataclass(frozen=True)
class Quota:
    id: int
    organization_id: int
    project_id: int | None  # None: the organization's, over all its projects
    category: str
    window: str
    limit: int

    @property
    def scope(self) -> str:
        return "organization" if self.project_id is None else "project"


@dataclass(frozen=True)
class SpikeProtection:
    enabled: bool = True
    floor: int = SPIKE_FLOOR
    multiplier: int = SPIKE_MULTIPLIER

    def limit(self, baseline: float) -> int:
        """The hourly limit for a category whose baseline (`hourly_baseline`) is this."""
        return max(self.floor, int(self.multiplier * baseline))


@dataclass(frozen=True)
class SpikeLimit:
    """Spike protection's hourly limit of one category now, and what it was computed from."""

    category: str
    baseline: float
    limit: int


@dataclass(frozen=True)
class QuotaUsage:
    """A quota with what its window counted so far (as of the last flush of every web process)
    and when the window ends."""

    quota: Quota
    used: int
    resets_at: int


def _quota(row: Any) -> Quota:
    project_id = row.project_id
    return Quota(
        id=int(row.id),
        organization_id=int(row.organization_id),
        project_id=None if project_id is None else int(project_id),
        category=str(row.category),
        window=str(row.window),
        limit=int(row.limit),
    )


def project_quotas(conn: Connection, project_id: int) -> list[Quota]:
    """The project's own quotas."""
    rows = conn.execute(
        select(quota).where(quota.c.project_id == project_id).order_by(quota.c.category, quota.c.window)
    )
    return [_quota(row) for row in rows]


def organization_quotas(conn: Connection, organization_id: int) -> list[Quota]:
    """The organization's quotas, over all its projects."""
    rows = conn.execute(
        select(quota)
        .where(quota.c.organization_id == organization_id, quota.c.project_id.is_(None))
        .order_by(quota.c.category, quota.c.window)
    )
    return [_quota(row) for row in rows]


def with_usage(conn: Connection, found: Sequence[Quota], now: float) -> list[QuotaUsage]:
    """Each quota with the count of the window `now` is in."""
    counters = {
        q.id: current_key(q.scope, q.project_id or q.organization_id, q.category, q.window, now)
        for q in found
    }
    totals = shown_usage(conn, counters.values())
    return [
        QuotaUsage(q, totals.get(counters[q.id], 0), window_bounds(q.window, counters[q.id].scope_id, now)[1])
        for q in found
    ]


def get_quota(conn: Connection, quota_id: int) -> Quota | None:
    row = conn.execute(select(quota).where(quota.c.id == quota_id)).first()
    return _quota(row) if row else None


def set_quota(
    conn: Connection, organization_id: int, project_id: int | None, *, category: str, window: str, limit: int
) -> None:
    """Add the quota, or change the limit of the one with the same scope, category and window."""
    if category not in CATEGORIES or window not in WINDOWS or not 0 <= limit <= MAX_LIMIT:
        raise ValueError(f"not a quota: {category} per {window}, {limit}")
    match = (
        quota.c.organization_id == organization_id,
        quota.c.project_id.is_(None) if project_id is None else quota.c.project_id == project_id,
        quota.c.category == category,
        quota.c.window == window,
    )
    # Not an upsert: the unique constraint does not hold for organization quotas (NULL project).
    if conn.execute(update(quota).where(*match).values(limit=limit)).rowcount == 0:
        conn.execute(
            quota.insert().values(
                organization_id=organization_id,
                project_id=project_id,
                category=category,
                window=window,
                limit=limit,
            )
        )


def delete_quota(conn: Connection, quota_id: int) -> bool:
    return conn.execute(delete(quota).where(quota.c.id == quota_id)).rowcount > 0


def apply_plan_preset(conn: Connection, organization_id: int, project_id: int | None = None) -> None:
    """The chapter's plan as the organization's quotas, or the project's."""
    for category, window, limit in PLAN_PRESET:
        set_quota(conn, organization_id, project_id, category=category, window=window, limit=limit)


# ---------------------------------------------------------------------------- spike protection


def spike_protection(conn: Connection, project_id: int) -> SpikeProtection:
    enabled = conn.execute(select(project.c.spike_protection).where(project.c.id == project_id)).scalar()
    row = conn.execute(
        select(spike_protection_setting).where(spike_protection_setting.c.project_id == project_id)
    ).first()
    return SpikeProtection(
        enabled=enabled is not False,
        floor=int(row.floor) if row else SPIKE_FLOOR,
        multiplier=int(row.multiplier) if row else SPIKE_MULTIPLIER,
    )


def set_spike_protection(conn: Connection, project_id: int, settings: SpikeProtection) -> None:
    if settings.floor < 1 or not 1 <= settings.multiplier <= MAX_SPIKE_MULTIPLIER:
        raise ValueError(f"not a spike protection setting: {settings}")
    conn.execute(update(project).where(project.c.id == project_id).values(spike_protection=settings.enabled))
    stmt = upsert(spike_protection_setting, conn).values(
        project_id=project_id, floor=settings.floor, multiplier=settings.multiplier
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["project_id"],
            set_={"floor": stmt.excluded.floor, "multiplier": stmt.excluded.multiplier},
        )
    )


def spike_limits(
    conn: Connection, project_id: int, settings: SpikeProtection, hour_start: int
) -> list[SpikeLimit]:
    """Spike protection's limit of each category it watches, for the hour starting at `hour_start`."""
    limits = []
    for category in SPIKE_CATEGORIES:
        baseline = hourly_baseline(conn, project_id, category, hour_start)
        limits.append(SpikeLimit(category, baseline, settings.limit(baseline)))
    return limits


def hourly_baseline(conn: Connection, project_id: int, category: str, hour_start: int) -> float:
    """Spike protection's baseline: the project's average count of `category` an hour over the
    7 days before `hour_start`. Each hour counts what ingest let through, plus what spike
    protection dropped, decayed with its age; the hours are those since the first one with any
    count (at least SPIKE_MIN_HOURS), so a new project is not averaged with hours it did not exist."""
    first = hour_start - SPIKE_BASELINE_HOURS * 3600
    counted = _admitted_by_hour(conn, project_id, category, first, hour_start)
    for start, dropped in _spike_dropped_by_hour(conn, project_id, category, first, hour_start).items():
        age_hours = (hour_start - start) / 3600
        weight = 0.1 ** (age_hours / SPIKE_DROP_DECAY_HOURS)
        counted[start] = counted.get(start, 0) + dropped * weight
    if not counted:
        return 0.0
    hours = max(SPIKE_MIN_HOURS, (hour_start - min(counted)) // 3600)
    return sum(counted.values()) / hours


def _admitted_by_hour(
    conn: Connection, project_id: int, category: str, first: int, end: int
) -> dict[int, float]:
    rows = conn.execute(
        select(quota_usage.c.window_start, quota_usage.c["count"]).where(
            quota_usage.c.scope == "project",
            quota_usage.c.scope_id == project_id,
            quota_usage.c.category == category,
            quota_usage.c.window == "hour",
            quota_usage.c.window_start >= first,
            quota_usage.c.window_start < end,
        )
    )
    return {int(start): float(count) for start, count in rows if count}


def _spike_dropped_by_hour(
    conn: Connection, project_id: int, category: str, first: int, end: int
) -> dict[int, float]:
    rows = conn.execute(
        select(outcome_counter.c.hour, func.sum(outcome_counter.c.quantity).label("dropped"))
        .where(
            outcome_counter.c.project_id == project_id,
            outcome_counter.c.hour >= first // 3600,
            outcome_counter.c.hour < end // 3600,
            outcome_counter.c.category.in_(GOVERNED[category]),
            outcome_counter.c.outcome == Outcome.RATE_LIMITED.value,
            outcome_counter.c.reason == SPIKE_PROTECTION,
        )
        .group_by(outcome_counter.c.hour)
    )
    return {int(row.hour) * 3600: float(row.dropped) for row in rows}


def rate_limited_since(conn: Connection, project_id: int, since_hour: int) -> dict[tuple[str, str], int]:
    """What ingest refused for the project since that hour (hours since the epoch), by reason and
    category: what the settings page shows next to the limits."""
    rows = conn.execute(
        select(
            outcome_counter.c.reason,
            outcome_counter.c.category,
            func.sum(outcome_counter.c.quantity).label("quantity"),
        )
        .where(
            outcome_counter.c.project_id == project_id,
            outcome_counter.c.hour >= since_hour,
            outcome_counter.c.outcome == Outcome.RATE_LIMITED.value,
        )
        .group_by(outcome_counter.c.reason, outcome_counter.c.category)
        .order_by(outcome_counter.c.reason, outcome_counter.c.category)
    )
    return {(str(row.reason), str(row.category)): int(row.quantity) for row in rows}
