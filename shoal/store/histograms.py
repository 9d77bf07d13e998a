"""Reads of the per-hour event counts behind charts: an issue's events per hour over a period.

The per-minute counts are kept only about a day (`aggregates.prune_minute_counts`), so anything
drawn over hours or days reads `issue_count_hour`, which keeps one row per issue, hour and
environment for as long as events are kept.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from shoal.store.schema import issue_count_hour


def events_per_hour(conn: Connection, issue_id: int, from_hour: int, to_hour: int) -> dict[int, int]:
    """Events of the issue per hour bucket (unix seconds // 3600) from `from_hour` to `to_hour`
    inclusive, all environments summed; hours without events are absent. One range scan of the
    table's primary key (issue, hour, environment)."""
    rows = conn.execute(
        select(issue_count_hour.c.hour, func.sum(issue_count_hour.c.events))
        .where(
            issue_count_hour.c.issue_id == issue_id,
            issue_count_hour.c.hour >= from_hour,
            issue_count_hour.c.hour <= to_hour,
        )
        .group_by(issue_count_hour.c.hour)
    )
    return {int(hour): int(total) for hour, total in rows}
