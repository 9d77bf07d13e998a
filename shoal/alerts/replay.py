""" "Test this rule": replay a project's stored events of the last days through a rule, unsaved, and
say when it would have fired.

The replay walks the events in time order and evaluates the rule on each as the digest would at
that moment: the first event of an issue is "new", frequency windows end at the event's time and
count the replayed events before it, the action interval throttles per issue. What it cannot
know is left out and said so on the page: issue states of the past (every issue is taken as
unresolved, so regression and escalation triggers never pass) and assignees (taken as none).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from shoal.alerts.attributes import attribute_values
from shoal.alerts.evaluate import Context, EventFacts, IssueFacts, evaluate
from shoal.alerts.model import RuleSpec
from shoal.digest.tags import event_tags
from shoal.store.events import PayloadCodec
from shoal.store.schema import event, issue, project
from shoal.store.session_stats import StartedPerHour, sessions_in_window, sessions_started_per_hour

MAX_EVENTS = 20_000  # about two seconds of decoding; a longer history is cut at its newest part


@dataclass(frozen=True)
class ReplayFiring:
    at: float
    issue_id: int
    issue_short_id: str
    issue_title: str
    event_id: str
    reason: str


@dataclass(frozen=True)
class ReplayResult:
    events_replayed: int
    issues_seen: int
    firings: list[ReplayFiring]
    truncated: bool  # there were more than MAX_EVENTS events: only the newest were replayed


@dataclass
class _Seen:
    """What the replay has seen of one issue so far, in time order."""

    times: list[float] = field(default_factory=list)
    users: list[str | None] = field(default_factory=list)
    environments: list[str | None] = field(default_factory=list)
    last_fired: float | None = None

    def add(self, timestamp: float, user: str | None, environment: str | None) -> None:
        self.times.append(timestamp)
        self.users.append(user)
        self.environments.append(environment)

    def window_start(self, seconds: int) -> int:
        """Index of the first event inside the window that ends at the newest event."""
        return bisect.bisect_left(self.times, self.times[-1] - seconds)


class _ReplayCounts:
    """Window counts over the replayed events, as of the event being evaluated."""

    def __init__(self, seen: dict[int, _Seen], project_id: int, started: StartedPerHour) -> None:
        self._seen = seen
        self._project_id = project_id
        self._started = started  # the project's sessions per hour over the replayed days

    def events(self, issue_id: int, seconds: int, environment: str | None) -> int:
        seen = self._seen[issue_id]
        start = seen.window_start(seconds)
        return sum(1 for env in seen.environments[start:] if environment in (None, env))

    def users(self, issue_id: int, seconds: int, environment: str | None) -> int:
        seen = self._seen[issue_id]
        start = seen.window_start(seconds)
        pairs = zip(seen.users[start:], seen.environments[start:], strict=True)
        return len({user for user, env in pairs if user is not None and environment in (None, env)})

    def sessions(self, issue_id: int, seconds: int, environment: str | None) -> float:
        now = self._seen[issue_id].times[-1]
        return sessions_in_window(self._started, self._project_id, now, seconds, environment)


def replay_rule(conn: Connection, project_id: int, spec: RuleSpec, now: float, days: int = 7) -> ReplayResult:
    since = now - days * 86400
    rows, truncated = _events(conn, project_id, since, now)
    before = _times_seen_before(conn, project_id, since)
    codec = PayloadCodec()
    seen: dict[int, _Seen] = defaultdict(_Seen)
    counts = _ReplayCounts(seen, project_id, sessions_started_per_hour(conn, [project_id], since - 3600))
    latest_release: str | None = None
    firings: list[ReplayFiring] = []
    for row in rows:
        issue_seen = seen[row.issue_id]
        is_new = not issue_seen.times and row.timestamp <= row.first_seen
        issue_seen.add(row.timestamp, row.user_key, row.environment)
        latest_release = row.release or latest_release
        if issue_seen.last_fired is not None and issue_seen.last_fired > row.timestamp - spec.frequency * 60:
            continue
        times_seen = before.get(row.issue_id, 0) + len(issue_seen.times)
        data = codec.decode(row.payload)
        context = _context(
            row, data, counts, is_new=is_new, times_seen=times_seen, latest_release=latest_release
        )
        verdict = evaluate(spec, context)
        if verdict.passed:
            issue_seen.last_fired = row.timestamp
            short_id = f"{row.slug.upper()}-{row.short_id}"
            firings.append(
                ReplayFiring(row.timestamp, row.issue_id, short_id, row.title, row.event_id, verdict.reason)
            )
    return ReplayResult(len(rows), len(seen), firings, truncated)


def _events(conn: Connection, project_id: int, since: float, until: float) -> tuple[list[Any], bool]:
    """The newest MAX_EVENTS events of the period, oldest first, and whether there were more."""
    rows = conn.execute(
        select(
            event.c.event_id,
            event.c.issue_id,
            event.c.timestamp,
            event.c.level,
            event.c.release,
            event.c.environment,
            event.c.user_key,
            event.c.payload,
            issue.c.first_seen,
            issue.c.title,
            issue.c.short_id,
            project.c.slug,
        )
        .join(issue, issue.c.id == event.c.issue_id)
        .join(project, project.c.id == event.c.project_id)
        .where(event.c.project_id == project_id, event.c.timestamp >= since, event.c.timestamp <= until)
        .order_by(event.c.timestamp.desc(), event.c.id.desc())
        .limit(MAX_EVENTS + 1)
    ).all()
    return list(reversed(rows[:MAX_EVENTS])), len(rows) > MAX_EVENTS


def _times_seen_before(conn: Connection, project_id: int, since: float) -> dict[int, int]:
    """Events of each issue before the replayed days: "the issue has happened at least N times"."""
    rows = conn.execute(
        select(event.c.issue_id, func.count())
        .where(event.c.project_id == project_id, event.c.timestamp < since)
        .group_by(event.c.issue_id)
    )
    return {issue_id: int(count) for issue_id, count in rows}


def _context(
    row: Any,
    data: dict[str, Any],
    counts: _ReplayCounts,
    *,
    is_new: bool,
    times_seen: int,
    latest_release: str | None,
) -> Context:
    return Context(
        issue=IssueFacts(row.issue_id, row.first_seen, times_seen, None),
        event=EventFacts(
            event_id=row.event_id,
            level=row.level,
            environment=row.environment,
            release=row.release,
            tags=event_tags(data),
            attribute=lambda name: attribute_values(data, name),
            is_new=is_new,
        ),
        counts=counts,
        latest_release=lambda: latest_release,
        now=row.timestamp,
    )
