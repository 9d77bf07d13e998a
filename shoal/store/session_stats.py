"""Release health read from the session counters: a release's sessions and users per environment
with their crash-free rates, the crash-free rate of each release in a list, and the sessions a
project started in a time window (the "percent of sessions" alert trigger).

Rates are Sentry's: crash-free sessions = 1 − crashed ÷ started; crash-free users = 1 − users
with a crashed session ÷ users. Abnormal and errored sessions are not crashes; they are counted
and shown beside. A rate with nothing to divide by is None ("no data"), never 100 %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select

from shoal.store.schema import session_count_hour, session_user_hour
from shoal.store.session_counts import Health


@dataclass(frozen=True)
class SessionHealth:
    """Sessions and users of a release in one environment ("" for none), or in all (None)."""

    environment: str | None
    started: int
    errored: int  # errored only: neither crashed nor abnormal
    crashed: int
    abnormal: int
    users: int
    crashed_users: int

    @property
    def healthy(self) -> int:
        return self.started - self.errored - self.crashed - self.abnormal

    @property
    def crash_free_sessions(self) -> float | None:
        return 1 - self.crashed / self.started if self.started else None

    @property
    def crash_free_users(self) -> float | None:
        return 1 - self.crashed_users / self.users if self.users else None


@dataclass(frozen=True)
class ReleaseHealth:
    environments: list[SessionHealth]  # by environment name
    total: SessionHealth


def release_health(conn: Connection, project_id: int, version: str) -> ReleaseHealth | None:
    """The release's session health per environment and in all; None when it has no sessions."""
    per_environment = _users(conn, project_id, [version], by_environment=True)
    everywhere = _users(conn, project_id, [version], by_environment=False)
    environments = [
        SessionHealth(environment, *counts, *per_environment.get((version, environment), (0, 0)))
        for (_, environment), counts in sorted(
            _counts(conn, project_id, [version], by_environment=True).items()
        )
    ]
    if not environments:
        return None
    totals = _counts(conn, project_id, [version], by_environment=False).get((version, None), (0, 0, 0, 0))
    total = SessionHealth(None, *totals, *everywhere.get((version, None), (0, 0)))
    return ReleaseHealth(environments, total)


def releases_health(conn: Connection, project_id: int, versions: Sequence[str]) -> dict[str, SessionHealth]:
    """Each release's session health in all environments, for those of `versions` with sessions."""
    if not versions:
        return {}
    users = _users(conn, project_id, versions, by_environment=False)
    return {
        version: SessionHealth(None, *counts, *users.get((version, None), (0, 0)))
        for (version, _), counts in _counts(conn, project_id, versions, by_environment=False).items()
    }


def _counts(
    conn: Connection, project_id: int, versions: Sequence[str], *, by_environment: bool
) -> dict[tuple[str, str | None], tuple[int, int, int, int]]:
    """Started, errored, crashed and abnormal sessions per release (and environment)."""
    t = session_count_hour.c
    groups = [t.release, *([t.environment] if by_environment else [])]
    sums = [func.sum(t.started), func.sum(t.errored), func.sum(t.crashed), func.sum(t.abnormal)]
    query = (
        select(*groups, *sums)
        .where(t.project_id == project_id, t.release.in_(sorted(set(versions))))
        .group_by(*groups)
    )
    return {
        (row[0], row[1] if by_environment else None): (
            int(row[-4] or 0),
            int(row[-3] or 0),
            int(row[-2] or 0),
            int(row[-1] or 0),
        )
        for row in conn.execute(query)
    }


def _users(
    conn: Connection, project_id: int, versions: Sequence[str], *, by_environment: bool
) -> dict[tuple[str, str | None], tuple[int, int]]:
    """Distinct users, and those of them with a crashed session, exactly: one row per user, hour
    and environment is kept, so a user is counted once however many sessions or hours they had."""
    t = session_user_hour.c
    groups = [t.release, *([t.environment] if by_environment else [])]
    crashed = case((t.health == int(Health.CRASHED), t.user_hash))
    query = (
        select(*groups, func.count(t.user_hash.distinct()), func.count(crashed.distinct()))
        .where(t.project_id == project_id, t.release.in_(sorted(set(versions))))
        .group_by(*groups)
    )
    return {
        (row[0], row[1] if by_environment else None): (int(row[-2]), int(row[-1]))
        for row in conn.execute(query)
    }


# (project, hour, environment) → sessions started
StartedPerHour = Mapping[tuple[int, int, str], int]


def sessions_started_per_hour(
    conn: Connection, project_ids: Sequence[int], since: float
) -> dict[tuple[int, int, str], int]:
    """Sessions started per project, hour and environment, in every release, from `since` on."""
    if not project_ids:
        return {}
    t = session_count_hour.c
    rows = conn.execute(
        select(t.project_id, t.hour, t.environment, func.sum(t.started))
        .where(t.project_id.in_(sorted(set(project_ids))), t.hour >= int(since // 3600))
        .group_by(t.project_id, t.hour, t.environment)
    )
    return {(row[0], row[1], row[2]): int(row[3] or 0) for row in rows}


def sessions_in_window(
    per_hour: StartedPerHour, project_id: int, now: float, seconds: int, environment: str | None
) -> float:
    """Sessions the project started in the window that ends now (in one environment if given).
    The counters are per hour, so an hour the window only partly covers counts in proportion to
    the part covered of what of it has passed, assuming its sessions spread evenly over it."""
    start = now - seconds
    total = 0.0
    for (project, hour, env), started in per_hour.items():
        if project != project_id or (environment is not None and env != environment):
            continue
        begins, ends = hour * 3600, min(now, (hour + 1) * 3600)
        covered = min(ends, now) - max(begins, start)
        if covered > 0 and ends > begins:
            total += started * covered / (ends - begins)
    return total
