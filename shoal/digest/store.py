"""Write a digested batch to the store in one transaction.

Order inside the transaction: drop events already stored (idempotence on (project, event_id)) →
find or create each event's issue by its hashes (first known hash wins; every hash of the event is
then attached to that issue) → insert the events → add to issue counters, tag counts, per-minute
and per-hour counts, users seen, the project's stored-event count → state changes the events
cause (regressions, escalations: `lifecycle.py`) → alert rules, their decision log and the
notification outbox (`alerts.py`) → the outcome counters. Alerts come last so that they see the
batch counted in ("more than 100 in 1h" includes the 101st event) and the issue's new state.

Two PostgreSQL workers can race to create the issue for the same new hash; the loser's hash insert
fails on the primary key, its whole transaction rolls back and `store_with_retries` runs the batch
again, which then finds the winner's issue. One issue, one creation, by construction.

Lock order, so that workers wait for each other instead of deadlocking: the batch's project rows
first (the stored-event counter), then issue rows in id order, then aggregate rows in key order.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from shoal.digest.alerts import evaluate_batch
from shoal.digest.decision_memory import DecisionMemory
from shoal.digest.lifecycle import apply_transitions
from shoal.digest.pipeline import DigestedEvent
from shoal.outcomes import Category, Outcome, OutcomeKey
from shoal.store import aggregates, events, issues, releases, triage
from shoal.store.aggregates import TagCount
from shoal.store.alert_state import Decision
from shoal.store.db import write_transaction

log = logging.getLogger(__name__)

RACE_RETRIES = 5
# PostgreSQL's unique violation (another worker inserted the same hash or event first), "deadlock
# detected" and "could not serialize": the transaction may simply run again.
_RETRYABLE_SQLSTATES = frozenset({"23505", "40P01", "40001"})


@dataclass(frozen=True)
class StoreResult:
    stored: int
    duplicates: int
    new_issue_ids: list[int]
    decisions: list[Decision]


def store_with_retries(
    engine: Engine,
    batch: list[DigestedEvent],
    outcomes: Counter[OutcomeKey],
    now: float,
    memory: DecisionMemory | None = None,
) -> StoreResult:
    """`store_batch` in its own transaction, run again when it lost a race with another worker.
    `memory` learns the decisions logged once they are committed."""
    attempt = 1
    while True:
        try:
            with write_transaction(engine) as conn:
                result = store_batch(conn, batch, outcomes, now, memory)
            if memory is not None:
                memory.remember(result.decisions)
            return result
        except DBAPIError as exc:
            if attempt >= RACE_RETRIES or not _lost_a_race(exc):
                raise
            log.info(
                "lost a race with another worker (attempt %d): %s; storing the batch again",
                attempt,
                type(exc.orig).__name__,
            )
            attempt += 1


def _lost_a_race(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    # SQLite has one writer at a time, so it only gets here when two digest processes share a file.
    return isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc.orig)


def store_batch(
    conn: Connection,
    batch: list[DigestedEvent],
    outcomes: Counter[OutcomeKey],
    now: float,
    memory: DecisionMemory | None = None,
) -> StoreResult:
    fresh = _without_duplicates(conn, batch)
    aggregates.add_events_stored(conn, Counter(e.project_id for e in fresh))
    issue_ids, new_issue_ids = _assign_issues(conn, fresh)
    events.insert_events(
        conn, [_new_event(e, issue_id) for e, issue_id in zip(fresh, issue_ids, strict=True)]
    )
    count_into_issues(conn, fresh, issue_ids)
    releases.record_release_events(conn, _release_counts(fresh), now)
    triage.add_first_seen(conn, new_issue_ids, now)
    transitions = apply_transitions(conn, fresh, issue_ids, now)
    decisions = evaluate_batch(
        conn,
        fresh,
        issue_ids=issue_ids,
        new_issue_ids=new_issue_ids,
        transitions=transitions,
        now=now,
        memory=memory,
    )

    accepted = Counter(OutcomeKey(e.project_id, Category.ERROR, Outcome.ACCEPTED, "") for e in fresh)
    aggregates.add_outcomes(conn, int(now // 3600), outcomes + accepted)
    return StoreResult(len(fresh), len(batch) - len(fresh), new_issue_ids, decisions)


def count_into_issues(conn: Connection, batch: list[DigestedEvent], issue_ids: list[int]) -> None:
    """Add events to their issues' counters, tag counts, per-minute and per-hour counts and users
    seen. Also how merging and regrouping rebuild an issue: by counting its events again."""
    issues.apply_issue_updates(conn, _issue_updates(batch, issue_ids))
    tag_counts = _tag_counts(batch, issue_ids)
    aggregates.add_tag_counts(conn, tag_counts)
    aggregates.add_issue_counts(conn, *_time_buckets(batch, issue_ids))
    issues.recount_users(conn, {issue_id for issue_id, key, _ in tag_counts if key == "user"})


def _without_duplicates(conn: Connection, batch: list[DigestedEvent]) -> list[DigestedEvent]:
    stored = {
        (project_id, event_id)
        for project_id, members in _by_project(batch).items()
        for event_id in events.existing_event_ids(conn, project_id, (e.event_id for e in members))
    }
    fresh = []
    for e in batch:
        key = (e.project_id, e.event_id)
        if key not in stored:
            stored.add(key)  # a second copy within the same batch is a duplicate too
            fresh.append(e)
    return fresh


def _assign_issues(conn: Connection, batch: list[DigestedEvent]) -> tuple[list[int], list[int]]:
    known = {
        (project_id, h): issue_id
        for project_id, members in _by_project(batch).items()
        for h, issue_id in issues.issues_by_hash(
            conn, project_id, {h for e in members for h in e.hashes}
        ).items()
    }
    new_hashes: list[tuple[int, str, int]] = []
    issue_ids: list[int] = []
    new_issue_ids: list[int] = []
    for e in batch:
        issue_id = next((known[(e.project_id, h)] for h in e.hashes if (e.project_id, h) in known), None)
        if issue_id is None:
            issue_id = issues.create_issue(conn, new_issue_for(e))
            new_issue_ids.append(issue_id)
        for h in e.hashes:
            if (e.project_id, h) not in known:
                known[(e.project_id, h)] = issue_id
                new_hashes.append((e.project_id, h, issue_id))
        issue_ids.append(issue_id)
    issues.attach_hashes(conn, new_hashes)
    return issue_ids, new_issue_ids


def _by_project(batch: list[DigestedEvent]) -> dict[int, list[DigestedEvent]]:
    members: dict[int, list[DigestedEvent]] = defaultdict(list)
    for e in batch:
        members[e.project_id].append(e)
    return members


def new_issue_for(e: DigestedEvent) -> issues.NewIssue:
    """The issue a first event starts: its headline, level, platform, time and release."""
    s = e.summary
    return issues.NewIssue(
        e.project_id, s.type, s.title, s.culprit, e.level, e.platform, s.metadata, e.timestamp, e.release
    )


def _new_event(e: DigestedEvent, issue_id: int) -> events.NewEvent:
    return events.NewEvent(
        project_id=e.project_id,
        event_id=e.event_id,
        issue_id=issue_id,
        timestamp=e.timestamp,
        received=e.received,
        level=e.level,
        release=e.release,
        environment=e.environment,
        user_key=e.user_key,
        grouping_config=e.grouping_config,
        hashes=e.hashes,
        payload=e.payload,
    )


def _issue_updates(batch: list[DigestedEvent], issue_ids: list[int]) -> list[issues.IssueUpdate]:
    by_issue: dict[int, list[DigestedEvent]] = defaultdict(list)
    for e, issue_id in zip(batch, issue_ids, strict=True):
        by_issue[issue_id].append(e)
    updates = []
    for issue_id, members in by_issue.items():
        newest = max(members, key=lambda e: e.timestamp)
        s = newest.summary
        updates.append(
            issues.IssueUpdate(
                issue_id=issue_id,
                times_seen=len(members),
                first_seen=min(e.timestamp for e in members),
                last_seen=newest.timestamp,
                title=s.title,
                culprit=s.culprit,
                level=newest.level,
                metadata=s.metadata,
                release=newest.release,
            )
        )
    return updates


def _tag_counts(batch: Iterable[DigestedEvent], issue_ids: list[int]) -> dict[tuple[int, str, str], TagCount]:
    counts: dict[tuple[int, str, str], TagCount] = {}
    for e, issue_id in zip(batch, issue_ids, strict=True):
        for key, value in e.tags:
            count = counts.get((issue_id, key, value))
            if count is None:
                counts[(issue_id, key, value)] = TagCount(1, e.timestamp, e.timestamp)
            else:
                count.times_seen += 1
                count.first_seen = min(count.first_seen, e.timestamp)
                count.last_seen = max(count.last_seen, e.timestamp)
    return counts


def _time_buckets(
    batch: Iterable[DigestedEvent], issue_ids: list[int]
) -> tuple[Counter[tuple[int, int, str]], Counter[tuple[int, int, str]]]:
    minutes: Counter[tuple[int, int, str]] = Counter()
    hours: Counter[tuple[int, int, str]] = Counter()
    for e, issue_id in zip(batch, issue_ids, strict=True):
        environment = e.environment or ""
        minutes[(issue_id, int(e.timestamp // 60), environment)] += 1
        hours[(issue_id, int(e.timestamp // 3600), environment)] += 1
    return minutes, hours


def _release_counts(batch: Iterable[DigestedEvent]) -> dict[tuple[int, str, str], releases.ReleaseEvents]:
    counts: dict[tuple[int, str, str], releases.ReleaseEvents] = {}
    for e in batch:
        if e.release is None:
            continue
        key = (e.project_id, e.release, e.environment or "")
        seen = counts.get(key)
        if seen is None:
            counts[key] = releases.ReleaseEvents(1, e.timestamp, e.timestamp)
        else:
            seen.events += 1
            seen.first_seen = min(seen.first_seen, e.timestamp)
            seen.last_seen = max(seen.last_seen, e.timestamp)
    return counts
