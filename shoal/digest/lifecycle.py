"""Issue state changes that events cause, inside the digest transaction: a resolved issue that
gets an event **regresses** (release-aware), an ignored issue whose condition trips **escalates**.

Regression (reference §3.3): plain "resolve" regresses on any event; "resolved in release R" on an
event of R or a later release; "resolved in the next release" only on an event of a release newer
than the newest one the issue had been seen in. An event without a release never regresses a
release resolution. "Later" is semver order when both releases are semver; otherwise the releases'
dates (when each was released, else made); and when a release has no row yet, a release the issue
had already been seen in before it was resolved is older, and any other is newer.

Escalation: ignored until a time → the first event after it; until N more events (or users) → the
event that makes it more than N since the issue was ignored, or within the window when one is set
("until 10 more events in 1 hour" escalates on the 11th). Ignored forever never escalates.

Both are conditional updates (`shoal.store.triage.regress` / `escalate`), so when workers race only
one of them reports the change, and only that one can fire a regression or escalation alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from shoal.digest.pipeline import DigestedEvent
from shoal.release_versions import compare_releases
from shoal.store import events, issues, release_stats, triage
from shoal.store.schema import issue, issue_tag
from shoal.store.triage import Resolution, StoredSnooze


@dataclass
class Transitions:
    """Which event of the batch (its index) regressed or escalated which issue."""

    regressed_by: dict[int, int] = field(default_factory=dict)
    escalated_by: dict[int, int] = field(default_factory=dict)


def apply_transitions(
    conn: Connection, batch: list[DigestedEvent], issue_ids: list[int], now: float
) -> Transitions:
    statuses = issues.statuses(conn, set(issue_ids))
    resolved = {i for i, status in statuses.items() if status == "resolved"}
    ignored = {i for i, status in statuses.items() if status == "ignored"}
    return Transitions(
        regressed_by=_regress(conn, batch, issue_ids, resolved, now) if resolved else {},
        escalated_by=_escalate(conn, issue_ids, ignored, now) if ignored else {},
    )


def _regress(
    conn: Connection, batch: list[DigestedEvent], issue_ids: list[int], resolved: set[int], now: float
) -> dict[int, int]:
    resolutions = triage.resolutions(conn, resolved)
    regressed_by: dict[int, int] = {}
    for index, (e, issue_id) in enumerate(zip(batch, issue_ids, strict=True)):
        if issue_id not in resolved or issue_id in regressed_by:
            continue
        resolution = resolutions.get(issue_id)
        if is_regression(conn, issue_id, resolution, e.release) and triage.regress(
            conn, issue_id, e.release, now, event_id=e.event_id
        ):
            regressed_by[issue_id] = index
    return regressed_by


def is_regression(
    conn: Connection, issue_id: int, resolution: Resolution | None, release: str | None
) -> bool:
    """Whether an event of `release` regresses the resolved issue (reference §3.3, §7.3): "resolved
    in R" on R or a later release, "in the next release" on a release later than R. "Later" is
    semver order when both are semver; else the releases' dates (COALESCE(date_released,
    date_created), as Sentry orders them); else, when a release has no row, not seen by the issue
    before it was resolved."""
    if resolution is None:
        return True
    if release is None:
        return False
    if resolution.release is None:  # resolved in the next release before any release was seen
        return True
    if release == resolution.release:
        return resolution.kind == "in_release"
    order = compare_releases(release, resolution.release)
    if order is None:
        order = release_stats.date_order(conn, issue_id, release, resolution.release)
    if order is None:
        return not _seen_before(conn, issue_id, release, resolution)
    # Semver-equal versions (1.2 and 1.2.0, or two builds of one version) are the resolving
    # release for "resolved in R", which regresses on R itself.
    return order > 0 or (order == 0 and resolution.kind == "in_release")


def _seen_before(conn: Connection, issue_id: int, release: str, resolution: Resolution) -> bool:
    first_seen = conn.execute(
        select(issue_tag.c.first_seen).where(
            issue_tag.c.issue_id == issue_id, issue_tag.c.key == "release", issue_tag.c.value == release
        )
    ).scalar()
    return first_seen is not None and first_seen < resolution.created_at


def _escalate(conn: Connection, issue_ids: list[int], ignored: set[int], now: float) -> dict[int, int]:
    """The issues whose snooze tripped, each with its last event of the batch."""
    snoozes = triage.snoozes(conn, ignored)
    last_index = {issue_id: index for index, issue_id in enumerate(issue_ids) if issue_id in ignored}
    escalated_by: dict[int, int] = {}
    for issue_id, index in sorted(last_index.items()):
        snooze = snoozes.get(issue_id)
        why = None if snooze is None else tripped(conn, issue_id, snooze, now)
        if why is not None and triage.escalate(conn, issue_id, why, now):
            escalated_by[issue_id] = index
    return escalated_by


def tripped(conn: Connection, issue_id: int, snooze: StoredSnooze, now: float) -> str | None:
    """Why the snooze no longer holds, or None while it does."""
    if snooze.until is not None and now >= snooze.until:
        return "the time it was ignored for has passed"
    row = conn.execute(select(issue.c.times_seen, issue.c.users_seen).where(issue.c.id == issue_id)).one()
    if snooze.count is not None:
        seen = (
            row.times_seen - snooze.times_seen_at
            if snooze.window is None
            else _events_since_ignored(conn, issue_id, snooze, snooze.window, now)
        )
        if seen > snooze.count:
            return f"{seen} events > {snooze.count} since it was ignored{_within(snooze.window)}"
    if snooze.user_count is not None:
        seen = (
            row.users_seen - snooze.users_seen_at
            if snooze.user_window is None
            else events.users_after(conn, issue_id, max(snooze.created_at, now - snooze.user_window * 60))
        )
        if seen > snooze.user_count:
            return f"{seen} users > {snooze.user_count} since it was ignored{_within(snooze.user_window)}"
    return None


def _events_since_ignored(
    conn: Connection, issue_id: int, snooze: StoredSnooze, window: int, now: float
) -> int:
    """Events in the window, but none from before the issue was ignored: those were seen."""
    since = max(snooze.created_at, now - window * 60)
    return events.count_after(conn, issue_id, since)


def _within(window: int | None) -> str:
    return f" within {window} minutes" if window else ""
