"""Cron monitors, their state per environment and their check-ins: reading and writing the
`monitor`, `monitor_environment` and `monitor_checkin` rows. What a check-in does to its monitor
is decided in shoal/digest/monitor_check_ins.py; the scheduler's missed and timed-out check-ins in
shoal/crons/overdue.py.

The scheduler's changes are conditional updates (`advance_missed`, `close_check_in`): when two
processes find the same overdue environment, only the one whose update changed the row goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from shoal.crons.schedule import MonitorConfig, Schedule
from shoal.store import triage
from shoal.store.schema import issue, monitor, monitor_checkin, monitor_environment

FAILING = frozenset({"error", "missed", "timeout"})
CLOSED = frozenset({"ok", "error", "missed", "timeout"})
_STATUS_RANK = {"active": 0, "ok": 1, "error": 2, "timeout": 3, "missed": 4}


@dataclass(frozen=True)
class MonitorRow:
    id: int
    project_id: int
    slug: str
    config: MonitorConfig
    muted: bool
    config_error: str | None
    created_at: float


@dataclass(frozen=True)
class EnvironmentRow:
    """A monitor's state in one environment."""

    id: int
    monitor_id: int
    environment: str
    status: str  # active (no check-in yet) | ok | error | missed | timeout
    consecutive_failures: int
    consecutive_successes: int
    last_checkin: float | None
    next_checkin: float | None
    next_checkin_latest: float | None
    created_at: float


@dataclass(frozen=True)
class CheckInRow:
    id: int
    monitor_id: int
    monitor_environment_id: int
    check_in_id: str
    status: str
    environment: str
    release: str | None
    duration: float | None
    expected_at: float | None
    timeout_at: float | None
    date_added: float
    date_updated: float


@dataclass(frozen=True)
class NewCheckIn:
    monitor_id: int
    monitor_environment_id: int
    project_id: int
    check_in_id: str
    status: str
    at: float
    environment: str
    release: str | None = None
    duration: float | None = None
    expected_at: float | None = None
    timeout_at: float | None = None
    trace_id: str | None = None


def worst_status(environments: Sequence[EnvironmentRow]) -> str:
    """What a monitor's list row shows: its worst environment's status (a failure over ok over
    active), or active before its first check-in."""
    return max((row.status for row in environments), key=_STATUS_RANK.__getitem__, default="active")


# ------------------------------------------------------------------------------------- monitors


def _config_values(config: MonitorConfig) -> dict[str, Any]:
    schedule = config.schedule
    return {
        "schedule_type": schedule.kind if schedule else None,
        "schedule": schedule.value if schedule else None,
        "interval_unit": (schedule.unit or None) if schedule else None,
        "checkin_margin": config.checkin_margin,
        "max_runtime": config.max_runtime,
        "timezone": config.timezone,
        "failure_issue_threshold": config.failure_issue_threshold,
        "recovery_threshold": config.recovery_threshold,
    }


def _monitor_row(row: Row[Any]) -> MonitorRow:
    schedule = None
    if row.schedule_type is not None:
        schedule = Schedule(row.schedule_type, row.schedule, row.interval_unit or "")
    config = MonitorConfig(
        schedule,
        checkin_margin=row.checkin_margin,
        max_runtime=row.max_runtime,
        timezone=row.timezone,
        failure_issue_threshold=row.failure_issue_threshold,
        recovery_threshold=row.recovery_threshold,
    )
    return MonitorRow(
        id=row.id,
        project_id=row.project_id,
        slug=row.slug,
        config=config,
        muted=bool(row.muted),
        config_error=row.config_error,
        created_at=row.created_at,
    )


def create_monitor(
    conn: Connection, project_id: int, slug: str, config: MonitorConfig, now: float
) -> MonitorRow:
    """A new monitor that has not checked in yet. Two digest workers making the same one race on
    the (project, slug) key; the loser's batch runs again and finds it (shoal/digest/store.py)."""
    values = {
        "project_id": project_id,
        "slug": slug,
        **_config_values(config),
        "muted": False,
        "created_at": now,
    }
    monitor_id = conn.execute(insert(monitor).values(values).returning(monitor.c.id)).scalar_one()
    found = get_monitor(conn, int(monitor_id))
    assert found is not None
    return found


def get_monitor(conn: Connection, monitor_id: int) -> MonitorRow | None:
    row = conn.execute(select(monitor).where(monitor.c.id == monitor_id)).first()
    return _monitor_row(row) if row is not None else None


def monitor_by_slug(conn: Connection, project_id: int, slug: str) -> MonitorRow | None:
    row = conn.execute(
        select(monitor).where(monitor.c.project_id == project_id, monitor.c.slug == slug)
    ).first()
    return _monitor_row(row) if row is not None else None


def project_monitors(conn: Connection, project_id: int) -> list[MonitorRow]:
    rows = conn.execute(select(monitor).where(monitor.c.project_id == project_id).order_by(monitor.c.slug))
    return [_monitor_row(row) for row in rows]


def save_config(conn: Connection, monitor_id: int, config: MonitorConfig) -> None:
    """A new configuration; clears a previous config error."""
    values = {**_config_values(config), "config_error": None}
    conn.execute(update(monitor).where(monitor.c.id == monitor_id).values(values))


def set_config_error(conn: Connection, monitor_id: int, error: str | None) -> None:
    conn.execute(update(monitor).where(monitor.c.id == monitor_id).values(config_error=error))


def set_muted(conn: Connection, monitor_id: int, muted: bool) -> None:
    conn.execute(update(monitor).where(monitor.c.id == monitor_id).values(muted=muted))


def delete_monitor(conn: Connection, monitor_id: int) -> None:
    conn.execute(delete(monitor).where(monitor.c.id == monitor_id))


# -------------------------------------------------------------------------------- environments


def _environment_row(row: Row[Any]) -> EnvironmentRow:
    return EnvironmentRow(
        id=row.id,
        monitor_id=row.monitor_id,
        environment=row.environment,
        status=row.status,
        consecutive_failures=row.consecutive_failures,
        consecutive_successes=row.consecutive_successes,
        last_checkin=row.last_checkin,
        next_checkin=row.next_checkin,
        next_checkin_latest=row.next_checkin_latest,
        created_at=row.created_at,
    )


def create_environment(conn: Connection, monitor_id: int, name: str, now: float) -> EnvironmentRow:
    """The monitor's state in an environment it had no check-in in yet. Two digest workers making
    the same one race on the (monitor, environment) key; the loser's batch runs again."""
    values = {
        "monitor_id": monitor_id,
        "environment": name,
        "status": "active",
        "consecutive_failures": 0,
        "consecutive_successes": 0,
        "created_at": now,
    }
    row_id = conn.execute(
        insert(monitor_environment).values(values).returning(monitor_environment.c.id)
    ).scalar_one()
    found = get_environment(conn, int(row_id))
    assert found is not None
    return found


def get_environment(conn: Connection, environment_id: int) -> EnvironmentRow | None:
    row = conn.execute(select(monitor_environment).where(monitor_environment.c.id == environment_id)).first()
    return _environment_row(row) if row is not None else None


def environment_by_name(conn: Connection, monitor_id: int, name: str) -> EnvironmentRow | None:
    row = conn.execute(
        select(monitor_environment).where(
            monitor_environment.c.monitor_id == monitor_id, monitor_environment.c.environment == name
        )
    ).first()
    return _environment_row(row) if row is not None else None


def monitor_environments(conn: Connection, monitor_ids: Sequence[int]) -> dict[int, list[EnvironmentRow]]:
    """Each monitor's environments, by name; a monitor with none yet maps to an empty list."""
    found: dict[int, list[EnvironmentRow]] = {monitor_id: [] for monitor_id in monitor_ids}
    rows = conn.execute(
        select(monitor_environment)
        .where(monitor_environment.c.monitor_id.in_(monitor_ids))
        .order_by(monitor_environment.c.environment)
    )
    for row in rows:
        found[row.monitor_id].append(_environment_row(row))
    return found


def set_environment_state(conn: Connection, environment_id: int, **values: Any) -> None:
    """Status, counters, last and next check-in: what a check-in changes (the caller decides)."""
    conn.execute(
        update(monitor_environment).where(monitor_environment.c.id == environment_id).values(**values)
    )


def any_failing(conn: Connection, monitor_id: int) -> bool:
    row = conn.execute(
        select(monitor_environment.c.id).where(
            monitor_environment.c.monitor_id == monitor_id, monitor_environment.c.status.in_(FAILING)
        )
    ).first()
    return row is not None


# ------------------------------------------------------------------------------------ check-ins


def _check_in_row(row: Row[Any]) -> CheckInRow:
    return CheckInRow(
        id=row.id,
        monitor_id=row.monitor_id,
        monitor_environment_id=row.monitor_environment_id,
        check_in_id=row.check_in_id,
        status=row.status,
        environment=row.environment,
        release=row.release,
        duration=row.duration,
        expected_at=row.expected_at,
        timeout_at=row.timeout_at,
        date_added=row.date_added,
        date_updated=row.date_updated,
    )


def check_in_by_id(conn: Connection, monitor_id: int, check_in_id: str) -> CheckInRow | None:
    row = conn.execute(
        select(monitor_checkin).where(
            monitor_checkin.c.monitor_id == monitor_id, monitor_checkin.c.check_in_id == check_in_id
        )
    ).first()
    return _check_in_row(row) if row is not None else None


def latest_in_progress(conn: Connection, environment_id: int) -> CheckInRow | None:
    """The environment's newest check-in still in progress: what a check-in with the nil id closes."""
    row = conn.execute(
        select(monitor_checkin)
        .where(
            monitor_checkin.c.monitor_environment_id == environment_id,
            monitor_checkin.c.status == "in_progress",
        )
        .order_by(monitor_checkin.c.date_added.desc(), monitor_checkin.c.id.desc())
        .limit(1)
    ).first()
    return _check_in_row(row) if row is not None else None


def insert_check_in(conn: Connection, new: NewCheckIn) -> None:
    conn.execute(
        insert(monitor_checkin).values(
            monitor_id=new.monitor_id,
            monitor_environment_id=new.monitor_environment_id,
            project_id=new.project_id,
            check_in_id=new.check_in_id,
            status=new.status,
            environment=new.environment,
            release=new.release,
            duration=new.duration,
            expected_at=new.expected_at,
            timeout_at=new.timeout_at,
            trace_id=new.trace_id,
            date_added=new.at,
            date_updated=new.at,
        )
    )


def close_check_in(conn: Connection, row_id: int, status: str, duration: float, now: float) -> bool:
    """In progress → ok, error or timeout; False when it was not in progress any more (another
    check-in or the scheduler closed it first)."""
    changed = conn.execute(
        update(monitor_checkin)
        .where(monitor_checkin.c.id == row_id, monitor_checkin.c.status == "in_progress")
        .values(status=status, duration=duration, timeout_at=None, date_updated=now)
    ).rowcount
    return bool(changed == 1)


def recent_check_ins(conn: Connection, monitor_id: int, limit: int) -> list[CheckInRow]:
    """Newest first."""
    rows = conn.execute(
        select(monitor_checkin)
        .where(monitor_checkin.c.monitor_id == monitor_id)
        .order_by(monitor_checkin.c.date_added.desc(), monitor_checkin.c.id.desc())
        .limit(limit)
    )
    return [_check_in_row(row) for row in rows]


def check_ins_page(
    conn: Connection, monitor_id: int, environments: Sequence[str], offset: int, limit: int
) -> list[CheckInRow]:
    """Newest first, from `offset`; only those of `environments` when any are named."""
    query = select(monitor_checkin).where(monitor_checkin.c.monitor_id == monitor_id)
    if environments:
        query = query.where(monitor_checkin.c.environment.in_(environments))
    query = query.order_by(monitor_checkin.c.date_added.desc(), monitor_checkin.c.id.desc())
    return [_check_in_row(row) for row in conn.execute(query.offset(offset).limit(limit))]


def check_in_count(conn: Connection, monitor_id: int) -> int:
    query = (
        select(func.count()).select_from(monitor_checkin).where(monitor_checkin.c.monitor_id == monitor_id)
    )
    return int(conn.execute(query).scalar_one())


# -------------------------------------------------------------------------- what the scheduler finds


def overdue_environments(conn: Connection, now: float, limit: int) -> list[EnvironmentRow]:
    """Monitor environments whose next check-in is past due, margin included."""
    rows = conn.execute(
        select(monitor_environment)
        .where(monitor_environment.c.next_checkin_latest <= now)
        .order_by(monitor_environment.c.next_checkin_latest, monitor_environment.c.id)
        .limit(limit)
    )
    return [_environment_row(row) for row in rows]


def advance_missed(
    conn: Connection, found: EnvironmentRow, next_checkin: float | None, margin_seconds: float
) -> bool:
    """Move an environment found overdue to its next expected check-in, if nobody did meanwhile
    (another scheduler, or a check-in that arrived): only then is the check-in missed."""
    return schedule_environment(
        conn, found.id, next_checkin, margin_seconds, unless_moved_from=found.next_checkin_latest
    )


def schedule_environment(
    conn: Connection,
    environment_id: int,
    next_checkin: float | None,
    margin_seconds: float,
    *,
    unless_moved_from: float | None = None,
) -> bool:
    """Set when the environment's next check-in is due; with `unless_moved_from`, only if its
    deadline is still that one. Whether the row changed."""
    latest = next_checkin + margin_seconds if next_checkin is not None else None
    query = update(monitor_environment).where(monitor_environment.c.id == environment_id)
    if unless_moved_from is not None:
        query = query.where(monitor_environment.c.next_checkin_latest == unless_moved_from)
    changed = conn.execute(query.values(next_checkin=next_checkin, next_checkin_latest=latest)).rowcount
    return bool(changed == 1)


def timed_out_check_ins(conn: Connection, now: float, limit: int) -> list[CheckInRow]:
    rows = conn.execute(
        select(monitor_checkin)
        .where(monitor_checkin.c.timeout_at <= now, monitor_checkin.c.status == "in_progress")
        .order_by(monitor_checkin.c.timeout_at, monitor_checkin.c.id)
        .limit(limit)
    )
    return [_check_in_row(row) for row in rows]


def resolve_recovered_issue(conn: Connection, issue_id: int, slug: str, now: float) -> bool:
    """Unresolved → resolved when the monitor checks in ok again: a conditional update, so that of
    two workers only one resolves it and writes the activity."""
    changed = conn.execute(
        update(issue)
        .where(issue.c.id == issue_id, issue.c.status == "unresolved")
        .values(status="resolved", substatus="", resolved_at=now)
    ).rowcount
    if changed != 1:
        return False
    data = {"reason": f"monitor {slug} checked in ok"}
    triage.add_activity(conn, issue_id, None, "set_resolved", data=data, now=now)
    return True


# ------------------------------------------------------------------------------------ retention


def delete_check_ins_before(conn: Connection, project_id: int, cutoff: float, limit: int) -> int:
    """Up to `limit` of the project's check-ins made before `cutoff`; how many went."""
    ids = select(monitor_checkin.c.id).where(
        monitor_checkin.c.project_id == project_id, monitor_checkin.c.date_added < cutoff
    )
    chosen: Sequence[int] = conn.execute(ids.limit(limit)).scalars().all()
    if not chosen:
        return 0
    conn.execute(delete(monitor_checkin).where(monitor_checkin.c.id.in_(chosen)))
    return len(chosen)
